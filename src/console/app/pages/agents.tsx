import { useState } from 'preact/hooks';
import { AgentService, ApiKeyService } from '../../../client/web.js';
import type { Agent } from '../../../../gen/sso/agent/v1/agent_service_pb.js';
import { may } from '../access.js';
import { useSession } from '../state.js';
import {
  ActionButton,
  ActionForm,
  CheckField,
  Chips,
  ErrorNote,
  ListState,
  Loading,
  PageHeader,
  Status,
  Table,
  Pager,
  TextField,
  Time,
  splitList,
  useLoad,
  useNotice,
} from '../ui.js';
import { ApiKeysList } from './apikeys.js';

const limit = 20;

export function AgentsPage() {
  const session = useSession();
  const me = session.me!;
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const [notice, notify] = useNotice();
  const list = useLoad(() => session.sso.agents.listAgents({ offset, limit }), [offset]);
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Agents">
        {may(me, AgentService.method.createAgent) ? (
          <button type="button" class="primary" aria-expanded={creating} onClick={() => setCreating(!creating)}>
            New agent
          </button>
        ) : null}
      </PageHeader>
      <p class="muted">Service accounts: machines that sign in with an API key or an Ed25519 key pair.</p>
      {notice}
      {creating ? (
        <CreateAgent
          onCreated={(a) => {
            setCreating(false);
            notify(`Created ${a.name}.`);
            list.reload();
          }}
        />
      ) : null}
      <ListState loaded={list} items={list.data?.items} empty="No agents yet.">
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
      </ListState>
      {list.data ? <Pager offset={offset} limit={limit} total={list.data.total} onPage={setOffset} /> : null}
    </section>
  );
}

function CreateAgent({ onCreated }: { onCreated: (a: Agent) => void }) {
  const session = useSession();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState('');
  const [description, setDescription] = useState('');
  return (
    <ActionForm
      title="New agent"
      submit="Create agent"
      onSubmit={async () => {
        const { agent } = await session.sso.agents.createAgent({ name, scopes: splitList(scopes), description });
        if (agent) onCreated(agent);
      }}
    >
      <TextField label="Name" value={name} onInput={setName} required />
      <TextField label="Scopes" hint="e.g. read:users, separated by commas (at most your own)" value={scopes} onInput={setScopes} />
      <TextField label="Description" value={description} onInput={setDescription} />
    </ActionForm>
  );
}

export function AgentPage({ id }: { id: string }) {
  const session = useSession();
  const me = session.me!;
  const [notice, notify] = useNotice();
  const loaded = useLoad(() => session.sso.agents.getAgent({ id }), [id]);
  const agent = loaded.data?.agent;
  if (loaded.error)
    return (
      <section>
        <PageHeader title="Agent" />
        <ErrorNote error={loaded.error} />
      </section>
    );
  if (!agent)
    return (
      <section>
        <PageHeader title="Agent" />
        <Loading />
      </section>
    );
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
        <div class="card danger-zone">
          <h3>Delete agent</h3>
          <ActionButton
            label="Delete agent"
            danger
            confirm={`Delete ${agent.name}? Its keys stop working.`}
            run={async () => {
              await session.sso.agents.deleteAgent({ id: agent.id });
              location.hash = '#/agents';
            }}
          />
        </div>
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
  const [publicKey, setPublicKey] = useState('');
  const [name, setName] = useState('');
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
            await session.sso.agents.createAgentKey({ agentId, publicKey: publicKey.trim(), name });
            setPublicKey('');
            setName('');
            list.reload();
          }}
        >
          <TextField
            label="Public key"
            hint="PEM (SPKI) or base64url of the 32 raw bytes"
            value={publicKey}
            onInput={setPublicKey}
            required
          />
          <TextField label="Key name" value={name} onInput={setName} />
        </ActionForm>
      ) : null}
    </section>
  );
}
