import { useState } from 'preact/hooks';
import { DirectoryService } from '../../../client/web.js';
import type { Role } from '../../../../gen/sso/directory/v1/workspace_pb.js';
import { may } from '../access.js';
import { useSession } from '../state.js';
import { ActionButton, ActionForm, Chips, ListState, PageHeader, Pager, TextField, splitList, useLoad, useNotice } from '../ui.js';

const limit = 20;

export function RolesPage() {
  const session = useSession();
  const me = session.me!;
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<string>();
  const [notice, notify] = useNotice();
  const list = useLoad(() => session.sso.directory.listRoles({ offset, limit }), [offset]);
  const canUpdate = may(me, DirectoryService.method.updateRole);
  const canDelete = may(me, DirectoryService.method.deleteRole);
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Roles">
        {may(me, DirectoryService.method.createRole) ? (
          <button type="button" class="primary" aria-expanded={creating} onClick={() => setCreating(!creating)}>
            New role
          </button>
        ) : null}
      </PageHeader>
      {notice}
      {creating ? (
        <CreateRole
          onCreated={(r) => {
            setCreating(false);
            notify(`Created role ${r.slug}.`);
            list.reload();
          }}
        />
      ) : null}
      <ListState loaded={list} items={list.data?.items} empty="No roles yet.">
        {(items) => (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Role</th>
                  <th scope="col">Slug</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Workspace</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <tr key={r.id}>
                    <td>
                      {r.name}
                      <div class="muted">{r.description}</div>
                    </td>
                    <td class="mono">{r.slug}</td>
                    <td>
                      {editing === r.id ? (
                        <EditScopes
                          role={r}
                          onSaved={() => {
                            setEditing(undefined);
                            notify('Saved.');
                            list.reload();
                          }}
                        />
                      ) : (
                        <Chips items={r.scopes} />
                      )}
                    </td>
                    <td class="mono">{r.workspaceId ? r.workspaceId.slice(0, 8) : 'global'}</td>
                    <td class="row-actions">
                      {canUpdate && editing !== r.id ? (
                        <button type="button" onClick={() => setEditing(r.id)}>
                          Edit scopes
                        </button>
                      ) : null}
                      {canDelete ? (
                        <ActionButton
                          label="Delete"
                          danger
                          confirm={`Delete role ${r.slug}?`}
                          run={async () => {
                            await session.sso.directory.deleteRole({ id: r.id });
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
    </section>
  );
}

function CreateRole({ onCreated }: { onCreated: (r: Role) => void }) {
  const session = useSession();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [scopes, setScopes] = useState('');
  return (
    <ActionForm
      title="New role"
      submit="Create role"
      onSubmit={async () => {
        const { role } = await session.sso.directory.createRole({
          name,
          slug:
            slug ||
            name
              .toLowerCase()
              .replace(/[^a-z0-9]+/g, '-')
              .replace(/^-|-$/g, ''),
          scopes: splitList(scopes),
        });
        if (role) onCreated(role);
      }}
    >
      <TextField label="Name" value={name} onInput={setName} required />
      <TextField label="Slug" hint="Lower-case letters, digits, - or _ (default: from the name)" value={slug} onInput={setSlug} />
      <TextField label="Scopes" hint="action:resource, e.g. read:users, separated by commas" value={scopes} onInput={setScopes} />
    </ActionForm>
  );
}

function EditScopes({ role, onSaved }: { role: Role; onSaved: () => void }) {
  const session = useSession();
  const [scopes, setScopes] = useState(role.scopes.join(', '));
  return (
    <ActionForm
      submit="Save scopes"
      class="compact"
      onSubmit={async () => {
        await session.sso.directory.updateRole({ id: role.id, scopes: splitList(scopes), updateMask: { paths: ['scopes'] } });
        onSaved();
      }}
    >
      <TextField label={`Scopes of ${role.slug}`} value={scopes} onInput={setScopes} />
    </ActionForm>
  );
}
