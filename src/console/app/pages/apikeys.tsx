import { useState } from 'preact/hooks';
import { ApiKeyService } from '../../../client/web.js';
import type { ApiKey } from '../../../../gen/sso/apikey/v1/api_key_service_pb.js';
import { may } from '../access.js';
import { PagedRows, usePagedList } from '../list-page.js';
import { useSession } from '../state.js';
import {
  ActionButton,
  ActionForm,
  Chips,
  PageHeader,
  SecretOnce,
  Table,
  TextField,
  Time,
  actionsColumn,
  splitList,
  useFields,
} from '../ui.js';

export function ApiKeysPage() {
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="API keys" />
      <p class="muted">
        Keys for agents (service accounts) and for people. A key acts with its scopes, as far as its owner still holds them.
      </p>
      <ApiKeysList />
    </section>
  );
}

/** The keys the principal may see (all, or one agent's), with creation and revocation where allowed. */
export function ApiKeysList({ agentId }: { agentId?: string }) {
  const session = useSession();
  const me = session.me!;
  const [secret, setSecret] = useState('');
  const f = useFields({ name: '', scopes: '', days: '' });
  const [owner, setOwner] = useState(agentId ?? '');
  const list = usePagedList((page) => session.sso.apiKeys.listApiKeys({ agentId: agentId ?? '', ...page }), [agentId]);
  const canCreate = may(me, ApiKeyService.method.createApiKey, true);
  const canRevoke = may(me, ApiKeyService.method.deleteApiKey, true);
  return (
    <>
      {secret ? <SecretOnce label="New API key" value={secret} onDone={() => setSecret('')} /> : null}
      {canCreate ? (
        <ActionForm
          title="New API key"
          submit="Create key"
          class="compact"
          onSubmit={async () => {
            const { name, scopes, days } = f.values;
            const r = await session.sso.apiKeys.createApiKey({
              agentId: owner.trim(),
              name,
              scopes: splitList(scopes),
              expiresInDays: Number(days) || 0,
            });
            setSecret(r.key);
            f.reset();
            list.reload();
          }}
        >
          <TextField label="Name" {...f.bind('name')} required />
          {agentId ? null : <TextField label="Agent id" hint="Empty: a key of your own" value={owner} onInput={setOwner} />}
          <TextField label="Scopes" hint="Empty: the owner's scopes" {...f.bind('scopes')} />
          <TextField label="Expires in days" type="number" hint="Empty: never" {...f.bind('days')} />
        </ActionForm>
      ) : null}
      <PagedRows list={list} empty="No API keys.">
        {(items) => (
          <Table
            items={items}
            rowKey={(k) => k.id}
            columns={[
              { header: 'Name', cell: (k) => k.name },
              { header: 'Prefix', cell: (k) => `${k.prefix}…`, class: 'mono' },
              {
                header: 'Owner',
                cell: (k) => (k.agentId ? <a href={`#/agents/${k.agentId}`}>agent</a> : <a href={`#/users/${k.userId}`}>user</a>),
              },
              { header: 'Scopes', cell: (k) => <Chips items={k.scopes} empty="owner’s" /> },
              { header: 'Expires', cell: (k) => <Time ts={k.expiresAt} /> },
              { header: 'Last used', cell: (k) => <Time ts={k.lastUsedAt} /> },
              actionsColumn<ApiKey>((k) =>
                canRevoke ? (
                  <ActionButton
                    label="Revoke"
                    danger
                    confirm={`Revoke ${k.name}? It stops working at once.`}
                    run={async () => {
                      await session.sso.apiKeys.deleteApiKey({ id: k.id });
                      list.reload();
                    }}
                  />
                ) : null,
              ),
            ]}
          />
        )}
      </PagedRows>
    </>
  );
}
