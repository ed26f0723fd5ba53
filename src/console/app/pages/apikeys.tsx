import { useState } from 'preact/hooks';
import { ApiKeyService } from '../../../client/web.js';
import { may } from '../access.js';
import { useSession } from '../state.js';
import { ActionButton, ActionForm, Chips, ListState, PageHeader, Pager, SecretOnce, TextField, Time, splitList, useLoad } from '../ui.js';

const limit = 20;

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
  const [offset, setOffset] = useState(0);
  const [secret, setSecret] = useState('');
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState('');
  const [days, setDays] = useState('');
  const [owner, setOwner] = useState(agentId ?? '');
  const list = useLoad(() => session.sso.apiKeys.listApiKeys({ agentId: agentId ?? '', offset, limit }), [agentId, offset]);
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
            const r = await session.sso.apiKeys.createApiKey({
              agentId: owner.trim(),
              name,
              scopes: splitList(scopes),
              expiresInDays: Number(days) || 0,
            });
            setSecret(r.key);
            setName('');
            setScopes('');
            setDays('');
            list.reload();
          }}
        >
          <TextField label="Name" value={name} onInput={setName} required />
          {agentId ? null : <TextField label="Agent id" hint="Empty: a key of your own" value={owner} onInput={setOwner} />}
          <TextField label="Scopes" hint="Empty: the owner's scopes" value={scopes} onInput={setScopes} />
          <TextField label="Expires in days" type="number" hint="Empty: never" value={days} onInput={setDays} />
        </ActionForm>
      ) : null}
      <ListState loaded={list} items={list.data?.items} empty="No API keys.">
        {(items) => (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((k) => (
                  <tr key={k.id}>
                    <td>{k.name}</td>
                    <td class="mono">{k.prefix}…</td>
                    <td>{k.agentId ? <a href={`#/agents/${k.agentId}`}>agent</a> : <a href={`#/users/${k.userId}`}>user</a>}</td>
                    <td>
                      <Chips items={k.scopes} empty="owner’s" />
                    </td>
                    <td>
                      <Time ts={k.expiresAt} />
                    </td>
                    <td>
                      <Time ts={k.lastUsedAt} />
                    </td>
                    <td>
                      {canRevoke ? (
                        <ActionButton
                          label="Revoke"
                          danger
                          confirm={`Revoke ${k.name}? It stops working at once.`}
                          run={async () => {
                            await session.sso.apiKeys.deleteApiKey({ id: k.id });
                            list.reload();
                          }}
                        />
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListState>
      {list.data ? <Pager offset={offset} limit={limit} total={list.data.total} onPage={setOffset} /> : null}
    </>
  );
}
