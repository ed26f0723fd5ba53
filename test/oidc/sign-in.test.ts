// The hosted sign-in page over real sockets: its form and headers (clickjacking, caching, content
// policy), the cookies it sets, CSRF refusals before any credential is checked, messages that do
// not tell who exists, the API login's lockout and audit, registration, and the SSO session as a
// sessions row that ListSessions shows and DeleteSession ends with its children.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  apiUser,
  assign,
  authorizeQuery,
  Browser,
  createClientApp,
  hiddenFields,
  locationOf,
  signInThrough,
  type TestClient,
} from './support.js';

const ALICE = { identifier: 'alice@example.com', secret: 'AlicePassword123!' };

let server: TestServer;
let admin: { id: string; token: string };
let alice: { id: string; token: string };
let app: TestClient;

before(async () => {
  server = await startTestServer({ loginMaxFailures: 3 });
  admin = await apiUser(server, 'admin@example.com', 'AdminPassword123!');
  alice = await apiUser(server, ALICE.identifier, ALICE.secret);
  app = await createClientApp(server, admin.token, { name: 'Wiki' });
  await assign(server, admin.token, app.id, alice.id);
});

after(async () => {
  await server?.stop();
});

function cookieLine(b: Browser, name: string): string {
  const line = b.lastSetCookies.find((l) => l.startsWith(`${name}=`));
  assert.ok(line, `a ${name} cookie was set`);
  return line;
}

function attributes(line: string): Set<string> {
  return new Set(
    line
      .split(';')
      .slice(1)
      .map((a) => a.trim().toLowerCase()),
  );
}

async function auditCount(where: string): Promise<number> {
  const [{ n }] = await server.app.database.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE ${where}`);
  return n;
}

describe('the page', () => {
  test('a plain form: identifier, password, Enter submits; nothing from elsewhere; one script of our own', async () => {
    const res = await new Browser(server.url).get(`/oidc/authorize?${authorizeQuery(app)}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html; charset=utf-8/);
    const html = await res.text();
    assert.match(html, /<form method="post" action="\/oidc\/login">/);
    assert.match(html, /<input type="text" id="identifier" name="identifier" autocomplete="username"/);
    assert.match(html, /<input type="password" id="password" name="password" autocomplete="current-password"/);
    assert.match(html, /<label for="identifier">/);
    assert.match(html, /<label for="password">/);
    // The first submit button is the default one: Enter signs in.
    assert.ok(html.indexOf('<button type="submit">Sign in</button>') < html.indexOf('name="register"'));
    assert.match(html, /Create account/, 'registration is open by default');
    assert.match(html, /to continue to <strong>Wiki<\/strong>/);
    assert.doesNotMatch(html, /(src|href)="https?:/i);
    // The passkey button's script, from this server (nothing inline); its form is hidden until it runs.
    assert.deepEqual(
      [...html.matchAll(/<script[^>]*>[^<]*<\/script>/g)].map((m) => m[0]),
      ['<script src="/oidc/assets/passkey.js" defer></script>'],
    );
    assert.match(html, /<form method="post" action="\/oidc\/passkey" data-passkey="login" hidden>/);
  });

  test('clickjacking, caching and content policy headers', async () => {
    for (const path of [`/oidc/authorize?${authorizeQuery(app)}`, '/oidc/login', `/oidc/authorize?client_id=${app.id}`]) {
      const res = await new Browser(server.url).get(path);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.match(csp, /default-src 'self'/, path);
      assert.match(csp, /script-src 'self'(;|$)/, path);
      assert.match(csp, /style-src 'sha256-[A-Za-z0-9+/=]+'/, path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(res.headers.get('cache-control'), 'no-store', path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
    }
    // The form's answer may redirect to the app: its origin is a permitted form target.
    const res = await new Browser(server.url).get(`/oidc/authorize?${authorizeQuery(app)}`);
    assert.match(res.headers.get('content-security-policy')!, new RegExp(`form-action 'self' ${new URL(app.redirectUri).origin}`));
  });

  test('the CSRF cookie: HttpOnly, SameSite=Strict, scoped to /oidc, reused across tabs', async () => {
    const b = new Browser(server.url);
    const html = await (await b.get(`/oidc/authorize?${authorizeQuery(app)}`)).text();
    const attrs = attributes(cookieLine(b, 'usso-csrf'));
    assert.ok(attrs.has('httponly'));
    assert.ok(attrs.has('samesite=strict'));
    assert.ok(attrs.has('path=/oidc'));
    assert.ok(!attrs.has('secure'), 'not under plain http');
    const token = hiddenFields(html).find(([n]) => n === 'csrf')![1];
    assert.equal(b.jar.get('usso-csrf'), token);
    const second = await (await b.get(`/oidc/authorize?${authorizeQuery(app)}`)).text();
    assert.equal(hiddenFields(second).find(([n]) => n === 'csrf')![1], token, 'a second tab keeps the same token');
    assert.equal(b.lastSetCookies.length, 0);
  });

  test('wrong methods and bodies', async () => {
    const put = await fetch(`${server.url}/oidc/login`, { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, POST');
    const json = await fetch(`${server.url}/oidc/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(json.status, 415);
    const big = await fetch(`${server.url}/oidc/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `a=${'x'.repeat(70_000)}`,
    });
    assert.equal(big.status, 413);
    const nul = await fetch(`${server.url}/oidc/authorize?client_id=%00`);
    assert.equal(nul.status, 400);
  });
});

describe('signing in', () => {
  test('the SSO cookie: usso-session=<id>.<secret>, HttpOnly, SameSite=Lax, Path=/, only a hash stored', async () => {
    const b = new Browser(server.url);
    locationOf(await signInThrough(b, authorizeQuery(app), ALICE.identifier, ALICE.secret));
    const line = cookieLine(b, 'usso-session');
    const attrs = attributes(line);
    assert.ok(attrs.has('httponly'));
    assert.ok(attrs.has('samesite=lax'));
    assert.ok(attrs.has('path=/'));
    assert.ok(!attrs.has('secure'), 'the issuer is plain http here');
    const [id, secret] = b.jar.get('usso-session')!.split('.');
    assert.match(secret!, /^[A-Za-z0-9_-]{43}$/);
    const [row] = await server.app.database.dataSource.query(
      `SELECT kind, refresh_hash, refresh_hash = encode(sha256($2::bytea), 'hex') AS hashed FROM sessions WHERE id = $1`,
      [id, secret],
    );
    assert.equal(row.kind, 'browser');
    assert.equal(row.hashed, true);
    assert.ok(!row.refresh_hash.includes(secret!));
  });

  test('Secure when the issuer is https', async () => {
    const tls = await startTestServer({ issuer: 'https://sso.example.test' });
    try {
      const a = await apiUser(tls, 'admin@example.com', 'AdminPassword123!');
      const c = await createClientApp(tls, a.token, { name: 'Wiki' });
      await assign(tls, a.token, c.id, a.id);
      const b = new Browser(tls.url);
      locationOf(await signInThrough(b, authorizeQuery(c), 'admin@example.com', 'AdminPassword123!'));
      assert.ok(attributes(cookieLine(b, 'usso-session')).has('secure'));
      await b.get(`/oidc/authorize?${authorizeQuery(c, { prompt: 'login' })}`);
    } finally {
      await tls.stop();
    }
  });

  test('the sign-in page on its own: a session without an app waiting', async () => {
    const b = new Browser(server.url);
    const html = await (await b.get('/oidc/login')).text();
    assert.deepEqual(
      hiddenFields(html).map(([n]) => n),
      ['csrf'],
    );
    const res = await b.post('/oidc/login', [...hiddenFields(html), ['identifier', ALICE.identifier], ['password', ALICE.secret]]);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /You are signed in/);
    assert.ok(b.jar.get('usso-session'));
    assert.ok(locationOf(await b.get(`/oidc/authorize?${authorizeQuery(app, { prompt: 'none' })}`)).searchParams.get('code'));
  });

  test('the pending request is validated again when the form is posted', async () => {
    const b = new Browser(server.url);
    const html = await (await b.get(`/oidc/authorize?${authorizeQuery(app)}`)).text();
    const fields = hiddenFields(html).map(([n, v]): [string, string] => (n === 'redirect_uri' ? [n, 'https://evil.example/cb'] : [n, v]));
    const res = await b.post('/oidc/login', [...fields, ['identifier', ALICE.identifier], ['password', ALICE.secret]]);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.equal(b.jar.get('usso-session'), undefined, 'no credential was checked');
    const scoped = hiddenFields(html).map(([n, v]): [string, string] => (n === 'scope' ? [n, 'openid admin'] : [n, v]));
    const back = locationOf(await b.post('/oidc/login', [...scoped, ['identifier', ALICE.identifier], ['password', ALICE.secret]]));
    assert.equal(back.searchParams.get('error'), 'invalid_scope');
  });
});

describe('cross-site request forgery', () => {
  async function attempt(
    mutate: (b: Browser, fields: [string, string][]) => { fields: [string, string][]; headers?: Record<string, string> },
  ): Promise<Response> {
    const b = new Browser(server.url);
    const html = await (await b.get(`/oidc/authorize?${authorizeQuery(app)}`)).text();
    const { fields, headers } = mutate(b, hiddenFields(html));
    const before = await auditCount(`type = 'login'`);
    const res = await b.post('/oidc/login', [...fields, ['identifier', ALICE.identifier], ['password', ALICE.secret]], headers);
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /expired or was sent from another site/);
    assert.equal(b.jar.get('usso-session'), undefined);
    assert.equal(await auditCount(`type = 'login'`), before, 'no credential was checked');
    return res;
  }
  const without = (fields: [string, string][]) => fields.filter(([n]) => n !== 'csrf');

  test('token missing from the form', async () => {
    await attempt((_b, fields) => ({ fields: without(fields) }));
  });

  test('wrong token in the form', async () => {
    await attempt((_b, fields) => ({ fields: [...without(fields), ['csrf', 'A'.repeat(43)]] }));
  });

  test('no CSRF cookie (another site posting: a Strict cookie is not sent)', async () => {
    await attempt((b, fields) => {
      b.jar.delete('usso-csrf');
      return { fields };
    });
  });

  test('another Origin, even with the right token', async () => {
    await attempt((_b, fields) => ({ fields, headers: { origin: 'https://evil.example' } }));
    await attempt((_b, fields) => ({ fields, headers: { origin: 'null' } }));
  });

  test('no Origin but Sec-Fetch-Site cross-site', async () => {
    const b = new Browser(server.url);
    const html = await (await b.get(`/oidc/authorize?${authorizeQuery(app)}`)).text();
    const cookie = `usso-csrf=${b.jar.get('usso-csrf')}`;
    const res = await fetch(`${server.url}/oidc/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams([...hiddenFields(html), ['identifier', ALICE.identifier], ['password', ALICE.secret]]).toString(),
    });
    assert.equal(res.status, 403);
  });
});

describe("credentials: the API login's rules", () => {
  test('a wrong password and an unknown identifier read the same', async () => {
    const pages: string[] = [];
    for (const identifier of [ALICE.identifier, 'nobody@example.com']) {
      const b = new Browser(server.url);
      const res = await signInThrough(b, authorizeQuery(app), identifier, 'Wrong-password-1');
      assert.equal(res.status, 401);
      const html = await res.text();
      assert.match(html, /role="alert"[^>]*>The identifier or password is not correct\./);
      pages.push(html.replace(/value="[^"]*"/g, ''));
      assert.equal(b.jar.get('usso-session'), undefined);
    }
    assert.equal(pages[0], pages[1]);
    await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: ALICE });
  });

  test('failures at the page count toward the same lockout as the API login, and are audited', async () => {
    const victim = await apiUser(server, 'victim@example.com', 'VictimPassword123!');
    await assign(server, admin.token, app.id, victim.id);
    const failuresBefore = await auditCount(`type = 'login' AND outcome = 'failure' AND identifier = 'victim@example.com'`);
    for (let i = 0; i < 2; i++) {
      assert.equal((await signInThrough(new Browser(server.url), authorizeQuery(app), 'victim@example.com', 'wrong-password')).status, 401);
    }
    // The third failure through the API: the same counter.
    const api = await server.rest('/api/sso/v1/auth/login', {
      method: 'POST',
      json: { identifier: 'victim@example.com', secret: 'wrong-password' },
    });
    assert.equal(api.status, 401);
    const locked = await signInThrough(new Browser(server.url), authorizeQuery(app), 'victim@example.com', 'VictimPassword123!');
    assert.equal(locked.status, 429);
    assert.match(locked.headers.get('retry-after') ?? '', /^\d+$/);
    assert.match(await locked.text(), /Too many failed attempts; try again in \d+ seconds\./);
    const apiLocked = await server.rest('/api/sso/v1/auth/login', {
      method: 'POST',
      json: { identifier: 'victim@example.com', secret: 'VictimPassword123!' },
    });
    assert.equal(apiLocked.status, 429);
    assert.equal((await auditCount(`type = 'login' AND outcome = 'failure' AND identifier = 'victim@example.com'`)) - failuresBefore, 3);
    assert.ok((await auditCount(`type = 'login' AND outcome = 'locked' AND identifier = 'victim@example.com'`)) >= 1);
  });

  test('a success is audited as a login', async () => {
    const before = await auditCount(`type = 'login' AND outcome = 'success' AND actor_id = '${alice.id}'`);
    locationOf(await signInThrough(new Browser(server.url), authorizeQuery(app), ALICE.identifier, ALICE.secret));
    assert.equal(await auditCount(`type = 'login' AND outcome = 'success' AND actor_id = '${alice.id}'`), before + 1);
  });

  test('an empty or malformed identifier is a clear message, not a lookup', async () => {
    const empty = await signInThrough(new Browser(server.url), authorizeQuery(app), '', 'x');
    assert.equal(empty.status, 400);
    assert.match(await empty.text(), /Enter your identifier and your password/);
    const bad = await signInThrough(new Browser(server.url), authorizeQuery(app), 'no spaces allowed', 'whatever-password');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Enter an e-mail address, a phone number or a username/);
  });

  test('registration through the page where it is open; the new user still needs an assignment', async () => {
    const b = new Browser(server.url);
    const res = await signInThrough(b, authorizeQuery(app, { state: 'r' }), 'newcomer@example.com', 'NewcomerPassword1', { register: '1' });
    const to = locationOf(res);
    assert.equal(to.searchParams.get('error'), 'access_denied');
    assert.ok(b.jar.get('usso-session'));
    assert.equal(await auditCount(`type = 'register' AND outcome = 'success' AND identifier = 'newcomer@example.com'`), 1);
    const weak = await signInThrough(new Browser(server.url), authorizeQuery(app), 'weakling@example.com', 'short', { register: '1' });
    assert.equal(weak.status, 400);
    assert.match(await weak.text(), /8 to 72 bytes/);
  });

  test('registration closed: no button, and register=1 is a plain failed login', async () => {
    const closed = await startTestServer({ allowRegistration: false });
    try {
      const b = new Browser(closed.url);
      const page = await (await b.get('/oidc/login')).text();
      assert.doesNotMatch(page, /Create account|name="register"/);
      const res = await b.post('/oidc/login', [
        ...hiddenFields(page),
        ['identifier', 'stranger@example.com'],
        ['password', 'StrangerPassword1'],
        ['register', '1'],
      ]);
      assert.equal(res.status, 401);
      assert.match(await res.text(), /The identifier or password is not correct/);
      const [{ n }] = await closed.app.database.dataSource.query(
        `SELECT count(*)::int AS n FROM user_identifiers WHERE value = 'stranger@example.com'`,
      );
      assert.equal(n, 0);
    } finally {
      await closed.stop();
    }
  });
});

describe('the SSO session is a session like any other', () => {
  test('ListSessions shows it; DeleteSession ends it and the app sessions granted under it', async () => {
    const b = new Browser(server.url);
    locationOf(await signInThrough(b, authorizeQuery(app), ALICE.identifier, ALICE.secret));
    const browserId = b.jar.get('usso-session')!.split('.')[0]!;
    const listed = (await (await server.rest('/api/sso/v1/sessions?limit=100', { token: alice.token })).json()) as {
      items: { id: string }[];
    };
    assert.ok(
      listed.items.some((s) => s.id === browserId),
      'listed',
    );
    // An app's session under it, as the token endpoint makes them.
    const childId = randomUUID();
    await server.app.database.dataSource.query(
      `INSERT INTO sessions (id, user_id, refresh_hash, audience, amr, expires_at, kind, parent_id, client_id)
       VALUES ($1, $2, 'x', 'wiki', '{password}', now() + interval '1 hour', 'oidc', $3, $4)`,
      [childId, alice.id, browserId, app.id],
    );
    const del = await server.rest(`/api/sso/v1/sessions/${browserId}`, { method: 'DELETE', token: alice.token });
    assert.equal(del.status, 200, await del.clone().text());
    const ended = await server.app.database.dataSource.query('SELECT id FROM sessions WHERE id = ANY($1) AND revoked_at IS NOT NULL', [
      [browserId, childId],
    ]);
    assert.equal(ended.length, 2);
    const after = locationOf(await b.get(`/oidc/authorize?${authorizeQuery(app, { prompt: 'none' })}`));
    assert.equal(after.searchParams.get('error'), 'login_required');
  });

  test("signing in as another user in the same browser ends the first user's SSO session", async () => {
    const b = new Browser(server.url);
    locationOf(await signInThrough(b, authorizeQuery(app), ALICE.identifier, ALICE.secret));
    const first = b.jar.get('usso-session')!.split('.')[0]!;
    await signInThrough(b, authorizeQuery(app, { prompt: 'login' }), 'admin@example.com', 'AdminPassword123!');
    const second = b.jar.get('usso-session')!.split('.')[0]!;
    assert.notEqual(second, first);
    const [row] = await server.app.database.dataSource.query('SELECT revoked_at FROM sessions WHERE id = $1', [first]);
    assert.ok(row.revoked_at);
  });
});
