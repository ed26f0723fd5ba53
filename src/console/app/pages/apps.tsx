import { useState } from 'preact/hooks';
import { AppRegistryService, DirectoryService } from '../../../client/web.js';
import type { App } from '../../../../gen/sso/appregistry/v1/app_registry_service_pb.js';
import { may } from '../access.js';
import { useSession } from '../state.js';
import { NewButton, PagedRows, useCreateForm, usePagedList } from '../list-page.js';
import { DeleteRecord, RecordPending } from '../record-page.js';
import {
  ActionButton,
  ActionForm,
  CheckField,
  Chips,
  ErrorNote,
  Field,
  PageHeader,
  SecretOnce,
  Status,
  Table,
  TextField,
  Time,
  splitList,
  useAction,
  useFields,
  useLoad,
  useNotice,
} from '../ui.js';
import { userName } from './users.js';

/** What the server showed once (an app key, a client secret), until the person dismisses it. */
interface Shown {
  apiKey?: string;
  clientSecret?: string;
}

function Secrets({ shown, onDone }: { shown: Shown; onDone: () => void }) {
  return (
    <>
      {shown.apiKey ? <SecretOnce label="App API key (for POST /verify)" value={shown.apiKey} /> : null}
      {shown.clientSecret ? <SecretOnce label="OpenID Connect client secret" value={shown.clientSecret} /> : null}
      {shown.apiKey || shown.clientSecret ? (
        <p>
          <button type="button" onClick={onDone}>
            I have copied it
          </button>
        </p>
      ) : null}
    </>
  );
}

export function AppsPage() {
  const session = useSession();
  const me = session.me!;
  const [shown, setShown] = useState<Shown & { app?: App }>({});
  const list = usePagedList((page) => session.sso.apps.listApps(page), []);
  const create = useCreateForm((app: App) => {
    setShown({ app, apiKey: app.apiKey, clientSecret: app.clientSecret });
    list.reload();
  });
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Apps">
        {may(me, AppRegistryService.method.createApp) ? <NewButton label="New app" form={create} /> : null}
      </PageHeader>
      {shown.app ? (
        <p class="notice" role="status">
          Created <a href={`#/apps/${shown.app.id}`}>{shown.app.name}</a> (client id <code>{shown.app.clientId}</code>).
        </p>
      ) : null}
      <Secrets shown={shown} onDone={() => setShown({})} />
      {create.open ? <CreateApp onCreated={create.created} /> : null}
      <PagedRows list={list} empty="No apps registered yet.">
        {(items) => (
          <Table
            items={items}
            rowKey={(a) => a.id}
            columns={[
              { header: 'App', cell: (a) => <a href={`#/apps/${a.id}`}>{a.name}</a> },
              { header: 'Audience', cell: (a) => a.audience, class: 'mono' },
              { header: 'Client', cell: (a) => a.clientType },
              { header: 'Key', cell: (a) => `${a.apiKeyPrefix}…`, class: 'mono' },
              { header: 'Status', cell: (a) => <Status active={a.isActive} /> },
            ]}
          />
        )}
      </PagedRows>
    </section>
  );
}

function CreateApp({ onCreated }: { onCreated: (app: App) => void }) {
  const session = useSession();
  const f = useFields({ name: '', url: '', redirects: '', type: 'confidential' });
  return (
    <ActionForm
      title="New app"
      submit="Create app"
      onSubmit={async () => {
        const { name, url, redirects, type } = f.values;
        const { app } = await session.sso.apps.createApp({ name, url, redirectUris: splitList(redirects), clientType: type });
        if (app) onCreated(app);
      }}
    >
      <TextField label="Name" {...f.bind('name')} required />
      <TextField label="URL" type="url" {...f.bind('url')} placeholder="https://app.example.com" />
      <TextField
        label="Redirect URIs"
        hint="For OpenID Connect sign-in; separated by spaces or commas (https, or http on localhost)"
        {...f.bind('redirects')}
      />
      <Field label="Client type">
        {(id) => (
          <select id={id} value={f.values.type} onChange={(e) => f.set('type', (e.target as HTMLSelectElement).value)}>
            <option value="confidential">confidential (server-side app, gets a client secret)</option>
            <option value="public">public (single-page or native app, PKCE only)</option>
          </select>
        )}
      </Field>
    </ActionForm>
  );
}

export function AppPage({ id }: { id: string }) {
  const session = useSession();
  const me = session.me!;
  const [notice, notify] = useNotice();
  const [shown, setShown] = useState<Shown>({});
  const loaded = useLoad(() => session.sso.apps.getApp({ id }), [id]);
  const app = loaded.data?.app;
  if (!app) return <RecordPending title="App" error={loaded.error} />;
  const canUpdate = may(me, AppRegistryService.method.updateApp);
  return (
    <section aria-labelledby="page-title">
      <PageHeader title={app.name}>
        <a href="#/apps">All apps</a>
      </PageHeader>
      {notice}
      <Secrets shown={shown} onDone={() => setShown({})} />
      <dl class="facts card">
        <dt>Client id</dt>
        <dd class="mono">{app.clientId}</dd>
        <dt>Legacy id</dt>
        <dd>{app.legacyId}</dd>
        <dt>Audience</dt>
        <dd class="mono">{app.audience}</dd>
        <dt>Client type</dt>
        <dd>{app.clientType}</dd>
        <dt>API key</dt>
        <dd class="mono">{app.apiKeyPrefix}…</dd>
        <dt>Redirect URIs</dt>
        <dd>
          <Chips items={app.redirectUris} />
        </dd>
        <dt>Scopes allowed</dt>
        <dd>
          <Chips items={app.allowedScopes} />
        </dd>
        <dt>Created</dt>
        <dd>
          <Time ts={app.createdAt} />
        </dd>
      </dl>
      {canUpdate ? (
        <div class="card row-actions">
          <ActionButton
            label="Rotate API key"
            confirm="The current key stops working at once. Rotate?"
            danger
            run={async () => {
              const r = await session.sso.apps.rotateAppApiKey({ id: app.id });
              setShown({ apiKey: r.app?.apiKey });
              loaded.reload();
            }}
          />
          {app.clientType === 'confidential' ? (
            <ActionButton
              label="Rotate client secret"
              confirm="The current secret stops working at once. Rotate?"
              danger
              run={async () => {
                const r = await session.sso.apps.rotateAppClientSecret({ id: app.id });
                setShown({ clientSecret: r.app?.clientSecret });
                loaded.reload();
              }}
            />
          ) : null}
        </div>
      ) : null}
      {canUpdate ? (
        <EditApp
          app={app}
          onSaved={(secret) => {
            if (secret) setShown({ clientSecret: secret });
            notify('Saved.');
            loaded.reload();
          }}
        />
      ) : null}
      {may(me, AppRegistryService.method.listAppUsers) ? <AppUsers app={app} /> : null}
      {may(me, AppRegistryService.method.deleteApp) ? (
        <DeleteRecord
          label="Delete app"
          confirm={`Delete ${app.name}? Its key and sign-ins stop working.`}
          remove={() => session.sso.apps.deleteApp({ id: app.id })}
          back="#/apps"
        />
      ) : null}
    </section>
  );
}

function EditApp({ app, onSaved }: { app: App; onSaved: (secret: string) => void }) {
  const session = useSession();
  const [redirects, setRedirects] = useState(app.redirectUris.join('\n'));
  const [logouts, setLogouts] = useState(app.postLogoutRedirectUris.join('\n'));
  const [active, setActive] = useState(app.isActive);
  return (
    <ActionForm
      title="Sign-in settings"
      submit="Save"
      onSubmit={async () => {
        const { app: saved } = await session.sso.apps.updateApp({
          id: app.id,
          redirectUris: splitList(redirects),
          postLogoutRedirectUris: splitList(logouts),
          isActive: active,
          updateMask: { paths: ['redirect_uris', 'post_logout_redirect_uris', 'is_active'] },
        });
        onSaved(saved?.clientSecret ?? '');
      }}
    >
      <Field label="Redirect URIs" hint="One per line">
        {(id) => <textarea id={id} rows={3} value={redirects} onInput={(e) => setRedirects((e.target as HTMLTextAreaElement).value)} />}
      </Field>
      <Field label="Post-logout redirect URIs" hint="One per line">
        {(id) => <textarea id={id} rows={2} value={logouts} onInput={(e) => setLogouts((e.target as HTMLTextAreaElement).value)} />}
      </Field>
      <CheckField label="Active (its key and sign-ins work)" checked={active} onChange={setActive} />
    </ActionForm>
  );
}

function AppUsers({ app }: { app: App }) {
  const session = useSession();
  const me = session.me!;
  const list = usePagedList((page) => session.sso.apps.listAppUsers({ appId: app.id, ...page }), [app.id]);
  const canAssign = may(me, AppRegistryService.method.assignAppUser);
  return (
    <section class="card" aria-labelledby="app-users-title">
      <h2 id="app-users-title">Assigned users</h2>
      <p class="muted">
        Only assigned users may sign in to this app or pass its <code>POST /verify</code>.
      </p>
      {canAssign ? <AssignUser appId={app.id} onAssigned={list.reload} /> : null}
      <PagedRows list={list} empty="Nobody is assigned yet.">
        {(items) => (
          <ul class="plain">
            {items.map((u) => (
              <li key={u.id}>
                <a href={`#/users/${u.id}`}>{userName(u)}</a>{' '}
                {canAssign ? (
                  <ActionButton
                    label="Unassign"
                    run={async () => {
                      await session.sso.apps.unassignAppUser({ appId: app.id, userId: u.id });
                      list.reload();
                    }}
                  />
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </PagedRows>
    </section>
  );
}

/** Finds a user by identifier (when the principal may list users), or takes a user id as typed. */
function AssignUser({ appId, onAssigned }: { appId: string; onAssigned: () => void }) {
  const session = useSession();
  const me = session.me!;
  const [who, setWho] = useState('');
  const action = useAction();
  const assign = () =>
    action.run(async () => {
      let userId = who.trim();
      if (!/^[0-9a-f-]{36}$/i.test(userId) && may(me, DirectoryService.method.listUsers)) {
        const found = await session.sso.directory.listUsers({ identifier: userId, limit: 2 });
        const exact =
          found.items.find((u) => u.identifiers.some((i) => i.identifier.toLowerCase() === userId.toLowerCase())) ??
          (found.items.length === 1 ? found.items[0] : undefined);
        if (!exact) throw new Error(`No single user matches “${userId}”.`);
        userId = exact.id;
      }
      await session.sso.apps.assignAppUser({ appId, userId });
      setWho('');
      onAssigned();
    });
  return (
    <form
      class="toolbar"
      aria-label="Assign a user"
      onSubmit={(e) => {
        e.preventDefault();
        void assign();
      }}
    >
      <TextField label="Assign user" hint="Identifier or user id" value={who} onInput={setWho} required />
      <button type="submit" disabled={action.busy}>
        Assign
      </button>
      <ErrorNote error={action.error} />
    </form>
  );
}
