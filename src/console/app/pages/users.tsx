import { useState } from 'preact/hooks';
import { AppRegistryService, AuthService, DirectoryService } from '../../../client/web.js';
import { FactorService } from '../../../../gen/sso/auth/v1/factor_service_pb.js';
import type { Session } from '../../../../gen/sso/auth/v1/auth_service_pb.js';
import type { User } from '../../../../gen/sso/directory/v1/user_pb.js';
import { may, permissionOf } from '../access.js';
import { useSession } from '../state.js';
import { NewButton, PagedRows, useCreateForm, usePagedList } from '../list-page.js';
import { DeleteRecord, RecordPending } from '../record-page.js';
import {
  ActionButton,
  ActionForm,
  CheckField,
  Chips,
  ListState,
  NotOffered,
  PageHeader,
  Status,
  Table,
  TextField,
  Time,
  actionsColumn,
  splitList,
  useFields,
  useLoad,
  useNotice,
} from '../ui.js';

export const userName = (u: Pick<User, 'identifiers' | 'id'>) => u.identifiers[0]?.identifier ?? u.id;

export function UsersPage() {
  const session = useSession();
  const me = session.me!;
  const [query, setQuery] = useState('');
  const [search, setSearch] = useState('');
  const [notice, notify] = useNotice();
  const list = usePagedList((page) => session.sso.directory.listUsers({ identifier: search, ...page }), [search]);
  const create = useCreateForm((u: User) => {
    notify(`Created ${userName(u)}.`);
    list.reload();
  });
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Users">
        {may(me, DirectoryService.method.createUser) ? <NewButton label="New user" form={create} /> : null}
      </PageHeader>
      {notice}
      {create.open ? <CreateUser onCreated={create.created} /> : null}
      {/* biome-ignore lint/a11y/useSemanticElements: <search> is not yet in every browser the console supports; role=search on the form is the ARIA equivalent */}
      <form
        class="toolbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          list.setOffset(0);
          setSearch(query.trim());
        }}
      >
        <TextField label="Search by identifier" value={query} onInput={setQuery} type="search" placeholder="e-mail, username or phone" />
        <button type="submit">Search</button>
      </form>
      <PagedRows list={list} empty={search ? `No user matches “${search}”.` : 'No users yet.'}>
        {(items) => (
          <Table
            caption="Users"
            items={items}
            rowKey={(u) => u.id}
            columns={[
              {
                header: 'User',
                cell: (u) => (
                  <>
                    <a href={`#/users/${u.id}`}>{userName(u)}</a>
                    {u.isAdmin ? <span class="chip admin">admin</span> : null}
                  </>
                ),
              },
              { header: 'Roles', cell: (u) => <Chips items={u.roles} /> },
              { header: 'Status', cell: (u) => <Status active={u.isActive} /> },
              { header: 'Created', cell: (u) => <Time ts={u.createdAt} /> },
            ]}
          />
        )}
      </PagedRows>
    </section>
  );
}

function CreateUser({ onCreated }: { onCreated: (u: User) => void }) {
  const session = useSession();
  const f = useFields({ identifier: '', password: '', roles: '' });
  return (
    <ActionForm
      title="New user"
      submit="Create user"
      onSubmit={async () => {
        const { identifier, password, roles } = f.values;
        const { user } = await session.sso.directory.createUser({ identifier, password, roles: splitList(roles) });
        if (user) onCreated(user);
      }}
    >
      <TextField label="Identifier" hint="An e-mail address, phone number or username" {...f.bind('identifier')} required />
      <TextField label="Initial password" type="password" {...f.bind('password')} autoComplete="new-password" required />
      <TextField label="Roles" hint="Role slugs, separated by commas (optional)" {...f.bind('roles')} />
    </ActionForm>
  );
}

export function UserPage({ id }: { id: string }) {
  const session = useSession();
  const me = session.me!;
  const [notice, notify] = useNotice();
  const loaded = useLoad(() => session.sso.directory.getUser({ id }), [id]);
  const user = loaded.data?.user;
  if (!user) return <RecordPending title="User" error={loaded.error} />;
  const changed = (u: User | undefined, what: string) => {
    notify(what);
    loaded.reload();
    return u;
  };
  const canUpdate = may(me, DirectoryService.method.updateUser);
  return (
    <section aria-labelledby="page-title">
      <PageHeader title={userName(user)}>
        <a href="#/users">All users</a>
      </PageHeader>
      {notice}
      <dl class="facts card">
        <dt>Id</dt>
        <dd class="mono">{user.id}</dd>
        <dt>Identifiers</dt>
        <dd>
          {user.identifiers.map((i) => (
            <div key={i.identifier}>
              {i.identifier}{' '}
              <span class="muted">
                ({i.type}
                {i.verified ? ', verified' : ''}
                {i.primary ? ', primary' : ''})
              </span>
            </div>
          ))}
        </dd>
        <dt>Status</dt>
        <dd>
          {user.isActive ? 'active' : 'inactive'}
          {user.isAdmin ? ' · administrator' : ''}
        </dd>
        <dt>Roles</dt>
        <dd>
          <Chips items={user.roles} />
        </dd>
        <dt>Scopes</dt>
        <dd>
          <Chips items={user.scopes} />
        </dd>
        <dt>Created</dt>
        <dd>
          <Time ts={user.createdAt} />
        </dd>
      </dl>
      <div class="grid">
        {canUpdate ? (
          <EditUser user={user} onSaved={(u) => changed(u, 'Saved.')} />
        ) : (
          <NotOffered what="Changing this user" needs={permissionOf(DirectoryService.method.updateUser)} />
        )}
        {may(me, DirectoryService.method.updateLegacyUser) && user.legacyId ? (
          <EditIdentifiers user={user} onSaved={() => changed(undefined, 'Identifiers saved.')} />
        ) : null}
        {canUpdate ? <ResetPassword user={user} onDone={() => notify('Password set; the user’s other sessions have ended.')} /> : null}
        {may(me, FactorService.method.resetUserFactors) ? (
          <div class="card">
            <h3>Second factors</h3>
            <p class="muted">Removes the user’s authenticator app, passkeys and recovery codes, so they can enrol again.</p>
            <ActionButton
              label="Reset second factors"
              danger
              confirm="Remove every second factor of this user?"
              run={async () => {
                await session.factors.resetUserFactors({ userId: user.id });
                notify('Second factors removed.');
              }}
            />
          </div>
        ) : null}
      </div>
      {may(me, AuthService.method.listSessions, user.id === me.id) ? <UserSessions userId={user.id} /> : null}
      {may(me, AppRegistryService.method.listUserApps) ? <UserApps userId={user.id} /> : null}
      {may(me, DirectoryService.method.deleteUser) ? (
        <DeleteRecord
          label="Delete user"
          confirm={`Delete ${userName(user)} for good?`}
          remove={() => session.sso.directory.deleteUser({ id: user.id })}
          back="#/users"
        />
      ) : null}
    </section>
  );
}

function EditUser({ user, onSaved }: { user: User; onSaved: (u: User | undefined) => void }) {
  const session = useSession();
  const [roles, setRoles] = useState(user.roles.join(', '));
  const [scopes, setScopes] = useState(user.directScopes.join(', '));
  const [active, setActive] = useState(user.isActive);
  return (
    <ActionForm
      title="Roles, scopes and status"
      submit="Save"
      onSubmit={async () => {
        const { user: saved } = await session.sso.directory.updateUser({
          id: user.id,
          roles: splitList(roles),
          scopes: splitList(scopes),
          isActive: active,
          updateMask: { paths: ['roles', 'scopes', 'is_active'] },
        });
        onSaved(saved);
      }}
    >
      <TextField label="Roles" hint="Role slugs, separated by commas" value={roles} onInput={setRoles} />
      <TextField label="Direct scopes" hint="e.g. read:users, separated by commas" value={scopes} onInput={setScopes} />
      <CheckField label="Active (may sign in)" checked={active} onChange={setActive} />
    </ActionForm>
  );
}

function EditIdentifiers({ user, onSaved }: { user: User; onSaved: () => void }) {
  const session = useSession();
  const of = (type: string) => user.identifiers.find((i) => i.type === type)?.identifier ?? '';
  const [email, setEmail] = useState(of('email'));
  const [username, setUsername] = useState(of('username'));
  return (
    <ActionForm
      title="Identifiers"
      submit="Save identifiers"
      onSubmit={async () => {
        await session.sso.directory.updateLegacyUser({
          userId: user.legacyId,
          ...(email !== of('email') ? { email } : {}),
          ...(username !== of('username') ? { username } : {}),
        });
        onSaved();
      }}
    >
      <TextField label="E-mail" type="email" value={email} onInput={setEmail} />
      <TextField label="Username" value={username} onInput={setUsername} />
    </ActionForm>
  );
}

function ResetPassword({ user, onDone }: { user: User; onDone: () => void }) {
  const session = useSession();
  const [password, setPassword] = useState('');
  return (
    <ActionForm
      title="Reset password"
      submit="Set password"
      onSubmit={async () => {
        await session.sso.directory.updateUser({ id: user.id, password, updateMask: { paths: ['password'] } });
        setPassword('');
        onDone();
      }}
    >
      <TextField label="New password" type="password" value={password} onInput={setPassword} autoComplete="new-password" required />
    </ActionForm>
  );
}

function UserSessions({ userId }: { userId: string }) {
  const session = useSession();
  const me = session.me!;
  const list = usePagedList((page) => session.sso.auth.listSessions({ userId, ...page }), [userId]);
  const canRevoke = may(me, AuthService.method.deleteSession, userId === me.id);
  return (
    <section class="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <PagedRows list={list} empty="No live sessions.">
        {(items) => (
          <Table
            items={items}
            rowKey={(s) => s.id}
            rowData={(s) => ({ 'data-session': s.id })}
            columns={[
              {
                header: 'Started',
                cell: (s) => (
                  <>
                    <Time ts={s.createdAt} />
                    {s.current ? <span class="chip">this console</span> : null}
                  </>
                ),
              },
              { header: 'Last used', cell: (s) => <Time ts={s.lastUsedAt} /> },
              { header: 'Audience', cell: (s) => s.audience },
              {
                header: 'From',
                cell: (s) => (
                  <>
                    <span class="mono">{s.ip || '—'}</span> <span class="muted ua">{s.userAgent}</span>
                  </>
                ),
              },
              actionsColumn<Session>((s) =>
                canRevoke ? (
                  <ActionButton
                    label="Revoke"
                    danger
                    confirm="End this session?"
                    run={async () => {
                      await session.sso.auth.deleteSession({ id: s.id });
                      list.reload();
                    }}
                  />
                ) : null,
              ),
            ]}
          />
        )}
      </PagedRows>
    </section>
  );
}

function UserApps({ userId }: { userId: string }) {
  const session = useSession();
  const list = useLoad(() => session.sso.apps.listUserApps({ userId, offset: 0, limit: 100 }), [userId]);
  return (
    <section class="card" aria-labelledby="user-apps-title">
      <h2 id="user-apps-title">Apps this user may use</h2>
      <ListState loaded={list} items={list.data?.items} empty="Not assigned to any app.">
        {(items) => (
          <ul>
            {items.map((a) => (
              <li key={a.id}>
                <a href={`#/apps/${a.id}`}>{a.name}</a>
              </li>
            ))}
          </ul>
        )}
      </ListState>
    </section>
  );
}
