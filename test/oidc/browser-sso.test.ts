// Single sign-on end to end in real headless Chromium (Debian's `chromium`, driven by
// playwright-core). Two relying parties on two origins — app A on http://127.0.0.1:<port> (a
// confidential client, client_secret_basic) and app B on http://localhost:<port> (a public
// client) — each a small Node HTTP server whose server-side code is openid-client 6: discovery
// from the SSO, the authorization code flow with PKCE S256, state and nonce.
//   1. The user signs in at A through the hosted sign-in page (identifier, password, Enter); A
//      shows the ID token's claims. A's access token verifies with jose and with the seed's
//      jsonwebtoken + jwks-rsa verifier for A's audience.
//   2. B signs the user in with no password prompt: the hosted page is never shown.
//   3. RP-initiated logout at A (end_session with id_token_hint and a registered
//      post_logout_redirect_uri) ends the SSO session and the apps' tokens under it.
//   4. B's next `prompt=none` request comes back with error=login_required.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { seedExpressVerifier } from '../support/seed-express-verifier.js';
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
const password = 'Password123!x';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface RpSession {
  pending?: { codeVerifier: string; state: string; nonce: string };
  claims?: Record<string, unknown>;
  idToken?: string;
  accessToken?: string;
}

/** A relying party: a plain Node HTTP server whose sign-in is openid-client's. */
interface Rp {
  name: string;
  origin: string;
  /** What the app's server holds per browser (the tests read tokens from here). */
  sessions: Map<string, RpSession>;
  /** Every callback the app received, as the SSO sent it. */
  callbacks: URL[];
  close(): Promise<void>;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function startRp(opts: {
  name: string;
  origin: string;
  port: number;
  issuer: string;
  clientId: string;
  clientSecret?: string;
}): Promise<Rp> {
  const config = await oidc.discovery(
    new URL(opts.issuer),
    opts.clientId,
    undefined,
    opts.clientSecret ? oidc.ClientSecretBasic(opts.clientSecret) : oidc.None(),
    { execute: [oidc.allowInsecureRequests] },
  );
  const sessions = new Map<string, RpSession>();
  const callbacks: URL[] = [];
  const cookieName = `rp_${opts.name}`;
  const redirectUri = `${opts.origin}/callback`;

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', opts.origin);
    const sid = new RegExp(`(?:^|;\\s*)${cookieName}=([^;]+)`).exec(req.headers.cookie ?? '')?.[1];
    const session = sid ? sessions.get(sid) : undefined;
    const html = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
      res.end(`<!doctype html><html><head><title>App ${opts.name}</title></head><body><h1>App ${opts.name}</h1>${body}</body></html>`);
    };
    const fresh = (data: RpSession) => {
      if (sid) sessions.delete(sid);
      const id = randomBytes(16).toString('base64url');
      sessions.set(id, data);
      return `${cookieName}=${id}; Path=/; HttpOnly; SameSite=Lax`;
    };
    try {
      if (url.pathname === '/') {
        if (!session?.claims) return html(200, '<p id="status">signed out</p>');
        return html(200, `<p id="status">signed in</p><pre id="claims">${esc(JSON.stringify(session.claims))}</pre>`);
      }
      if (url.pathname === '/login') {
        const pending = { codeVerifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
        const params: Record<string, string> = {
          redirect_uri: redirectUri,
          scope: 'openid email profile',
          state: pending.state,
          nonce: pending.nonce,
          code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
          code_challenge_method: 'S256',
        };
        const prompt = url.searchParams.get('prompt');
        if (prompt) params.prompt = prompt;
        res.writeHead(302, { location: oidc.buildAuthorizationUrl(config, params).href, 'set-cookie': fresh({ pending }) });
        return res.end();
      }
      if (url.pathname === '/callback') {
        callbacks.push(url);
        if (!session?.pending) return html(400, '<p id="error">no sign-in in progress</p>');
        try {
          const tokens = await oidc.authorizationCodeGrant(config, url, {
            pkceCodeVerifier: session.pending.codeVerifier,
            expectedState: session.pending.state,
            expectedNonce: session.pending.nonce,
            idTokenExpected: true,
          });
          const cookie = fresh({
            claims: tokens.claims() as Record<string, unknown>,
            idToken: tokens.id_token,
            accessToken: tokens.access_token,
          });
          res.writeHead(302, { location: '/', 'set-cookie': cookie });
          return res.end();
        } catch (e) {
          const error = e instanceof oidc.AuthorizationResponseError ? e.error : String(e);
          return html(401, `<p id="error">${esc(error)}</p>`, { 'set-cookie': fresh({}) });
        }
      }
      if (url.pathname === '/logout') {
        const idToken = session?.idToken;
        const cookie = fresh({});
        const target = idToken
          ? oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: `${opts.origin}/`, state: 'bye' }).href
          : '/';
        res.writeHead(302, { location: target, 'set-cookie': cookie });
        return res.end();
      }
      html(404, 'not found');
    } catch (e) {
      html(500, `<p id="error">${esc(String(e))}</p>`);
    }
  });
  await new Promise<void>((resolve) => server.listen(opts.port, '127.0.0.1', resolve));
  return {
    name: opts.name,
    origin: opts.origin,
    sessions,
    callbacks,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('browser single sign-on across two apps (headless Chromium, openid-client 6)', () => {
  let sso: TestServer;
  let issuer = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let a: Rp;
  let b: Rp;
  let userId = '';
  const apps: Record<'A' | 'B', { id: string; clientId: string; audience: string; secret?: string }> = {} as any;
  /** Every document the browser loaded from the SSO: URL and status. */
  const ssoDocuments: { url: string; status: number }[] = [];

  const json = async (res: Response) => {
    assert.ok(res.ok, `${res.status} ${await res.clone().text()}`);
    return res.json() as Promise<any>;
  };

  before(async () => {
    // openid-client checks that the discovery document's issuer is the URL it was given.
    const [ssoPort, portA, portB] = [await freePort(), await freePort(), await freePort()];
    issuer = `http://127.0.0.1:${ssoPort}`;
    sso = await startTestServer({ port: ssoPort, issuer });
    const admin = (
      await json(
        await sso.rest('/api/sso/v1/auth/login', {
          method: 'POST',
          json: { identifier: 'admin@example.com', secret: password, register: true },
        }),
      )
    ).access_token;
    await json(
      await sso.rest('/api/sso/v1/users', {
        method: 'POST',
        token: admin,
        json: { identifiers: [{ identifier: 'alice@example.com' }, { identifier: 'alice', type: 'username' }], password },
      }),
    );
    userId = (
      await json(await sso.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier: 'alice@example.com', secret: password } }))
    ).user.id;

    // Two origins: A on 127.0.0.1, B on localhost (another site, too), each registered as a client.
    const origins = { A: `http://127.0.0.1:${portA}`, B: `http://localhost:${portB}` };
    for (const [name, clientType] of [
      ['A', 'confidential'],
      ['B', 'public'],
    ] as const) {
      const app = await json(
        await sso.rest('/api/sso/v1/apps', {
          method: 'POST',
          token: admin,
          json: {
            name: `App ${name}`,
            redirect_uris: [`${origins[name]}/callback`],
            post_logout_redirect_uris: [`${origins[name]}/`],
            client_type: clientType,
          },
        }),
      );
      assert.equal(app.client_type, clientType);
      assert.equal(Boolean(app.client_secret), clientType === 'confidential');
      apps[name] = { id: app.id, clientId: app.client_id, audience: app.audience, secret: app.client_secret || undefined };
      await json(await sso.rest(`/api/sso/v1/apps/${app.id}/users/${userId}`, { method: 'POST', token: admin, json: {} }));
    }
    [a, b] = await Promise.all([
      startRp({ name: 'A', origin: origins.A, port: portA, issuer, clientId: apps.A.clientId, clientSecret: apps.A.secret }),
      startRp({ name: 'B', origin: origins.B, port: portB, issuer, clientId: apps.B.clientId }),
    ]);

    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, timeout: 60_000 });
    context = await browser.newContext();
    page = await context.newPage();
    page.on('response', (r) => {
      if (r.request().resourceType() === 'document' && r.url().startsWith(issuer)) ssoDocuments.push({ url: r.url(), status: r.status() });
    });
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await Promise.all([a?.close(), b?.close()]);
    await sso?.stop();
  });

  const claimsShown = async (): Promise<Record<string, any>> => JSON.parse((await page.textContent('#claims')) ?? 'null');
  const ssoCookie = async () => (await context.cookies(issuer)).find((c) => c.name === 'usso-session');
  /** The one session app `rp` holds with tokens (the browser's). */
  const tokensAt = (rp: Rp) => {
    const held = [...rp.sessions.values()].filter((s) => s.accessToken);
    assert.equal(held.length, 1, `${rp.name} holds ${held.length} signed-in sessions`);
    return held[0]!;
  };
  const introspectAtA = async (token: string) =>
    json(
      await sso.rest('/oauth/introspect', {
        method: 'POST',
        body: new URLSearchParams({ token }).toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(apps.A.clientId)}:${encodeURIComponent(apps.A.secret!)}`).toString('base64')}`,
        },
      }),
    );

  test('the apps and the SSO are three origins', () => {
    assert.equal(new Set([a.origin, b.origin, issuer]).size, 3);
    assert.notEqual(new URL(a.origin).hostname, new URL(b.origin).hostname);
  });

  test('1. sign in at app A through the hosted page; A shows the claims', async () => {
    await page.goto(`${a.origin}/`);
    assert.equal(await page.textContent('#status'), 'signed out');
    await page.goto(`${a.origin}/login`);
    // The hosted sign-in page, at the SSO.
    assert.equal(new URL(page.url()).origin, issuer, page.url());
    await page.fill('input[name=identifier]', 'alice@example.com');
    await page.fill('input[type=password]', password);
    await page.press('input[type=password]', 'Enter');
    await page.waitForURL(`${a.origin}/`, { timeout: 20_000 });
    assert.equal(await page.textContent('#status'), 'signed in');
    const claims = await claimsShown();
    assert.equal(claims.iss, issuer);
    assert.equal(claims.sub, userId);
    assert.equal(claims.aud, apps.A.clientId);
    assert.equal(claims.email, 'alice@example.com');
    assert.equal(claims.preferred_username, 'alice');
    assert.equal(typeof claims.sid, 'string');
    assert.equal(typeof claims.auth_time, 'number');
    assert.deepEqual(claims.amr, ['pwd']);
    // The SSO's cookie: HttpOnly, SameSite=Lax (not Secure: plain http here).
    const cookie = await ssoCookie();
    assert.ok(cookie, 'usso-session set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    // The code came back with state and the issuer (RFC 9207).
    const callback = a.callbacks.at(-1)!;
    assert.equal(callback.searchParams.get('iss'), issuer);
    assert.ok(callback.searchParams.get('state'));
  });

  test("A's access token verifies with jose and with jsonwebtoken + jwks-rsa for A's audience", async () => {
    const { accessToken } = tokensAt(a);
    assert.ok(accessToken);
    assert.equal(decodeJwt(accessToken).aud, apps.A.audience);
    const jwksUri = `${issuer}/.well-known/jwks.json`;
    const jose = await jwtVerify(accessToken, createRemoteJWKSet(new URL(jwksUri)), { issuer, audience: apps.A.audience });
    assert.equal(jose.payload.sub, userId);
    const seed = await seedExpressVerifier(jwksUri, apps.A.audience, issuer)(accessToken);
    assert.equal(seed.err, null);
    assert.equal(seed.decoded.sub, userId);
    // ... and for no other audience: not B's, not the SSO API's.
    assert.ok((await seedExpressVerifier(jwksUri, apps.B.audience, issuer)(accessToken)).err);
    assert.equal((await sso.rest('/api/sso/v1/me', { token: accessToken })).status, 401);
    assert.equal((await introspectAtA(accessToken)).active, true);
  });

  test('2. app B signs in with no password prompt: the hosted page is not shown', async () => {
    const from = ssoDocuments.length;
    await page.goto(`${b.origin}/login`);
    await page.waitForURL(`${b.origin}/`, { timeout: 20_000 });
    assert.equal(await page.textContent('#status'), 'signed in');
    const claims = await claimsShown();
    assert.equal(claims.sub, userId);
    assert.equal(claims.aud, apps.B.clientId);
    assert.equal(claims.email, 'alice@example.com');
    assert.equal(claims.sid, decodeJwt(tokensAt(a).idToken!).sid, 'the same SSO session');
    // The SSO only redirected: no page of its own (no sign-in form) was rendered on the way.
    const seen = ssoDocuments.slice(from);
    assert.ok(seen.length >= 1, 'the authorization endpoint was visited');
    assert.ok(
      seen.every((d) => d.status >= 300 && d.status < 400 && new URL(d.url).pathname === '/oidc/authorize'),
      JSON.stringify(seen),
    );
    assert.equal(await page.locator('input[type=password]').count(), 0);
    // B's access token is for B's audience, and verifies the same two ways.
    const { accessToken } = tokensAt(b);
    const jwksUri = `${issuer}/.well-known/jwks.json`;
    assert.equal(
      (await jwtVerify(accessToken!, createRemoteJWKSet(new URL(jwksUri)), { issuer, audience: apps.B.audience })).payload.sub,
      userId,
    );
    assert.equal((await seedExpressVerifier(jwksUri, apps.B.audience, issuer)(accessToken!)).err, null);
  });

  test("3. RP-initiated logout at A ends the SSO session and the apps' tokens", async () => {
    const tokensA = tokensAt(a);
    const tokensB = tokensAt(b);
    await page.goto(`${a.origin}/logout`);
    await page.waitForURL(`${a.origin}/**`, { timeout: 20_000 });
    assert.equal(await page.textContent('#status'), 'signed out');
    // Back at the registered post-logout URI, with the state A sent.
    assert.equal(new URL(page.url()).pathname, '/');
    assert.equal(new URL(page.url()).searchParams.get('state'), 'bye');
    const endSession = [...ssoDocuments].reverse().find((d) => new URL(d.url).pathname === '/oidc/logout');
    assert.ok(endSession, 'the end_session endpoint was visited');
    const params = new URL(endSession.url).searchParams;
    assert.equal(params.get('id_token_hint'), tokensA.idToken);
    assert.equal(params.get('post_logout_redirect_uri'), `${a.origin}/`);
    assert.equal(await ssoCookie(), undefined, 'the SSO cookie is cleared');
    // The session is over at the server, not only in this browser: both apps' tokens end with it.
    assert.equal((await introspectAtA(tokensA.accessToken!)).active, false);
    assert.equal((await sso.rest('/oidc/userinfo', { token: tokensA.accessToken })).status, 401);
    assert.equal((await sso.rest('/oidc/userinfo', { token: tokensB.accessToken })).status, 401);
  });

  test("4. B's next prompt=none request gets login_required", async () => {
    const from = ssoDocuments.length;
    await page.goto(`${b.origin}/login?prompt=none`);
    await page.waitForURL(`${b.origin}/callback**`, { timeout: 20_000 });
    const callback = b.callbacks.at(-1)!;
    assert.equal(callback.searchParams.get('error'), 'login_required');
    assert.equal(callback.searchParams.get('iss'), issuer);
    assert.ok(callback.searchParams.get('state'));
    assert.equal(await page.textContent('#error'), 'login_required');
    // No page at the SSO: straight back to the app.
    assert.ok(
      ssoDocuments.slice(from).every((d) => d.status >= 300 && d.status < 400),
      JSON.stringify(ssoDocuments.slice(from)),
    );
  });
});
