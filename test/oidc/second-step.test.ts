// Issue 12 on the hosted sign-in page, over real sockets (embedded database, or PostgreSQL with
// TEST_DATABASE_URL): after a right password a user with a second factor gets a second form (TOTP
// or recovery code), held by an HttpOnly cookie carrying the login's mfa_token, CSRF-protected like
// the first; the right code starts the SSO session with amr otp/mfa and resumes the authorization
// request (the ID token says amr and acr); wrong codes count toward the API's lockout and are
// audited; a user the MFA policy asks to enrol is led through TOTP enrolment and continues; the
// account page adds an authenticator app.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { sha256Hex } from '../../src/auth/index.js';
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

const PASSWORD = 'Password-123-abc';
const PAPE_MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

let server: TestServer;
let admin: { id: string; token: string };
let app: TestClient & { secret: string };

const db = () => server.app.database.dataSource;

/** A TOTP code `offset` steps from now, computed here with otplib (±1 step is accepted). */
function code(secret: string, offset = 0): Promise<string> {
  return generate({ secret, period: 30, epoch: Math.floor(Date.now() / 1000) + offset * 30 });
}

/** A six-digit code that is none of the codes the server would accept now. */
async function wrongCode(secret: string): Promise<string> {
  const right = new Set(await Promise.all([-1, 0, 1].map((o) => code(secret, o))));
  for (let n = 0; ; n++) {
    const c = String(n).padStart(6, '0');
    if (!right.has(c)) return c;
  }
}

function claimsOf(jwt: string): any {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
}

const unescape = (s: string) =>
  s
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");

async function auditCount(where: string, params: unknown[] = []): Promise<number> {
  const [{ n }] = await db().query(`SELECT count(*)::int AS n FROM audit_events WHERE ${where}`, params);
  return n;
}

/** A user assigned to the app, with a confirmed TOTP enrolled through the API: its secret and recovery codes. */
async function totpUser(name: string): Promise<{ id: string; identifier: string; secret: string; recoveryCodes: string[] }> {
  const identifier = `${name}@example.com`;
  const user = await apiUser(server, identifier, PASSWORD);
  await assign(server, admin.token, app.id, user.id);
  const started = await server.rest('/api/sso/v1/me/factors/totp', { method: 'POST', token: user.token, json: {} });
  const secret = new URL((await started.json()).otpauth_uri).searchParams.get('secret')!;
  const confirmed = await server.rest('/api/sso/v1/me/factors/totp/confirm', {
    method: 'POST',
    token: user.token,
    json: { code: await code(secret, -1) },
  });
  assert.equal(confirmed.status, 200, await confirmed.clone().text());
  return { id: user.id, identifier, secret, recoveryCodes: (await confirmed.json()).recovery_codes };
}

/** The code's tokens at the token endpoint (the app is a confidential client). */
async function exchange(location: URL, verifier: string): Promise<{ idClaims: any; accessClaims: any }> {
  const res = await server.rest('/oauth/token', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: location.searchParams.get('code')!,
      redirect_uri: app.redirectUri,
      code_verifier: verifier,
    }).toString(),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const body = await res.json();
  return { idClaims: claimsOf(body.id_token), accessClaims: claimsOf(body.access_token) };
}

/** A sign-in through an authorization request up to the second form: its page and the query. */
async function toSecondStep(b: Browser, identifier: string): Promise<{ res: Response; html: string; verifier: string }> {
  const { verifier, challenge } = pkce();
  const res = await signInThrough(
    b,
    authorizeQuery(app, { state: 's-1', nonce: 'n-1', code_challenge: challenge, code_challenge_method: 'S256' }),
    identifier,
    PASSWORD,
  );
  return { res, html: await res.text(), verifier };
}

before(async () => {
  server = await startTestServer({ loginMaxFailures: 3, loginMaxFailuresPerIp: 10_000 });
  admin = await apiUser(server, 'admin@example.com', 'AdminPassword123!');
  const client = await createClientApp(server, admin.token, { name: 'Ledger' });
  const secret = randomBytes(32).toString('base64url');
  await db().query('UPDATE apps SET client_secret_hash = $2 WHERE id = $1', [client.id, sha256Hex(secret)]);
  app = { ...client, secret };
});

after(async () => {
  await server?.stop();
});

describe('the second step on the hosted page', () => {
  test('a right password gives the second form, held by an HttpOnly cookie, with no token in the page', async () => {
    const user = await totpUser('form');
    const b = new Browser(server.url);
    const { res, html } = await toSecondStep(b, user.identifier);
    assert.equal(res.status, 200);
    assert.equal(b.jar.get('usso-session'), undefined, 'no SSO session after the password alone');
    const held = b.lastSetCookies.find((l) => l.startsWith('usso-mfa='))!;
    assert.ok(held, 'the held sign-in cookie');
    const attrs = new Set(
      held
        .split(';')
        .slice(1)
        .map((a) => a.trim().toLowerCase()),
    );
    for (const a of ['httponly', 'samesite=strict', 'path=/oidc', 'max-age=300']) assert.ok(attrs.has(a), `${a} in ${held}`);
    assert.doesNotMatch(html, /mfa_/, 'the mfa_token is in the cookie only, never in the page');
    assert.match(html, /<form method="post" action="\/oidc\/mfa">/);
    assert.match(html, /<input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric"/);
    assert.match(html, /name="recovery_code"/);
    assert.doesNotMatch(html, /data-passkey="second"/, 'no passkey: no passkey button');
    assert.match(html, /to continue to <strong>Ledger<\/strong>/);
    assert.match(res.headers.get('content-security-policy')!, /script-src 'self'.*form-action 'self' https:\/\/ledger\.example\.test/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    // The form carries the authorization request (re-validated when posted) and the CSRF token, nothing else.
    assert.deepEqual(
      hiddenFields(html, '/oidc/mfa')
        .map(([n]) => n)
        .sort(),
      ['client_id', 'code_challenge', 'code_challenge_method', 'csrf', 'nonce', 'redirect_uri', 'response_type', 'scope', 'state'],
    );
    const [{ n }] = await db().query(
      `SELECT count(*)::int AS n FROM audit_events WHERE type = 'login' AND actor_id = $1 AND outcome = 'success' AND detail->>'reason' = 'MFA_REQUIRED'`,
      [user.id],
    );
    assert.equal(n, 1, "the held login is audited as the API's is");
  });

  test('the right TOTP code starts the SSO session (amr otp, mfa) and resumes the request: a code, then tokens with amr and acr', async () => {
    const user = await totpUser('right');
    const b = new Browser(server.url);
    const { html, verifier } = await toSecondStep(b, user.identifier);
    const done = await b.post('/oidc/mfa', [
      ...hiddenFields(html, '/oidc/mfa'),
      ['code', (await code(user.secret)).replace(/(\d{3})/, '$1 ')],
    ]);
    const location = locationOf(done);
    assert.equal(location.origin + location.pathname, app.redirectUri);
    assert.equal(location.searchParams.get('state'), 's-1');
    assert.equal(location.searchParams.get('iss'), server.config.issuer);
    assert.ok(b.jar.get('usso-session'), 'the SSO session cookie');
    const [session] = await db().query(`SELECT amr FROM sessions WHERE user_id = $1 AND kind = 'browser'`, [user.id]);
    assert.deepEqual(session.amr, ['password', 'pwd', 'otp', 'mfa']);
    const { idClaims, accessClaims } = await exchange(location, verifier);
    assert.equal(idClaims.sub, user.id);
    assert.equal(idClaims.nonce, 'n-1');
    assert.deepEqual(idClaims.amr, ['pwd', 'otp', 'mfa'], 'RFC 8176 names in the ID token');
    assert.equal(idClaims.acr, PAPE_MFA);
    assert.deepEqual(accessClaims.amr, ['password', 'pwd', 'otp', 'mfa']);
    assert.equal(accessClaims.acr, PAPE_MFA);
    // The same browser is signed in: the next request gets a code without any form.
    const again = locationOf(await b.get(`/oidc/authorize?${authorizeQuery(app)}`));
    assert.ok(again.searchParams.get('code'));
    // The held sign-in is spent: its cookie cannot complete another one.
    const replay = await b.post('/oidc/mfa', [...hiddenFields(html, '/oidc/mfa'), ['code', await code(user.secret, 1)]]);
    assert.equal(replay.status, 401);
    assert.match(await replay.text(), /Your sign-in has expired/);
  });

  test("a password-only user's tokens carry no acr", async () => {
    const plain = await apiUser(server, 'plain@example.com', PASSWORD);
    await assign(server, admin.token, app.id, plain.id);
    const { verifier, challenge } = pkce();
    const res = await signInThrough(
      new Browser(server.url),
      authorizeQuery(app, { code_challenge: challenge, code_challenge_method: 'S256' }),
      'plain@example.com',
      PASSWORD,
    );
    const { idClaims, accessClaims } = await exchange(locationOf(res), verifier);
    assert.deepEqual(idClaims.amr, ['pwd']);
    assert.equal(idClaims.acr, undefined);
    assert.equal(accessClaims.acr, undefined);
    const discovery = await (await server.rest('/.well-known/openid-configuration')).json();
    assert.deepEqual(discovery.acr_values_supported, [PAPE_MFA]);
  });

  test('a recovery code completes it once (amr mfa without otp)', async () => {
    const user = await totpUser('recovery');
    const b = new Browser(server.url);
    const { html, verifier } = await toSecondStep(b, user.identifier);
    const recoveryForm = hiddenFields(html.slice(html.indexOf('<details')), '/oidc/mfa');
    const done = await b.post('/oidc/mfa', [...recoveryForm, ['recovery_code', user.recoveryCodes[0]!.toLowerCase()]]);
    const { idClaims } = await exchange(locationOf(done), verifier);
    assert.deepEqual(idClaims.amr, ['pwd', 'mfa']);
    // Spent: a new sign-in cannot use it again, but another code works.
    const b2 = new Browser(server.url);
    const again = await toSecondStep(b2, user.identifier);
    const recoveryAgain = hiddenFields(again.html.slice(again.html.indexOf('<details')), '/oidc/mfa');
    const reused = await b2.post('/oidc/mfa', [...recoveryAgain, ['recovery_code', user.recoveryCodes[0]!]]);
    assert.equal(reused.status, 401);
    assert.match(await reused.text(), /That code is not correct, or was already used/);
    assert.ok(
      locationOf(await b2.post('/oidc/mfa', [...recoveryAgain, ['recovery_code', user.recoveryCodes[1]!]])).searchParams.has('code'),
    );
  });

  test("wrong codes count toward the account's lockout (shared with the API) and are audited; the lock refuses even the right code", async () => {
    const user = await totpUser('guesser');
    const b = new Browser(server.url);
    const { html } = await toSecondStep(b, user.identifier);
    const fields = hiddenFields(html, '/oidc/mfa');
    const wrong = await wrongCode(user.secret);
    // The limit is 3: the held login's password attempt stays counted until its second step
    // succeeds (as at the API), so two wrong codes reach it.
    for (let i = 0; i < 2; i++) {
      const res = await b.post('/oidc/mfa', [...fields, ['code', wrong]]);
      assert.equal(res.status, 401, `try ${i + 1}`);
      const page = await res.text();
      assert.match(page, /That code is not correct/);
      assert.match(page, /action="\/oidc\/mfa"/, 'the second form again');
    }
    const locked = await b.post('/oidc/mfa', [...fields, ['code', await code(user.secret)]]);
    assert.equal(locked.status, 429);
    assert.match(locked.headers.get('retry-after') ?? '', /^\d+$/);
    assert.match(await locked.text(), /Too many failed attempts/);
    assert.equal(b.jar.get('usso-session'), undefined);
    assert.equal(await auditCount(`type = 'mfa.totp' AND outcome = 'failure' AND actor_id = $1`, [user.id]), 2);
    const [row] = await db().query('SELECT locked_until > now() AS locked FROM login_throttles WHERE key = $1', [`user:${user.id}`]);
    assert.equal(row.locked, true, 'the account is locked');
    assert.ok((await auditCount(`type = 'mfa.totp' AND outcome = 'locked' AND actor_id = $1`, [user.id])) >= 1);
    // The API's login of the same name is locked too: one count.
    const api = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier: user.identifier, secret: PASSWORD } });
    assert.equal(api.status, 429);
  });

  test('CSRF: the second form without the token, or from another origin, is refused before any code is looked at', async () => {
    const user = await totpUser('csrf');
    const b = new Browser(server.url);
    const { html } = await toSecondStep(b, user.identifier);
    const fields = hiddenFields(html, '/oidc/mfa');
    const right = await code(user.secret);
    const noToken = await b.post('/oidc/mfa', [...fields.filter(([n]) => n !== 'csrf'), ['code', right]]);
    assert.equal(noToken.status, 403);
    const otherToken = await b.post('/oidc/mfa', [
      ...fields.map(([n, v]): [string, string] => [n, n === 'csrf' ? randomBytes(32).toString('base64url') : v]),
      ['code', right],
    ]);
    assert.equal(otherToken.status, 403);
    const crossSite = await b.post('/oidc/mfa', [...fields, ['code', right]], { origin: 'https://evil.example' });
    assert.equal(crossSite.status, 403);
    assert.match(await crossSite.text(), /expired or was sent from another site/);
    assert.equal(b.jar.get('usso-session'), undefined);
    assert.equal(
      await auditCount(
        `type LIKE 'mfa.%' AND actor_id = $1 AND type <> 'mfa.totp.confirm' AND type <> 'mfa.totp.enroll' AND type <> 'mfa.recovery_codes.generate'`,
        [user.id],
      ),
      0,
      'no code was checked',
    );
    // The held sign-in is untouched: the same form from our page completes it.
    assert.equal(locationOf(await b.post('/oidc/mfa', [...fields, ['code', right]])).searchParams.has('code'), true);
  });

  test('an edited authorization request in the second form is validated again: an unregistered redirect_uri is refused with a page', async () => {
    const user = await totpUser('edited');
    const b = new Browser(server.url);
    const { html } = await toSecondStep(b, user.identifier);
    const fields = hiddenFields(html, '/oidc/mfa').map(([n, v]): [string, string] => [
      n,
      n === 'redirect_uri' ? 'https://evil.example/cb' : v,
    ]);
    const res = await b.post('/oidc/mfa', [...fields, ['code', await code(user.secret)]]);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
  });
});

describe('enrolment at sign-in, when the MFA policy asks for a factor', () => {
  before(async () => {
    const role = await server.rest('/api/sso/v1/roles', {
      method: 'POST',
      token: admin.token,
      json: { name: 'Treasury', slug: 'treasury', scopes: [] },
    });
    assert.equal(role.status, 200, await role.clone().text());
    const put = await server.rest('/api/sso/v1/mfa-policy', { method: 'PUT', token: admin.token, json: { required_roles: ['treasury'] } });
    assert.equal(put.status, 200, await put.clone().text());
  });

  test('a covered user without a factor is shown a new TOTP secret, confirms it with a first code, saves the recovery codes and continues to the app', async () => {
    const made = await server.rest('/api/sso/v1/users', {
      method: 'POST',
      token: admin.token,
      json: { identifier: 'treasurer@example.com', password: PASSWORD, roles: ['treasury'] },
    });
    assert.equal(made.status, 200, await made.clone().text());
    const userId = (await made.json()).id;
    await assign(server, admin.token, app.id, userId);
    const b = new Browser(server.url);
    const { res, html, verifier } = await toSecondStep(b, 'treasurer@example.com');
    assert.equal(res.status, 200);
    assert.match(html, /Set up two-step verification/);
    const uri = unescape(/<code id="otpauth-uri">([^<]+)<\/code>/.exec(html)![1]!);
    assert.match(uri, /^otpauth:\/\/totp\//);
    const secret = new URL(uri).searchParams.get('secret')!;
    assert.equal(/<code id="totp-secret">([^<]+)<\/code>/.exec(html)![1]!.replace(/ /g, ''), secret, 'the key as text too');
    assert.doesNotMatch(html, /mfa_/);
    const fields = hiddenFields(html, '/oidc/mfa');

    // A wrong first code: asked again, without showing the secret again.
    const wrong = await b.post('/oidc/mfa', [...fields, ['code', await wrongCode(secret)]]);
    assert.equal(wrong.status, 401);
    const wrongPage = await wrong.text();
    assert.doesNotMatch(wrongPage, /otpauth:/);
    assert.match(wrongPage, /That code is not correct/);

    const confirmed = await b.post('/oidc/mfa', [...fields, ['code', await code(secret)]]);
    assert.equal(confirmed.status, 200);
    assert.ok(b.jar.get('usso-session'), 'signed in');
    const codesPage = await confirmed.text();
    const codes = [...codesPage.matchAll(/<li><code>([A-Z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]);
    assert.equal(codes.length, 10);
    assert.equal(confirmed.headers.get('cache-control'), 'no-store');
    const next = unescape(/<a href="([^"]+)" id="continue">/.exec(codesPage)![1]!);
    assert.match(next, /^\/oidc\/authorize\?/);
    const location = locationOf(await b.get(next));
    assert.equal(location.searchParams.get('state'), 's-1');
    const { idClaims } = await exchange(location, verifier);
    assert.deepEqual(idClaims.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(idClaims.acr, PAPE_MFA);
    // From now on a second factor is asked.
    const later = await toSecondStep(new Browser(server.url), 'treasurer@example.com');
    assert.match(later.html, /Two-step verification/);
  });
});

describe('the account page', () => {
  test('signed out it is the sign-in page; signed in it lists the factors and adds an authenticator app (CSRF-checked)', async () => {
    const b = new Browser(server.url);
    const out = await b.get('/oidc/account');
    assert.match(await out.text(), /<h1>Sign in<\/h1>/);
    await apiUser(server, 'owner@example.com', PASSWORD);
    const page = await b.get('/oidc/login');
    const signed = await b.post('/oidc/login', [
      ...hiddenFields(await page.text()),
      ['identifier', 'owner@example.com'],
      ['password', PASSWORD],
    ]);
    assert.match(await signed.text(), /href="\/oidc\/account"/);
    const account = await (await b.get('/oidc/account')).text();
    assert.match(account, /Signed in as <strong>owner@example.com<\/strong>/);
    assert.match(account, /No passkey yet/);
    assert.match(account, /data-passkey="register"/);
    const fields = hiddenFields(account, '/oidc/account/totp');
    assert.equal((await b.post('/oidc/account/totp', [])).status, 403, 'no CSRF token');
    assert.equal((await b.post('/oidc/account/totp', fields, { origin: 'https://evil.example' })).status, 403);
    const started = await b.post('/oidc/account/totp', fields);
    assert.equal(started.status, 200);
    const setup = await started.text();
    const secret = new URL(unescape(/<code id="otpauth-uri">([^<]+)<\/code>/.exec(setup)![1]!)).searchParams.get('secret')!;
    const confirmed = await b.post('/oidc/account/totp/confirm', [
      ...hiddenFields(setup, '/oidc/account/totp/confirm'),
      ['code', await code(secret)],
    ]);
    assert.equal(confirmed.status, 200);
    assert.equal([...(await confirmed.text()).matchAll(/<li><code>/g)].length, 10, "the first factor's recovery codes");
    assert.match(await (await b.get('/oidc/account')).text(), /id="totp-status"/);
    // The next sign-in asks for it.
    assert.match((await toSecondStep(new Browser(server.url), 'owner@example.com')).html, /Two-step verification/);
  });

  test('the passkey script is served from the SSO itself, as JavaScript, revalidated by ETag', async () => {
    const res = await server.rest('/oidc/assets/passkey.js');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/javascript/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await res.text(), /navigator\.credentials/);
    const again = await server.rest('/oidc/assets/passkey.js', { headers: { 'if-none-match': res.headers.get('etag')! } });
    assert.equal(again.status, 304);
  });
});
