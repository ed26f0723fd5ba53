// RP-initiated logout over real sockets: an ID token hint signed here ends the SSO session and
// everything its apps were given (refresh tokens included), an expired hint still counts, a
// tampered one is refused, post_logout_redirect_uri only when registered for the client, state
// echoed, and without a hint the user confirms through a CSRF-protected form.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signJwt } from '../../src/auth/index.js';
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
let wiki: TestClient;
let board: TestClient;

before(async () => {
  server = await startTestServer({ issuer });
  const admin = await apiUser(server, 'admin@example.com', 'AdminPassword123!');
  alice = await apiUser(server, ALICE.identifier, ALICE.secret);
  const bob = await apiUser(server, BOB.identifier, BOB.secret);
  wiki = await createClientApp(server, admin.token, { name: 'Wiki', clientType: 'public' });
  board = await createClientApp(server, admin.token, { name: 'Board', clientType: 'public' });
  for (const c of [wiki, board]) for (const u of [alice, bob]) await assign(server, admin.token, c.id, u.id);
});

after(async () => {
  await server?.stop();
});

/** Signs in through the hosted page and redeems the code at the token endpoint, as an app does. */
async function signedInApp(
  b: Browser,
  client: TestClient,
  user = ALICE,
): Promise<{ idToken: string; refreshToken: string; sessionId: string }> {
  const { verifier, challenge } = pkce();
  const query = authorizeQuery(client, { scope: 'openid offline_access', code_challenge: challenge, code_challenge_method: 'S256' });
  const existing = b.jar.has('usso-session')
    ? await b.get(`/oidc/authorize?${query}`)
    : await signInThrough(b, query, user.identifier, user.secret);
  const code = locationOf(existing).searchParams.get('code')!;
  assert.ok(code);
  const res = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      client_id: client.id,
      code_verifier: verifier,
    }).toString(),
  });
  const body = (await res.json()) as { id_token: string; refresh_token: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  return { idToken: body.id_token, refreshToken: body.refresh_token, sessionId: b.jar.get('usso-session')!.split('.')[0]! };
}

async function refreshWorks(client: TestClient, refreshToken: string): Promise<boolean> {
  const res = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.id }).toString(),
  });
  return res.status === 200;
}

async function live(sessionId: string): Promise<boolean> {
  const [row] = await server.app.database.dataSource.query('SELECT revoked_at IS NULL AS live FROM sessions WHERE id = $1', [sessionId]);
  return row.live;
}

function logoutQuery(params: Record<string, string>): string {
  return `/oidc/logout?${new URLSearchParams(params)}`;
}

async function assertRefused(res: Response, text: RegExp): Promise<void> {
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('location'), null);
  assert.match(await res.text(), text);
  assert.equal(res.headers.getSetCookie().length, 0, 'the SSO cookie is kept');
}

describe('with an id_token_hint', () => {
  test('ends the SSO session and every app session under it, clears the cookie, returns with state', async () => {
    const b = new Browser(server.url);
    const a = await signedInApp(b, wiki);
    const other = await signedInApp(b, board);
    assert.equal(other.sessionId, a.sessionId, 'both apps under one SSO session');
    assert.ok(await refreshWorks(board, other.refreshToken));
    const res = await b.get(logoutQuery({ id_token_hint: a.idToken, post_logout_redirect_uri: wiki.postLogoutUri, state: 'bye' }));
    const to = locationOf(res);
    assert.equal(`${to.origin}${to.pathname}`, wiki.postLogoutUri);
    assert.equal(to.searchParams.get('state'), 'bye');
    assert.equal(b.jar.get('usso-session'), undefined, 'cookie cleared');
    assert.match(b.lastSetCookies.find((l) => l.startsWith('usso-session='))!, /Max-Age=0/);
    assert.equal(await live(a.sessionId), false);
    const children = await server.app.database.dataSource.query('SELECT revoked_at FROM sessions WHERE parent_id = $1', [a.sessionId]);
    assert.ok(children.length >= 2);
    assert.ok(children.every((c: { revoked_at: Date | null }) => c.revoked_at));
    assert.equal(await refreshWorks(board, other.refreshToken), false, "the other app's refresh token is dead");
    // The other app's next silent request finds no session.
    const quiet = locationOf(
      await b.get(
        `/oidc/authorize?${authorizeQuery(board, { prompt: 'none', code_challenge: pkce().challenge, code_challenge_method: 'S256' })}`,
      ),
    );
    assert.equal(quiet.searchParams.get('error'), 'login_required');
  });

  test("without the SSO cookie (a cross-site POST), the hint's sid ends the session", async () => {
    const b = new Browser(server.url);
    const a = await signedInApp(b, wiki);
    const res = await fetch(`${server.url}/oidc/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ id_token_hint: a.idToken, post_logout_redirect_uri: wiki.postLogoutUri }).toString(),
    });
    assert.equal(locationOf(res).href, wiki.postLogoutUri);
    assert.equal(await live(a.sessionId), false);
  });

  test('an expired hint is still a hint', async () => {
    const b = new Browser(server.url);
    const a = await signedInApp(b, wiki);
    const now = Math.floor(Date.now() / 1000);
    const expired = await signJwt(
      { iss: issuer, sub: alice.id, aud: wiki.id, iat: now - 7200, exp: now - 3600, sid: a.sessionId },
      await server.app.keys.signingKey(),
    );
    const res = await b.get(logoutQuery({ id_token_hint: expired }));
    assert.equal(res.status, 200);
    assert.match(await res.text(), /You are signed out/);
    assert.equal(await live(a.sessionId), false);
  });

  test('a tampered hint is refused and nothing ends', async () => {
    const b = new Browser(server.url);
    const a = await signedInApp(b, wiki);
    const [h, p, s] = a.idToken.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = [h, Buffer.from(JSON.stringify({ ...claims, aud: board.id })).toString('base64url'), s].join('.');
    const flipped = [h, p, s!.slice(0, -2) + (s!.endsWith('AA') ? 'BB' : 'AA')].join('.');
    for (const hint of [forged, flipped, 'not.a.jwt', a.idToken.slice(0, -10)]) {
      await assertRefused(
        await b.get(logoutQuery({ id_token_hint: hint, post_logout_redirect_uri: wiki.postLogoutUri })),
        /id_token_hint is not an ID token issued here/,
      );
    }
    // An access token is no ID token either.
    await assertRefused(await b.get(logoutQuery({ id_token_hint: alice.token })), /id_token_hint is not an ID token/);
    assert.equal(await live(a.sessionId), true);
  });

  test('an unregistered post_logout_redirect_uri is never used, and nothing ends', async () => {
    const b = new Browser(server.url);
    const a = await signedInApp(b, wiki);
    for (const uri of ['https://evil.example/out', board.postLogoutUri, `${wiki.postLogoutUri}/x`, wiki.redirectUri]) {
      await assertRefused(
        await b.get(logoutQuery({ id_token_hint: a.idToken, post_logout_redirect_uri: uri, state: 's' })),
        /not registered/,
      );
    }
    // A client_id that is not the hint's audience does not help.
    await assertRefused(
      await b.get(logoutQuery({ id_token_hint: a.idToken, client_id: board.id, post_logout_redirect_uri: board.postLogoutUri })),
      /audience/,
    );
    assert.equal(await live(a.sessionId), true);
  });

  test("a hint for another user than the browser's asks for confirmation", async () => {
    const b = new Browser(server.url);
    const a = await signedInApp(b, wiki);
    const bobs = await signedInApp(new Browser(server.url), wiki, BOB);
    const res = await b.get(logoutQuery({ id_token_hint: bobs.idToken }));
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Sign out\?/);
    assert.equal(await live(a.sessionId), true);
    assert.equal(await live(bobs.sessionId), true);
  });
});

describe('without a hint: the user confirms', () => {
  test('a confirmation page, then a CSRF-checked post ends the session and returns with state', async () => {
    const b = new Browser(server.url);
    const a = await signedInApp(b, wiki);
    const page = await b.get(logoutQuery({ client_id: wiki.id, post_logout_redirect_uri: wiki.postLogoutUri, state: 'st' }));
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.match(page.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
    const html = await page.text();
    assert.match(html, /Sign out\?/);
    assert.equal(await live(a.sessionId), true, 'a GET alone ends nothing');
    const fields = hiddenFields(html);

    // Forged confirmations: no token, another origin.
    const noToken = await b.post('/oidc/logout', [...fields.filter(([n]) => n !== 'csrf'), ['confirm', 'yes']]);
    assert.equal(noToken.status, 403);
    const crossSite = await b.post('/oidc/logout', [...fields, ['confirm', 'yes']], { origin: 'https://evil.example' });
    assert.equal(crossSite.status, 403);
    assert.equal(await live(a.sessionId), true);

    const res = await b.post('/oidc/logout', [...fields, ['confirm', 'yes']]);
    const to = locationOf(res);
    assert.equal(`${to.origin}${to.pathname}`, wiki.postLogoutUri);
    assert.equal(to.searchParams.get('state'), 'st');
    assert.equal(await live(a.sessionId), false);
    assert.equal(b.jar.get('usso-session'), undefined);
  });

  test('post_logout_redirect_uri needs a client that registered it', async () => {
    const b = new Browser(server.url);
    await signedInApp(b, wiki);
    await assertRefused(await b.get(logoutQuery({ post_logout_redirect_uri: wiki.postLogoutUri })), /not registered/);
    await assertRefused(await b.get(logoutQuery({ client_id: board.id, post_logout_redirect_uri: wiki.postLogoutUri })), /not registered/);
  });

  test('with no session there is nothing to confirm: signed out at once', async () => {
    const res = await new Browser(server.url).get(
      logoutQuery({ client_id: wiki.id, post_logout_redirect_uri: wiki.postLogoutUri, state: 'x' }),
    );
    assert.equal(locationOf(res).searchParams.get('state'), 'x');
    const page = await new Browser(server.url).get('/oidc/logout');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /You are signed out/);
  });
});
