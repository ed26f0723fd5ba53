import { AuthService } from '../../../client/web.js';
import { may } from '../access.js';
import { useSession } from '../state.js';
import { ActionButton, ListState, PageHeader, Table, Time, useLoad, useNotice } from '../ui.js';

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
          <Table
            items={items}
            rowKey={(k) => k.kid}
            columns={[
              { header: 'Key id', cell: (k) => k.kid, class: 'mono' },
              { header: 'Algorithm', cell: (k) => k.alg },
              { header: 'Status', cell: (k) => <span class={`chip ${k.status}`}>{k.status}</span> },
              { header: 'Created', cell: (k) => <Time ts={k.createdAt} /> },
              { header: 'Signs from', cell: (k) => <Time ts={k.activatesAt} /> },
              { header: 'Retired', cell: (k) => <Time ts={k.retiredAt} /> },
              { header: 'Unpublished', cell: (k) => <Time ts={k.unpublishAt} /> },
            ]}
          />
        )}
      </ListState>
    </section>
  );
}
