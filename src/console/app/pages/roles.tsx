import { useState } from 'preact/hooks';
import { DirectoryService } from '../../../client/web.js';
import type { Role } from '../../../../gen/sso/directory/v1/workspace_pb.js';
import { may } from '../access.js';
import { useSession } from '../state.js';
import { NewButton, PagedRows, useCreateForm, usePagedList } from '../list-page.js';
import { ActionButton, ActionForm, Chips, PageHeader, Table, TextField, actionsColumn, splitList, useFields, useNotice } from '../ui.js';

export function RolesPage() {
  const session = useSession();
  const me = session.me!;
  const [editing, setEditing] = useState<string>();
  const [notice, notify] = useNotice();
  const list = usePagedList((page) => session.sso.directory.listRoles(page), []);
  const create = useCreateForm((r: Role) => {
    notify(`Created role ${r.slug}.`);
    list.reload();
  });
  const canUpdate = may(me, DirectoryService.method.updateRole);
  const canDelete = may(me, DirectoryService.method.deleteRole);
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Roles">
        {may(me, DirectoryService.method.createRole) ? <NewButton label="New role" form={create} /> : null}
      </PageHeader>
      {notice}
      {create.open ? <CreateRole onCreated={create.created} /> : null}
      <PagedRows list={list} empty="No roles yet.">
        {(items) => (
          <Table
            items={items}
            rowKey={(r) => r.id}
            columns={[
              {
                header: 'Role',
                cell: (r) => (
                  <>
                    {r.name}
                    <div class="muted">{r.description}</div>
                  </>
                ),
              },
              { header: 'Slug', cell: (r) => r.slug, class: 'mono' },
              {
                header: 'Scopes',
                cell: (r) =>
                  editing === r.id ? (
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
                  ),
              },
              { header: 'Workspace', cell: (r) => (r.workspaceId ? r.workspaceId.slice(0, 8) : 'global'), class: 'mono' },
              actionsColumn<Role>(
                (r) => (
                  <>
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
                  </>
                ),
                'row-actions',
              ),
            ]}
          />
        )}
      </PagedRows>
    </section>
  );
}

function CreateRole({ onCreated }: { onCreated: (r: Role) => void }) {
  const session = useSession();
  const f = useFields({ name: '', slug: '', scopes: '' });
  return (
    <ActionForm
      title="New role"
      submit="Create role"
      onSubmit={async () => {
        const { name, slug, scopes } = f.values;
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
      <TextField label="Name" {...f.bind('name')} required />
      <TextField label="Slug" hint="Lower-case letters, digits, - or _ (default: from the name)" {...f.bind('slug')} />
      <TextField label="Scopes" hint="action:resource, e.g. read:users, separated by commas" {...f.bind('scopes')} />
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
