// The admin console: a Preact app served by the SSO at /console, signed in as the SSO's own
// first-party OpenID Connect client, calling every RPC through the generated Connect-Web clients.
import './console.css';
import { render, type ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { DescMethod } from '@bufbuild/protobuf';
import { AgentService, ApiKeyService, AppRegistryService, AuthService, DirectoryService } from '../../client/web.js';
import { may } from './access.js';
import { refusalOf } from './errors.js';
import { ConsoleSession, readConfig, type SignedOut } from './session.js';
import { ErrorNote } from './ui.js';
import { AgentPage, AgentsPage } from './pages/agents.js';
import { ApiKeysPage } from './pages/apikeys.js';
import { AppPage, AppsPage } from './pages/apps.js';
import { AuditPage } from './pages/audit.js';
import { OverviewPage } from './pages/overview.js';
import { RolesPage } from './pages/roles.js';
import { SigningKeysPage } from './pages/signing-keys.js';
import { UserPage, UsersPage } from './pages/users.js';
import { WorkspacePage, WorkspacesPage } from './pages/workspaces.js';
import { setSession, useSession } from './state.js';

interface Section {
  path: string;
  label: string;
  method?: DescMethod;
  render: (id?: string) => ComponentChildren;
}

const sections: Section[] = [
  { path: '', label: 'Overview', render: () => <OverviewPage /> },
  { path: 'users', label: 'Users', method: DirectoryService.method.listUsers, render: (id) => (id ? <UserPage id={id} /> : <UsersPage />) },
  {
    path: 'workspaces',
    label: 'Workspaces',
    method: DirectoryService.method.listWorkspaces,
    render: (id) => (id ? <WorkspacePage id={id} /> : <WorkspacesPage />),
  },
  { path: 'roles', label: 'Roles', method: DirectoryService.method.listRoles, render: () => <RolesPage /> },
  {
    path: 'agents',
    label: 'Agents',
    method: AgentService.method.listAgents,
    render: (id) => (id ? <AgentPage id={id} /> : <AgentsPage />),
  },
  { path: 'apikeys', label: 'API keys', method: ApiKeyService.method.listApiKeys, render: () => <ApiKeysPage /> },
  { path: 'apps', label: 'Apps', method: AppRegistryService.method.listApps, render: (id) => (id ? <AppPage id={id} /> : <AppsPage />) },
  { path: 'audit', label: 'Audit events', method: AuthService.method.listAuditEvents, render: () => <AuditPage /> },
  { path: 'keys', label: 'Signing keys', method: AuthService.method.listSigningKeys, render: () => <SigningKeysPage /> },
];

/** `#/users/<id>` → ['users', '<id>']. */
function parseHash(): [string, string | undefined] {
  const [section = '', id] = location.hash.replace(/^#\/?/, '').split('?')[0]!.split('/');
  return [section, id ? decodeURIComponent(id) : undefined];
}

function useRoute() {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const on = () => {
      setRoute(parseHash());
      // Move focus to the new page's title, so keyboard and screen-reader users land on it.
      requestAnimationFrame(() => document.getElementById('page-title')?.focus());
    };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function Shell() {
  const session = useSession();
  const me = session.me!;
  const [section, id] = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  const visible = sections.filter((s) => !s.method || may(me, s.method, true));
  const current = sections.find((s) => s.path === section);
  const name = me.identifiers[0]?.identifier ?? me.id;
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <button type="button" class="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <a class="brand" href="#/">
          SSO console
        </a>
        <span class="who" title={me.id}>
          <span class="who-name">{name}</span>
          {me.isAdmin ? <span class="chip admin">administrator</span> : null}
        </span>
        <button type="button" onClick={() => session.signOut()}>
          Sign out
        </button>
      </header>
      <nav id="nav" class={menuOpen ? 'nav open' : 'nav'} aria-label="Sections">
        <ul>
          {visible.map((s) => (
            <li key={s.path}>
              <a href={`#/${s.path}`} aria-current={s.path === section ? 'page' : undefined} onClick={() => setMenuOpen(false)}>
                {s.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" class="main">
        {current && (!current.method || may(me, current.method, true)) ? (
          current.render(id)
        ) : (
          <ErrorNote error={{ message: 'This page is not available to you.', reason: 'NOT_OFFERED' }} />
        )}
      </main>
    </div>
  );
}

function SignedOutScreen({ why, onSignIn }: { why: SignedOut; onSignIn: () => void }) {
  const title =
    why.reason === 'signed-out' ? 'You have signed out' : why.reason === 'ended' ? 'Your session has ended' : 'Sign-in did not complete';
  return (
    <main class="signed-out card" id="main">
      <h1>{title}</h1>
      {why.message ? <p role="alert">{why.message}</p> : null}
      <p>
        <button type="button" class="primary" autoFocus onClick={onSignIn}>
          Sign in
        </button>
      </p>
    </main>
  );
}

function App({ session }: { session: ConsoleSession }) {
  const [state, setState] = useState<{ kind: 'loading' } | { kind: 'in' } | { kind: 'out'; why: SignedOut }>({ kind: 'loading' });
  useEffect(() => {
    session.onEnded = (why) => setState({ kind: 'out', why });
    (async () => {
      try {
        if (await session.completeSignIn()) return setState({ kind: 'in' });
        await session.signIn();
      } catch (e) {
        const why =
          e && typeof e === 'object' && 'reason' in e && typeof (e as SignedOut).reason === 'string' && !(e instanceof Error)
            ? (e as SignedOut)
            : { reason: 'refused' as const, message: `${refusalOf(e).message} (${refusalOf(e).reason})` };
        setState({ kind: 'out', why });
      }
    })();
  }, [session]);
  if (state.kind === 'loading')
    return (
      <p class="boot" role="status">
        Signing in…
      </p>
    );
  if (state.kind === 'out') return <SignedOutScreen why={state.why} onSignIn={() => void session.signIn()} />;
  return <Shell />;
}

const config = readConfig();
if (new URL(config.issuer).origin !== location.origin) {
  // The sign-in comes back to the issuer's address (the registered redirect URI), where this
  // tab's PKCE verifier must be waiting: move there first.
  location.replace(`${config.issuer}/console/${location.hash}`);
} else {
  const session = new ConsoleSession(config);
  setSession(session);
  render(<App session={session} />, document.getElementById('app')!);
}
