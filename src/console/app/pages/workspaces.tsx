import { useState } from 'preact/hooks';
import { DirectoryService } from '../../../client/web.js';
import type { Workspace } from '../../../../gen/sso/directory/v1/workspace_pb.js';
import { may } from '../access.js';
import { useSession } from '../state.js';
import {
  ActionButton,
  ActionForm,
  Chips,
  ErrorNote,
  ListState,
  Loading,
  PageHeader,
  Table,
  Pager,
  TextField,
  Time,
  splitList,
  useLoad,
  useNotice,
} from '../ui.js';

const limit = 20;

export function WorkspacesPage() {
  const session = useSession();
  const me = session.me!;
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const [notice, notify] = useNotice();
  const list = useLoad(() => session.sso.directory.listWorkspaces({ offset, limit }), [offset]);
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Workspaces">
        {may(me, DirectoryService.method.createWorkspace) ? (
          <button type="button" class="primary" aria-expanded={creating} onClick={() => setCreating(!creating)}>
            New workspace
          </button>
        ) : null}
      </PageHeader>
      {notice}
      {creating ? (
        <CreateWorkspace
          onCreated={(w) => {
            setCreating(false);
            notify(`Created ${w.name}.`);
            list.reload();
          }}
        />
      ) : null}
      <ListState loaded={list} items={list.data?.items} empty="No workspaces yet.">
        {(items) => (
          <Table
            items={items}
            rowKey={(w) => w.id}
            columns={[
              {
                header: 'Workspace',
                cell: (w) => (
                  <>
                    <a href={`#/workspaces/${w.id}`}>{w.name}</a>
                    <div class="muted">{w.description}</div>
                  </>
                ),
              },
              { header: 'Slug', cell: (w) => w.slug, class: 'mono' },
              { header: 'Created', cell: (w) => <Time ts={w.createdAt} /> },
            ]}
          />
        )}
      </ListState>
      {list.data ? <Pager offset={offset} limit={limit} total={list.data.total} onPage={setOffset} /> : null}
    </section>
  );
}

function CreateWorkspace({ onCreated }: { onCreated: (w: Workspace) => void }) {
  const session = useSession();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [description, setDescription] = useState('');
  return (
    <ActionForm
      title="New workspace"
      submit="Create workspace"
      onSubmit={async () => {
        const { workspace } = await session.sso.directory.createWorkspace({ name, slug, description });
        if (workspace) onCreated(workspace);
      }}
    >
      <TextField label="Name" value={name} onInput={setName} required />
      <TextField label="Slug" hint="Lower-case letters, digits, - or _" value={slug} onInput={setSlug} required />
      <TextField label="Description" value={description} onInput={setDescription} />
    </ActionForm>
  );
}

export function WorkspacePage({ id }: { id: string }) {
  const session = useSession();
  const me = session.me!;
  const [offset, setOffset] = useState(0);
  const [notice, notify] = useNotice();
  const loaded = useLoad(() => session.sso.directory.getWorkspace({ id }), [id]);
  const members = useLoad(() => session.sso.directory.listWorkspaceMembers({ workspaceId: id, offset, limit }), [id, offset]);
  const ws = loaded.data?.workspace;
  if (loaded.error)
    return (
      <section>
        <PageHeader title="Workspace" />
        <ErrorNote error={loaded.error} />
      </section>
    );
  if (!ws)
    return (
      <section>
        <PageHeader title="Workspace" />
        <Loading />
      </section>
    );
  const canUpdate = may(me, DirectoryService.method.updateWorkspaceMember);
  return (
    <section aria-labelledby="page-title">
      <PageHeader title={ws.name}>
        <a href="#/workspaces">All workspaces</a>
      </PageHeader>
      {notice}
      <dl class="facts card">
        <dt>Id</dt>
        <dd class="mono">{ws.id}</dd>
        <dt>Slug</dt>
        <dd class="mono">{ws.slug}</dd>
        <dt>Owner</dt>
        <dd class="mono">{ws.ownerId}</dd>
      </dl>
      {may(me, DirectoryService.method.addWorkspaceMember) ? (
        <AddMember
          workspaceId={ws.id}
          onAdded={() => {
            notify('Member added.');
            members.reload();
          }}
        />
      ) : null}
      <section class="card" aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        <ListState loaded={members} items={members.data?.items} empty="No members.">
          {(items) => (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">User</th>
                    <th scope="col">Roles here</th>
                    <th scope="col">Since</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((m) => (
                    <tr key={m.userId}>
                      <td>
                        <a class="mono" href={`#/users/${m.userId}`}>
                          {m.userId}
                        </a>
                        {m.isOwner ? <span class="chip">owner</span> : null}
                      </td>
                      <td>
                        <Chips items={m.roles} />
                      </td>
                      <td>
                        <Time ts={m.createdAt} />
                      </td>
                      <td>
                        {canUpdate && !m.isOwner ? (
                          <ActionButton
                            label="Remove"
                            danger
                            confirm="Remove this member?"
                            run={async () => {
                              await session.sso.directory.removeWorkspaceMember({ workspaceId: ws.id, userId: m.userId });
                              members.reload();
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
        {members.data ? <Pager offset={offset} limit={limit} total={members.data.total} onPage={setOffset} /> : null}
      </section>
      {may(me, DirectoryService.method.deleteWorkspace) ? (
        <div class="card danger-zone">
          <h3>Delete workspace</h3>
          <ActionButton
            label="Delete workspace"
            danger
            confirm={`Delete ${ws.name}?`}
            run={async () => {
              await session.sso.directory.deleteWorkspace({ id: ws.id });
              location.hash = '#/workspaces';
            }}
          />
        </div>
      ) : null}
    </section>
  );
}

function AddMember({ workspaceId, onAdded }: { workspaceId: string; onAdded: () => void }) {
  const session = useSession();
  const [userId, setUserId] = useState('');
  const [roles, setRoles] = useState('');
  return (
    <ActionForm
      title="Add a member"
      submit="Add member"
      onSubmit={async () => {
        await session.sso.directory.addWorkspaceMember({ workspaceId, userId: userId.trim(), roles: splitList(roles) });
        setUserId('');
        setRoles('');
        onAdded();
      }}
    >
      <TextField label="User id" value={userId} onInput={setUserId} required />
      <TextField label="Roles in this workspace" hint="Role slugs, separated by commas" value={roles} onInput={setRoles} />
    </ActionForm>
  );
}
