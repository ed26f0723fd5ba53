import { DirectoryService } from '../../../client/web.js';
import type { Workspace, WorkspaceMember } from '../../../../gen/sso/directory/v1/workspace_pb.js';
import { may } from '../access.js';
import { useSession } from '../state.js';
import { NewButton, PagedRows, useCreateForm, usePagedList } from '../list-page.js';
import { DeleteRecord, RecordPending } from '../record-page.js';
import {
  ActionButton,
  ActionForm,
  Chips,
  PageHeader,
  Table,
  TextField,
  Time,
  actionsColumn,
  splitList,
  useFields,
  useLoad,
  useNotice,
} from '../ui.js';

export function WorkspacesPage() {
  const session = useSession();
  const me = session.me!;
  const [notice, notify] = useNotice();
  const list = usePagedList((page) => session.sso.directory.listWorkspaces(page), []);
  const create = useCreateForm((w: Workspace) => {
    notify(`Created ${w.name}.`);
    list.reload();
  });
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Workspaces">
        {may(me, DirectoryService.method.createWorkspace) ? <NewButton label="New workspace" form={create} /> : null}
      </PageHeader>
      {notice}
      {create.open ? <CreateWorkspace onCreated={create.created} /> : null}
      <PagedRows list={list} empty="No workspaces yet.">
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
      </PagedRows>
    </section>
  );
}

function CreateWorkspace({ onCreated }: { onCreated: (w: Workspace) => void }) {
  const session = useSession();
  const f = useFields({ name: '', slug: '', description: '' });
  return (
    <ActionForm
      title="New workspace"
      submit="Create workspace"
      onSubmit={async () => {
        const { workspace } = await session.sso.directory.createWorkspace(f.values);
        if (workspace) onCreated(workspace);
      }}
    >
      <TextField label="Name" {...f.bind('name')} required />
      <TextField label="Slug" hint="Lower-case letters, digits, - or _" {...f.bind('slug')} required />
      <TextField label="Description" {...f.bind('description')} />
    </ActionForm>
  );
}

export function WorkspacePage({ id }: { id: string }) {
  const session = useSession();
  const me = session.me!;
  const [notice, notify] = useNotice();
  const loaded = useLoad(() => session.sso.directory.getWorkspace({ id }), [id]);
  const members = usePagedList((page) => session.sso.directory.listWorkspaceMembers({ workspaceId: id, ...page }), [id]);
  const ws = loaded.data?.workspace;
  if (!ws) return <RecordPending title="Workspace" error={loaded.error} />;
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
        <PagedRows list={members} empty="No members.">
          {(items) => (
            <Table
              items={items}
              rowKey={(m) => m.userId}
              columns={[
                {
                  header: 'User',
                  cell: (m) => (
                    <>
                      <a class="mono" href={`#/users/${m.userId}`}>
                        {m.userId}
                      </a>
                      {m.isOwner ? <span class="chip">owner</span> : null}
                    </>
                  ),
                },
                { header: 'Roles here', cell: (m) => <Chips items={m.roles} /> },
                { header: 'Since', cell: (m) => <Time ts={m.createdAt} /> },
                actionsColumn<WorkspaceMember>((m) =>
                  canUpdate && !m.isOwner ? (
                    <ActionButton
                      label="Remove"
                      danger
                      confirm="Remove this member?"
                      run={async () => {
                        await session.sso.directory.removeWorkspaceMember({ workspaceId: ws.id, userId: m.userId });
                        members.reload();
                      }}
                    />
                  ) : null,
                ),
              ]}
            />
          )}
        </PagedRows>
      </section>
      {may(me, DirectoryService.method.deleteWorkspace) ? (
        <DeleteRecord
          label="Delete workspace"
          confirm={`Delete ${ws.name}?`}
          remove={() => session.sso.directory.deleteWorkspace({ id: ws.id })}
          back="#/workspaces"
        />
      ) : null}
    </section>
  );
}

function AddMember({ workspaceId, onAdded }: { workspaceId: string; onAdded: () => void }) {
  const session = useSession();
  const f = useFields({ userId: '', roles: '' });
  return (
    <ActionForm
      title="Add a member"
      submit="Add member"
      onSubmit={async () => {
        await session.sso.directory.addWorkspaceMember({ workspaceId, userId: f.values.userId.trim(), roles: splitList(f.values.roles) });
        f.reset();
        onAdded();
      }}
    >
      <TextField label="User id" {...f.bind('userId')} required />
      <TextField label="Roles in this workspace" hint="Role slugs, separated by commas" {...f.bind('roles')} />
    </ActionForm>
  );
}
