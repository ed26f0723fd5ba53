import { useState } from 'preact/hooks';
import { AgentService, ApiKeyService } from '../../../client/web.js';
import type { Agent } from '../../../../gen/sso/agent/v1/agent_service_pb.js';
import { may } from '../access.js';
import { useSession } from '../state.js';
import { NewButton, PagedRows, useCreateForm, usePagedList } from '../list-page.js';
import { DeleteRecord, RecordPending } from '../record-page.js';
import {
  ActionButton,
  ActionForm,
  CheckField,
  Chips,
  ListState,
  PageHeader,
  Status,
  Table,
  TextField,
  Time,
  splitList,
  useFields,
  useLoad,
  useNotice,
} from '../ui.js';
import { ApiKeysList } from './apikeys.js';

export function AgentsPage() {
  const session = useSession();
  const me = session.me!;
  const [notice, notify] = useNotice();
  const list = usePagedList((page) => session.sso.agents.listAgents(page), []);
  const create = useCreateForm((a: Agent) => {
    notify(`Created ${a.name}.`);
    list.reload();
  });
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Agents">
        {may(me, AgentService.method.createAgent) ? <NewButton label="New agent" form={create} /> : null}
      </PageHeader>
      <p class="muted">Service accounts: machines that sign in with an API key or an Ed25519 key pair.</p>
      {notice}
      {create.open ? <CreateAgent onCreated={create.created} /> : null}
      <PagedRows list={list} empty="No agents yet.">
        {(items) => (
          <Table
            items={items}
            rowKey={(a) => a.id}
            columns={[
              { header: 'Agent', cell: (a) => <a href={`#/agents/${a.id}`}>{a.name}</a> },
              { header: 'Scopes', cell: (a) => <Chips items={a.scopes} /> },
              { header: 'Status', cell: (a) => <Status active={a.isActive} /> },
              { header: 'Created', cell: (a) => <Time ts={a.createdAt} /> },
            ]}
          />
        )}
      </PagedRows>
    </section>
  );
}

function CreateAgent({ onCreated }: { onCreated: (a: Agent) => void }) {
  const session = useSession();
  const f = useFields({ name: '', scopes: '', description: '' });
  return (
    <ActionForm
      title="New agent"
      submit="Create agent"
      onSubmit={async () => {
        const { name, scopes, description } = f.values;
        const { agent } = await session.sso.agents.createAgent({ name, scopes: splitList(scopes), description });
        if (agent) onCreated(agent);
      }}
    >
      <TextField label="Name" {...f.bind('name')} required />
      <TextField label="Scopes" hint="e.g. read:users, separated by commas (at most your own)" {...f.bind('scopes')} />
      <TextField label="Description" {...f.bind('description')} />
    </ActionForm>
  );
}

export function AgentPage({ id }: { id: string }) {
  const session = useSession();
  const me = session.me!;
  const [notice, notify] = useNotice();
  const loaded = useLoad(() => session.sso.agents.getAgent({ id }), [id]);
  const agent = loaded.data?.agent;
  if (!agent) return <RecordPending title="Agent" error={loaded.error} />;
  return (
    <section aria-labelledby="page-title">
      <PageHeader title={agent.name}>
        <a href="#/agents">All agents</a>
      </PageHeader>
      {notice}
      <dl class="facts card">
        <dt>Id</dt>
        <dd class="mono">{agent.id}</dd>
        <dt>Scopes</dt>
        <dd>
          <Chips items={agent.scopes} />
        </dd>
        <dt>Status</dt>
        <dd>{agent.isActive ? 'active' : 'inactive'}</dd>
        <dt>Created</dt>
        <dd>
          <Time ts={agent.createdAt} />
        </dd>
      </dl>
      {may(me, AgentService.method.updateAgent) ? (
        <EditAgent
          agent={agent}
          onSaved={() => {
            notify('Saved.');
            loaded.reload();
          }}
        />
      ) : null}
      {may(me, ApiKeyService.method.listApiKeys) ? (
        <section class="card" aria-labelledby="agent-keys-title">
          <h2 id="agent-keys-title">API keys</h2>
          <ApiKeysList agentId={agent.id} />
        </section>
      ) : null}
      {may(me, AgentService.method.listAgentKeys) ? <PublicKeys agentId={agent.id} /> : null}
      {may(me, AgentService.method.deleteAgent) ? (
        <DeleteRecord
          label="Delete agent"
          confirm={`Delete ${agent.name}? Its keys stop working.`}
          remove={() => session.sso.agents.deleteAgent({ id: agent.id })}
          back="#/agents"
        />
      ) : null}
    </section>
  );
}

function EditAgent({ agent, onSaved }: { agent: Agent; onSaved: () => void }) {
  const session = useSession();
  const [scopes, setScopes] = useState(agent.scopes.join(', '));
  const [active, setActive] = useState(agent.isActive);
  return (
    <ActionForm
      title="Scopes and status"
      submit="Save"
      onSubmit={async () => {
        await session.sso.agents.updateAgent({
          id: agent.id,
          scopes: splitList(scopes),
          isActive: active,
          updateMask: { paths: ['scopes', 'is_active'] },
        });
        onSaved();
      }}
    >
      <TextField label="Scopes" value={scopes} onInput={setScopes} />
      <CheckField label="Active" checked={active} onChange={setActive} />
    </ActionForm>
  );
}

function PublicKeys({ agentId }: { agentId: string }) {
  const session = useSession();
  const me = session.me!;
  const list = useLoad(() => session.sso.agents.listAgentKeys({ agentId }), [agentId]);
  const f = useFields({ publicKey: '', name: '' });
  const canUpdate = may(me, AgentService.method.createAgentKey);
  return (
    <section class="card" aria-labelledby="pubkeys-title">
      <h2 id="pubkeys-title">Public keys (Ed25519)</h2>
      <ListState loaded={list} items={list.data?.items} empty="No public keys.">
        {(items) => (
          <ul class="plain">
            {items.map((k) => (
              <li key={k.kid}>
                <span class="mono">{k.kid}</span> {k.name}{' '}
                <span class="muted">
                  last used <Time ts={k.lastUsedAt} />
                </span>{' '}
                {canUpdate ? (
                  <ActionButton
                    label="Remove"
                    danger
                    confirm="Remove this key?"
                    run={async () => {
                      await session.sso.agents.deleteAgentKey({ agentId, kid: k.kid });
                      list.reload();
                    }}
                  />
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </ListState>
      {canUpdate ? (
        <ActionForm
          submit="Add public key"
          class="compact"
          onSubmit={async () => {
            await session.sso.agents.createAgentKey({ agentId, publicKey: f.values.publicKey.trim(), name: f.values.name });
            f.reset();
            list.reload();
          }}
        >
          <TextField label="Public key" hint="PEM (SPKI) or base64url of the 32 raw bytes" {...f.bind('publicKey')} required />
          <TextField label="Key name" {...f.bind('name')} />
        </ActionForm>
      ) : null}
    </section>
  );
}
