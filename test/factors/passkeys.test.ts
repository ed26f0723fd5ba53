// Issue 12: passkeys proven in real headless Chromium with its virtual authenticator (the
// DevTools protocol's WebAuthn domain, through playwright-core), at the API: a page on the SSO's
// own origin (served by the browser's request interception, the API calls going to the real
// server) registers a passkey, signs in with it passwordless, then uses it as a second factor.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.js';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PASSWORD = 'Password-123-abc';

let server: TestServer;
let browser: Browser;
let page: Page;
let admin: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      })
      .on('error', reject);
  });
}

function claimsOf(token: string): any {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
}

async function post(path: string, json: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await server.rest(path, { method: 'POST', json, token });
  return { status: res.status, body: await res.json() };
}

/** In the page: POST JSON to the SSO (same origin), answering {status, body}. */
const pageHelpers = `
  window.call = async (path, body, token) => {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: 'Bearer ' + token } : {}) }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  window.register = async (token, name) => {
    const o = await call('/api/sso/v1/me/passkeys/options', {}, token);
    const cred = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(o.body.options) });
    return call('/api/sso/v1/me/passkeys', { registration: cred.toJSON(), name }, token);
  };
  window.assertion = async (mfaToken) => {
    const o = await call('/api/sso/v1/auth/passkey/challenge', mfaToken ? { mfa_token: mfaToken } : {});
    const cred = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(o.body.options) });
    return cred.toJSON();
  };
`;

before(async () => {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  server = await startTestServer({ port, issuer: origin, webauthnRpId: 'localhost', webauthnOrigins: [origin] });
  admin = (await post('/api/sso/v1/auth/login', { identifier: 'admin@example.com', secret: 'AdminPassword123!', register: true })).body
    .access_token;
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, timeout: 60_000 });
  page = await browser.newPage();
  await page.route(`${origin}/passkey-test`, (route) =>
    route.fulfill({ contentType: 'text/html', body: `<!doctype html><title>passkeys</title><script>${pageHelpers}</script>` }),
  );
  await page.goto(`${origin}/passkey-test`);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('passkeys in Chromium with a virtual authenticator', () => {
  let userId: string;
  let token: string;
  let recoveryCodes: string[];

  test('a signed-in user registers a passkey (and gets recovery codes with this first factor)', async () => {
    const made = await post('/api/sso/v1/users', { identifiers: [{ identifier: 'pk@example.com' }], password: PASSWORD }, admin);
    userId = made.body.id;
    token = (await post('/api/sso/v1/auth/login', { identifier: 'pk@example.com', secret: PASSWORD })).body.access_token;
    const reg = await page.evaluate(([t]) => (window as any).register(t, 'Laptop'), [token]);
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    assert.equal(reg.body.passkey.name, 'Laptop');
    assert.equal(reg.body.recovery_codes.length, 10);
    recoveryCodes = reg.body.recovery_codes;
    // A second passkey on another authenticator is refused by excludeCredentials only on the same
    // one; the same authenticator registering again is refused by the browser. Several passkeys:
    const factors = await (await server.rest('/api/sso/v1/me/factors', { token })).json();
    assert.equal(factors.passkeys.length, 1);
    assert.equal(factors.recovery_codes_left, 10);
  });

  test('passwordless: a discoverable passkey signs in without an identifier', async () => {
    const assertion = await page.evaluate(() => (window as any).assertion(''));
    const res = await post('/api/sso/v1/auth/passkey', { assertion });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user.id, userId);
    assert.deepEqual(claimsOf(res.body.access_token).amr, ['hwk', 'user', 'mfa']);
    // The same assertion again: its challenge is spent.
    const replay = await post('/api/sso/v1/auth/passkey', { assertion });
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error_code, 'INVALID_SECOND_FACTOR');
  });

  test('as a second factor after the password', async () => {
    const held = await post('/api/sso/v1/auth/login', { identifier: 'pk@example.com', secret: PASSWORD });
    assert.equal(held.body.status, 'mfa_required');
    assert.deepEqual(held.body.second_step.factors, ['recovery_code', 'passkey']);
    // A passwordless challenge's assertion does not answer a login's second step.
    const stray = await page.evaluate(() => (window as any).assertion(''));
    const refused = await post('/api/sso/v1/auth/mfa', { mfa_token: held.body.mfa_token, passkey_assertion: stray });
    assert.equal(refused.status, 401);
    const assertion = await page.evaluate(([m]) => (window as any).assertion(m), [held.body.mfa_token]);
    const done = await post('/api/sso/v1/auth/mfa', { mfa_token: held.body.mfa_token, passkey_assertion: assertion });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(claimsOf(done.body.access_token).amr, ['password', 'pwd', 'hwk', 'mfa']);
    token = done.body.access_token;
    const [row] = await server.app.database.dataSource.query(
      'SELECT counter::int AS counter, last_used_at IS NOT NULL AS used FROM passkeys WHERE user_id = $1',
      [userId],
    );
    assert.ok(row.used);
    assert.ok(row.counter >= 0);
  });

  test('rename, then delete with proof; the stored credential holds no secret', async () => {
    const [{ id }] = (await (await server.rest('/api/sso/v1/me/factors', { token })).json()).passkeys;
    const renamed = await server.rest(`/api/sso/v1/me/passkeys/${id}`, { method: 'PATCH', json: { name: 'Work laptop' }, token });
    assert.equal((await renamed.json()).name, 'Work laptop');
    assert.equal((await post(`/api/sso/v1/me/passkeys/${id}/delete`, { proof: {} }, token)).body.error_code, 'FACTOR_PROOF_REQUIRED');
    const removed = await post(`/api/sso/v1/me/passkeys/${id}/delete`, { proof: { recovery_code: recoveryCodes[0] } }, token);
    assert.deepEqual(removed, { status: 200, body: { success: true } });
    assert.equal((await post('/api/sso/v1/auth/login', { identifier: 'pk@example.com', secret: PASSWORD })).body.status, undefined);
    const events = await server.app.database.dataSource.query(
      `SELECT type FROM audit_events WHERE actor_id = $1 AND type LIKE 'mfa.passkey%' AND outcome = 'success' ORDER BY occurred_at`,
      [userId],
    );
    assert.deepEqual(
      events.map((e: any) => e.type),
      ['mfa.passkey.register', 'mfa.passkey', 'mfa.passkey', 'mfa.passkey.rename', 'mfa.passkey.remove'],
    );
  });
});
