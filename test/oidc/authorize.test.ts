// The authorization endpoint over real sockets: which requests are refused with a page and which
// back to the app, PKCE, prompt, max_age, state and iss, silent sign-in of a second app within the
// SSO session, and assignment.
import assert from 'node:assert/strict';
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
  pkce,
  signInThrough,
  type TestClient,
} from './support.js';

const issuer = 'http://sso.example.test';
const ALICE = { identifier: 'alice@example.com', secret: 'AlicePassword123!' };
const BOB = { identifier: 'bob@example.com', secret: 'BobPassword123!' };

let server: TestServer;
let alice: { id: string; token: string };
let confidential: TestClient;
let publicClient: TestClient;
let unassigned: TestClient;

before(async () => {
  server = await startTestServer({ issuer });
  const admin = await apiUser(server, 'admin@example.com', 'AdminPassword123!');
  alice = await apiUser(server, ALICE.identifier, ALICE.secret);
  await apiUser(server, BOB.identifier, BOB.secret);
  confidential = await createClientApp(server, admin.token, { name: 'Wiki' });
  publicClient = await createClientApp(server, admin.token, { name: 'Board', clientType: 'public' });
  unassigned = await createClientApp(server, admin.token, { name: 'Payroll' });
  await assign(server, admin.token, confidential.id, alice.id);
  await assign(server, admin.token, publicClient.id, alice.id);
});

after(async () => {
  await server?.stop();
});

/** An error page: 400 HTML, no Location, nothing sent to any redirect URI. */
async function assertErrorPage(res: Response, text: RegExp): Promise<void> {
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('location'), null);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await res.text(), text);
}

/** An error sent back to the app: its redirect URI with error, state and iss. */
function assertErrorBack(res: Response, client: TestClient, error: string, state?: string): URL {
  const to = locationOf(res);
  assert.equal(`${to.origin}${to.pathname}`, client.redirectUri);
  assert.equal(to.searchParams.get('error'), error);
  assert.equal(typeof to.searchParams.get('error_description'), 'string');
  assert.equal(to.searchParams.get('iss'), issuer);
  assert.equal(to.searchParams.get('state'), state ?? null);
  assert.equal(to.searchParams.get('code'), null);
  return to;
}

describe('client and redirect URI not proven: a page, never a redirect', () => {
  test('unregistered redirect URI', async () => {
    const b = new Browser(server.url);
    await assertErrorPage(
      await b.get(`/oidc/authorize?${authorizeQuery(confidential, { redirect_uri: 'https://evil.example/callback', state: 's' })}`),
      /redirect_uri is not registered/,
    );
  });

  test('a redirect URI that only starts like the registered one (exact match)', async () => {
    const b = new Browser(server.url);
    for (const uri of [
      `${confidential.redirectUri}/x`,
      `${confidential.redirectUri}?a=1`,
      confidential.redirectUri.toUpperCase(),
      `${confidential.redirectUri}#f`,
    ]) {
      await assertErrorPage(
        await b.get(`/oidc/authorize?${authorizeQuery(confidential, { redirect_uri: uri })}`),
        /redirect_uri is not registered/,
      );
    }
  });

  test("another client's redirect URI", async () => {
    const b = new Browser(server.url);
    await assertErrorPage(
      await b.get(`/oidc/authorize?${authorizeQuery(confidential, { redirect_uri: publicClient.redirectUri })}`),
      /redirect_uri is not registered/,
    );
  });

  test('missing redirect URI, unknown, malformed or missing client', async () => {
    const b = new Browser(server.url);
    const q = new URLSearchParams({ client_id: confidential.id, response_type: 'code', scope: 'openid' });
    await assertErrorPage(await b.get(`/oidc/authorize?${q}`), /no redirect_uri/);
    q.set('redirect_uri', confidential.redirectUri);
    q.set('client_id', '00000000-0000-4000-8000-000000000000');
    await assertErrorPage(await b.get(`/oidc/authorize?${q}`), /unknown or deactivated/);
    q.set('client_id', 'not-a-uuid');
    await assertErrorPage(await b.get(`/oidc/authorize?${q}`), /unknown or deactivated/);
    q.delete('client_id');
    await assertErrorPage(await b.get(`/oidc/authorize?${q}`), /client_id is missing/);
  });

  test('a deactivated app is no client', async () => {
    const db = server.app.database.dataSource;
    await db.query('UPDATE apps SET is_active = false WHERE id = $1', [confidential.id]);
    try {
      await assertErrorPage(await new Browser(server.url).get(`/oidc/authorize?${authorizeQuery(confidential)}`), /unknown or deactivated/);
    } finally {
      await db.query('UPDATE apps SET is_active = true WHERE id = $1', [confidential.id]);
    }
  });

  test('redirect_uri sent twice', async () => {
    const q = `${authorizeQuery(confidential)}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`;
    await assertErrorPage(await new Browser(server.url).get(`/oidc/authorize?${q}`), /once each/);
  });
});

describe('request errors go back to the proven redirect URI with state and iss', () => {
  test('response_type other than code', async () => {
    const b = new Browser(server.url);
    for (const type of ['token', 'id_token', 'code id_token', 'code token']) {
      assertErrorBack(
        await b.get(`/oidc/authorize?${authorizeQuery(confidential, { response_type: type, state: 'st1' })}`),
        confidential,
        'unsupported_response_type',
        'st1',
      );
    }
    assertErrorBack(
      await b.get(`/oidc/authorize?${authorizeQuery(confidential, { response_type: '', state: 'st1' })}`),
      confidential,
      'invalid_request',
      'st1',
    );
  });

  test("scope without openid, or outside the client's allowed scopes", async () => {
    const b = new Browser(server.url);
    assertErrorBack(
      await b.get(`/oidc/authorize?${authorizeQuery(confidential, { scope: 'profile', state: 'a' })}`),
      confidential,
      'invalid_scope',
      'a',
    );
    assertErrorBack(
      await b.get(`/oidc/authorize?${authorizeQuery(confidential, { scope: 'openid admin', state: 'b' })}`),
      confidential,
      'invalid_scope',
      'b',
    );
    assertErrorBack(
      await b.get(`/oidc/authorize?${authorizeQuery(confidential, { scope: 'openid phone', state: 'c' })}`),
      confidential,
      'invalid_scope',
      'c',
    );
  });

  test('a public client without PKCE', async () => {
    const b = new Browser(server.url);
    assertErrorBack(await b.get(`/oidc/authorize?${authorizeQuery(publicClient, { state: 'p' })}`), publicClient, 'invalid_request', 'p');
  });

  test('plain PKCE is refused, for public and confidential clients, and so is a challenge without a method', async () => {
    const b = new Browser(server.url);
    const { verifier } = pkce();
    for (const client of [publicClient, confidential]) {
      assertErrorBack(
        await b.get(`/oidc/authorize?${authorizeQuery(client, { code_challenge: verifier, code_challenge_method: 'plain', state: 'x' })}`),
        client,
        'invalid_request',
        'x',
      );
      assertErrorBack(
        await b.get(`/oidc/authorize?${authorizeQuery(client, { code_challenge: verifier, state: 'y' })}`),
        client,
        'invalid_request',
        'y',
      );
    }
    assertErrorBack(
      await b.get(`/oidc/authorize?${authorizeQuery(publicClient, { code_challenge_method: 'S256', state: 'z' })}`),
      publicClient,
      'invalid_request',
      'z',
    );
    assertErrorBack(
      await b.get(`/oidc/authorize?${authorizeQuery(publicClient, { code_challenge: 'short', code_challenge_method: 'S256' })}`),
      publicClient,
      'invalid_request',
    );
  });

  test('unknown prompt, prompt=none with others, bad max_age, request objects, a parameter sent twice', async () => {
    const b = new Browser(server.url);
    assertErrorBack(
      await b.get(`/oidc/authorize?${authorizeQuery(confidential, { prompt: 'sometimes' })}`),
      confidential,
      'invalid_request',
    );
    assertErrorBack(
      await b.get(`/oidc/authorize?${authorizeQuery(confidential, { prompt: 'none login' })}`),
      confidential,
      'invalid_request',
    );
    assertErrorBack(await b.get(`/oidc/authorize?${authorizeQuery(confidential, { max_age: '-1' })}`), confidential, 'invalid_request');
    assertErrorBack(
      await b.get(`/oidc/authorize?${authorizeQuery(confidential, { request: 'eyJ.x.y' })}`),
      confidential,
      'request_not_supported',
    );
    assertErrorBack(
      await b.get(`/oidc/authorize?${authorizeQuery(confidential, { response_mode: 'fragment' })}`),
      confidential,
      'invalid_request',
    );
    assertErrorBack(await b.get(`/oidc/authorize?${authorizeQuery(confidential)}&scope=openid`), confidential, 'invalid_request');
  });

  test('prompt=none without an SSO session: login_required at once, no page', async () => {
    const b = new Browser(server.url);
    const res = await b.get(`/oidc/authorize?${authorizeQuery(confidential, { prompt: 'none', state: 'quiet' })}`);
    assertErrorBack(res, confidential, 'login_required', 'quiet');
    // A cookie that proves nothing is no session either.
    b.jar.set('usso-session', `${alice.id}.${'A'.repeat(43)}`);
    assertErrorBack(await b.get(`/oidc/authorize?${authorizeQuery(confidential, { prompt: 'none' })}`), confidential, 'login_required');
  });
});

describe('signing in and single sign-on', () => {
  test('the sign-in page, then a code with state and iss; the code is bound to the request', async () => {
    const b = new Browser(server.url);
    const { challenge } = pkce();
    const query = authorizeQuery(publicClient, {
      state: 'st-123',
      nonce: 'n-456',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      scope: 'openid email',
    });
    const to = locationOf(await signInThrough(b, query, ALICE.identifier, ALICE.secret));
    assert.equal(`${to.origin}${to.pathname}`, publicClient.redirectUri);
    assert.equal(to.searchParams.get('state'), 'st-123');
    assert.equal(to.searchParams.get('iss'), issuer);
    const code = to.searchParams.get('code')!;
    assert.match(code, /^[A-Za-z0-9_-]{43}$/);
    const [row] = await server.app.database.dataSource.query(
      "SELECT client_id, redirect_uri, code_challenge, nonce, scopes, user_id, browser_session_id FROM oidc_codes WHERE code_hash = encode(sha256($1::bytea), 'hex')",
      [code],
    );
    assert.equal(row.client_id, publicClient.id);
    assert.equal(row.redirect_uri, publicClient.redirectUri);
    assert.equal(row.code_challenge, challenge);
    assert.equal(row.nonce, 'n-456');
    assert.deepEqual(row.scopes, ['openid', 'email']);
    assert.equal(row.user_id, alice.id);
    const [session] = await server.app.database.dataSource.query('SELECT kind, user_id, audience, amr FROM sessions WHERE id = $1', [
      row.browser_session_id,
    ]);
    assert.deepEqual({ ...session }, { kind: 'browser', user_id: alice.id, audience: 'sso', amr: ['password'] });
  });

  test('a second app within the SSO session gets a code without any page; prompt=none too', async () => {
    const b = new Browser(server.url);
    locationOf(await signInThrough(b, authorizeQuery(confidential), ALICE.identifier, ALICE.secret));
    const { challenge } = pkce();
    const silent = locationOf(
      await b.get(
        `/oidc/authorize?${authorizeQuery(publicClient, { state: 'b2', code_challenge: challenge, code_challenge_method: 'S256' })}`,
      ),
    );
    assert.ok(silent.searchParams.get('code'));
    assert.equal(silent.searchParams.get('state'), 'b2');
    const quiet = locationOf(await b.get(`/oidc/authorize?${authorizeQuery(confidential, { prompt: 'none' })}`));
    assert.ok(quiet.searchParams.get('code'));
    // A POSTed authorization request works the same.
    const posted = locationOf(
      await b.post('/oidc/authorize', Object.fromEntries(new URLSearchParams(authorizeQuery(confidential, { state: 'p' })))),
    );
    assert.ok(posted.searchParams.get('code'));
    assert.equal(posted.searchParams.get('state'), 'p');
  });

  test('prompt=login shows the page despite the session; signing in again keeps the session and renews auth_time', async () => {
    const b = new Browser(server.url);
    const first = locationOf(await signInThrough(b, authorizeQuery(confidential), ALICE.identifier, ALICE.secret));
    const db = server.app.database.dataSource;
    const sessionOf = async (code: string) =>
      (await db.query(`SELECT browser_session_id AS id FROM oidc_codes WHERE code_hash = encode(sha256($1::bytea), 'hex')`, [code]))[0].id;
    const sessionId = await sessionOf(first.searchParams.get('code')!);
    await db.query(`UPDATE sessions SET auth_time = now() - interval '1 hour' WHERE id = $1`, [sessionId]);
    const oldCookie = b.jar.get('usso-session');
    const page = await b.get(`/oidc/authorize?${authorizeQuery(confidential, { prompt: 'login' })}`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /name="password"/);
    const again = locationOf(
      await signInThrough(b, authorizeQuery(confidential, { prompt: 'login', state: 'again' }), ALICE.identifier, ALICE.secret),
    );
    assert.equal(again.searchParams.get('state'), 'again');
    assert.equal(await sessionOf(again.searchParams.get('code')!), sessionId, 'the same SSO session');
    const [row] = await db.query('SELECT extract(epoch FROM now() - auth_time) AS age FROM sessions WHERE id = $1', [sessionId]);
    assert.ok(Number(row.age) < 60, 'auth_time renewed');
    assert.notEqual(b.jar.get('usso-session'), oldCookie, 'a new cookie secret');
    const stale = new Browser(server.url);
    stale.jar.set('usso-session', oldCookie!);
    assertErrorBack(await stale.get(`/oidc/authorize?${authorizeQuery(confidential, { prompt: 'none' })}`), confidential, 'login_required');
  });

  test('max_age: an older sign-in asks again (login_required with prompt=none), a recent one does not', async () => {
    const b = new Browser(server.url);
    const first = locationOf(await signInThrough(b, authorizeQuery(confidential), ALICE.identifier, ALICE.secret));
    const db = server.app.database.dataSource;
    const [{ id }] = await db.query(`SELECT browser_session_id AS id FROM oidc_codes WHERE code_hash = encode(sha256($1::bytea), 'hex')`, [
      first.searchParams.get('code'),
    ]);
    assert.ok(locationOf(await b.get(`/oidc/authorize?${authorizeQuery(confidential, { max_age: '300' })}`)).searchParams.get('code'));
    await db.query(`UPDATE sessions SET auth_time = now() - interval '10 minutes' WHERE id = $1`, [id]);
    const page = await b.get(`/oidc/authorize?${authorizeQuery(confidential, { max_age: '300' })}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /name="password"/);
    assert.ok(
      hiddenFields(html).some(([n, v]) => n === 'max_age' && v === '300'),
      'the request is carried through the form',
    );
    assertErrorBack(
      await b.get(`/oidc/authorize?${authorizeQuery(confidential, { max_age: '300', prompt: 'none', state: 'm' })}`),
      confidential,
      'login_required',
      'm',
    );
    assert.ok(locationOf(await b.get(`/oidc/authorize?${authorizeQuery(confidential, { max_age: '3600' })}`)).searchParams.get('code'));
  });

  test('login_hint prefills the identifier', async () => {
    const page = await new Browser(server.url).get(
      `/oidc/authorize?${authorizeQuery(confidential, { login_hint: 'alice@example.com"><script>' })}`,
    );
    const html = await page.text();
    assert.match(html, /name="identifier" autocomplete="username" required value="alice@example.com&quot;&gt;&lt;script&gt;"/);
    assert.doesNotMatch(html, /<script>/);
  });

  test('a user not assigned to the app: access_denied, after signing in and within a session', async () => {
    const b = new Browser(server.url);
    assertErrorBack(
      await signInThrough(b, authorizeQuery(unassigned, { state: 'u' }), ALICE.identifier, ALICE.secret),
      unassigned,
      'access_denied',
      'u',
    );
    assert.ok(b.jar.get('usso-session'), 'signed in all the same');
    assertErrorBack(await b.get(`/oidc/authorize?${authorizeQuery(unassigned, { state: 'v' })}`), unassigned, 'access_denied', 'v');
    const bob = new Browser(server.url);
    assertErrorBack(await signInThrough(bob, authorizeQuery(confidential), BOB.identifier, BOB.secret), confidential, 'access_denied');
    const [{ n }] = await server.app.database.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE type = 'authorize' AND outcome = 'failure'`,
    );
    assert.ok(n >= 3);
  });

  test("a deactivated user's SSO session is no longer usable", async () => {
    const admin = await apiUser(server, 'admin@example.com', 'AdminPassword123!');
    const carol = await apiUser(server, 'carol@example.com', 'CarolPassword123!');
    await assign(server, admin.token, confidential.id, carol.id);
    const b = new Browser(server.url);
    locationOf(await signInThrough(b, authorizeQuery(confidential), 'carol@example.com', 'CarolPassword123!'));
    await server.app.database.dataSource.query('UPDATE users SET is_active = false WHERE id = $1', [carol.id]);
    assertErrorBack(await b.get(`/oidc/authorize?${authorizeQuery(confidential, { prompt: 'none' })}`), confidential, 'login_required');
  });
});
