import { AuthService } from '../../../client/web.js';
import { may } from '../access.js';
import { useSession } from '../state.js';
import { ActionButton, ListState, PageHeader, Time, useLoad, useNotice } from '../ui.js';

export function SigningKeysPage() {
  const session = useSession();
  const [notice, notify] = useNotice();
  const list = useLoad(() => session.sso.auth.listSigningKeys({}), []);
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Signing keys">
        {may(session.me, AuthService.method.rotateSigningKey) ? (
          <ActionButton
            label="Rotate signing key"
            confirm="Publish a new key now; it signs after the publication delay. Rotate?"
            run={async () => {
              const r = await session.sso.auth.rotateSigningKey({});
              notify(`New key ${r.key?.kid ?? ''} published.`);
              list.reload();
            }}
          />
        ) : null}
      </PageHeader>
      {notice}
      <p class="muted">Tokens are signed with the active key; a retired key stays published in the JWKS until its tokens have expired.</p>
      <ListState loaded={list} items={list.data?.items} empty="No signing keys.">
        {(items) => (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Key id</th>
                  <th scope="col">Algorithm</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                  <th scope="col">Signs from</th>
                  <th scope="col">Retired</th>
                  <th scope="col">Unpublished</th>
                </tr>
              </thead>
              <tbody>
                {items.map((k) => (
                  <tr key={k.kid}>
                    <td class="mono">{k.kid}</td>
                    <td>{k.alg}</td>
                    <td>
                      <span class={`chip ${k.status}`}>{k.status}</span>
                    </td>
                    <td>
                      <Time ts={k.createdAt} />
                    </td>
                    <td>
                      <Time ts={k.activatesAt} />
                    </td>
                    <td>
                      <Time ts={k.retiredAt} />
                    </td>
                    <td>
                      <Time ts={k.unpublishAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListState>
    </section>
  );
}
