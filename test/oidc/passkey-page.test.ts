// Issue 12: passkeys on the hosted pages, in real headless Chromium with its virtual authenticator
// (the DevTools protocol's WebAuthn domain, through playwright-core). A user signs in with a
// password, registers a passkey on the SSO's account page, signs out, then, through an OpenID
// Connect authorization request, signs in with the passkey alone (passwordless: a discoverable
// credential names its user), then with a password and the passkey as the second factor. The
// pages' one script comes from the SSO itself (CSP script-src 'self'); with scripts off the
// passkey buttons stay hidden and the password and recovery code forms still sign in.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { sha256Hex } from '../../src/auth/index.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { apiUser, assign, createClientApp, pkce, type TestClient } from './support.js';

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
const IDENTIFIER = 'pk@example.com';
const PAPE_MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

let server: TestServer;
let origin = '';
let app: TestClient & { secret: string };
let userId = '';
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Every callback the app received (a bare HTTP server stands in for the app). */
const callbacks: URL[] = [];
let appServer: http.Server;
/** What the browser's console said about the content policy (nothing, if the pages keep to it). */
const cspViolations: string[] = [];
let recoveryCodes: string[] = [];

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

function claimsOf(jwt: string): any {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
}

/** Starts an authorization request in the page: the PKCE verifier for the exchange. */
async function authorize(p: Page, extra: Record<string, string> = {}): Promise<string> {
  const { verifier, challenge } = pkce();
  const query = new URLSearchParams({
    client_id: app.id,
    redirect_uri: app.redirectUri,
    response_type: 'code',
    scope: 'openid email',
    state: 'st',
    nonce: 'nn',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  await p.goto(`${origin}/oidc/authorize?${query}`);
  return verifier;
}

/** The code the app got last, exchanged at the token endpoint: the ID token's claims. */
async function idTokenOfLastCallback(verifier: string): Promise<any> {
  const callback = callbacks.at(-1)!;
  assert.equal(callback.searchParams.get('state'), 'st');
  const res = await server.rest('/oauth/token', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code')!,
      redirect_uri: app.redirectUri,
      code_verifier: verifier,
    }).toString(),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return claimsOf((await res.json()).id_token);
}

async function newPage(ctx: BrowserContext): Promise<Page> {
  const p = await ctx.newPage();
  p.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  return p;
}

const atApp = (p: Page) => p.waitForURL((u) => u.href.startsWith(app.redirectUri), { timeout: 20_000 });

before(async () => {
  const port = await freePort();
  // localhost: a secure context for WebAuthn over plain http, and the passkeys' RP ID.
  origin = `http://localhost:${port}`;
  server = await startTestServer({ port, issuer: origin, webauthnRpId: 'localhost', webauthnOrigins: [origin] });
  const admin = await apiUser(server, 'admin@example.com', 'AdminPassword123!');
  const appPort = await freePort();
  appServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${appPort}`);
    // Only the callbacks: the browser also asks the app for its favicon.
    if (url.pathname === '/callback') callbacks.push(url);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Vault</title><p id="app">signed in</p>');
  });
  await new Promise<void>((resolve) => appServer.listen(appPort, '127.0.0.1', resolve));
  const client = await createClientApp(server, admin.token, { name: 'Vault', origin: `http://127.0.0.1:${appPort}` });
  const secret = randomBytes(32).toString('base64url');
  await server.app.database.dataSource.query('UPDATE apps SET client_secret_hash = $2 WHERE id = $1', [client.id, sha256Hex(secret)]);
  app = { ...client, secret };
  userId = (await apiUser(server, IDENTIFIER, PASSWORD)).id;
  await assign(server, admin.token, app.id, userId);

  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, timeout: 60_000 });
  context = await browser.newContext();
  page = await newPage(context);
  const cdp = await context.newCDPSession(page);
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
  await context?.close();
  await browser?.close();
  appServer?.closeAllConnections();
  await new Promise((resolve) => (appServer ? appServer.close(resolve) : resolve(undefined)));
  await server?.stop();
});

describe('passkeys on the hosted pages (headless Chromium, virtual authenticator)', () => {
  test("sign in with the password, then register a passkey on the account page (with the first factor's recovery codes)", async () => {
    await page.goto(`${origin}/oidc/login`);
    await page.fill('#identifier', IDENTIFIER);
    await page.fill('#password', PASSWORD);
    await page.press('#password', 'Enter');
    await page.waitForSelector('text=You are signed in');
    await page.click('a[href="/oidc/account"]');
    await page.waitForSelector('#passkeys');
    assert.equal(await page.textContent('#passkeys'), 'No passkey yet.');
    // The script showed the passkey form.
    assert.equal(await page.isVisible('form[data-passkey="register"]'), true);
    await page.fill('#passkey-name', 'Laptop');
    await page.click('form[data-passkey="register"] button');
    await page.waitForSelector('#recovery-codes', { timeout: 20_000 });
    recoveryCodes = await page.$$eval('#recovery-codes code', (els) => els.map((e) => e.textContent ?? ''));
    assert.equal(recoveryCodes.length, 10);
    await page.click('#continue');
    await page.waitForSelector('#passkeys li');
    assert.match((await page.textContent('#passkeys'))!, /Laptop/);
    const [row] = await server.app.database.dataSource.query('SELECT name FROM passkeys WHERE user_id = $1', [userId]);
    assert.equal(row.name, 'Laptop');
    const [{ n }] = await server.app.database.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE actor_id = $1 AND type = 'mfa.passkey.register' AND outcome = 'success'`,
      [userId],
    );
    assert.equal(n, 1);
  });

  test('sign out at the SSO', async () => {
    await page.goto(`${origin}/oidc/logout`);
    await page.click('button[name=confirm]');
    await page.waitForSelector('text=You are signed out');
    assert.equal(
      (await context.cookies(origin)).find((c) => c.name === 'usso-session'),
      undefined,
    );
  });

  test('"Sign in with a passkey" on the first screen, through an authorization request: passwordless, amr hwk/user/mfa, acr', async () => {
    const verifier = await authorize(page);
    await page.waitForSelector('form[data-passkey="login"] button');
    await page.click('form[data-passkey="login"] button');
    await atApp(page);
    const claims = await idTokenOfLastCallback(verifier);
    assert.equal(claims.sub, userId);
    assert.equal(claims.nonce, 'nn');
    assert.deepEqual(claims.amr, ['hwk', 'user', 'mfa']);
    assert.equal(claims.acr, PAPE_MFA);
    assert.ok(
      (await context.cookies(origin)).find((c) => c.name === 'usso-session'),
      'the SSO session',
    );
  });

  test('a password, then the passkey as the second factor (prompt=login asks again): amr pwd/hwk/mfa', async () => {
    const verifier = await authorize(page, { prompt: 'login' });
    await page.fill('#identifier', IDENTIFIER);
    await page.fill('#password', PASSWORD);
    await page.press('#password', 'Enter');
    await page.waitForSelector('form[data-passkey="second"] button');
    assert.equal(await page.isVisible('#code'), false, 'no TOTP enrolled: no code field');
    await page.click('form[data-passkey="second"] button');
    await atApp(page);
    const claims = await idTokenOfLastCallback(verifier);
    assert.deepEqual(claims.amr, ['pwd', 'hwk', 'mfa']);
    assert.equal(claims.acr, PAPE_MFA);
    const [{ n }] = await server.app.database.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE actor_id = $1 AND type = 'mfa.passkey' AND outcome = 'success'`,
      [userId],
    );
    assert.equal(n, 2, 'both passkey uses audited');
  });

  test('scripts off: no passkey button; the password and a recovery code still sign in', async () => {
    const plain = await browser.newContext({ javaScriptEnabled: false });
    try {
      const p = await newPage(plain);
      const verifier = await authorize(p);
      assert.equal(await p.isVisible('form[data-passkey="login"]'), false);
      await p.fill('#identifier', IDENTIFIER);
      await p.fill('#password', PASSWORD);
      await p.press('#password', 'Enter');
      await p.waitForSelector('#recovery_code');
      assert.equal(await p.isVisible('form[data-passkey="second"]'), false);
      await p.fill('#recovery_code', recoveryCodes[0]!);
      await p.press('#recovery_code', 'Enter');
      await atApp(p);
      assert.deepEqual((await idTokenOfLastCallback(verifier)).amr, ['pwd', 'mfa']);
    } finally {
      await plain.close();
    }
  });

  test('the pages kept to their content policy', () => {
    assert.deepEqual(cspViolations, []);
  });
});
