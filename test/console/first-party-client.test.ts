// The admin console's OpenID Connect client, without a browser: what makes it first-party (its
// access tokens are for the SSO's own audience, no assignment is needed) and what keeps that
// power out of reach of the app API (it cannot be listed, read, changed, re-keyed, deleted,
// assigned or asked for as an audience there). Also the console's page and headers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { CONSOLE_CLIENT_ID } from '../../src/domain/oidc/first-party.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { apiUser, Browser, createClientApp, locationOf, pkce, signInThrough } from '../oidc/support.js';

const password = 'Password123!x';

describe('the console as a first-party OpenID Connect client', () => {
  let server: TestServer;
  let admin: { id: string; token: string };
  let bob: { id: string; token: string };
  let redirectUri = '';

  before(async () => {
    server = await startTestServer();
    redirectUri = `${server.config.issuer}/console/`;
    admin = await apiUser(server, 'admin@example.com', password);
    bob = await apiUser(server, 'bob@example.com', password);
  });
  after(() => server?.stop());

  /** Signs bob in at the hosted page for the console and exchanges the code over REST. */
  async function consoleTokens(): Promise<Record<string, any>> {
    const b = new Browser(server.url);
    const { verifier, challenge } = pkce();
    const query = new URLSearchParams({
      client_id: CONSOLE_CLIENT_ID,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'openid profile email offline_access',
      state: 's',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    const to = locationOf(await signInThrough(b, query, 'bob@example.com', password));
    assert.equal(`${to.origin}${to.pathname}`, redirectUri, 'back at the console, though bob is assigned to nothing');
    const res = await server.rest('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: CONSOLE_CLIENT_ID,
        code: to.searchParams.get('code')!,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      }).toString(),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return res.json() as Promise<Record<string, any>>;
  }

  test('a code flow without assignment gives tokens for the SSO audience, which the SSO API accepts; refresh keeps it', async () => {
    const tokens = await consoleTokens();
    assert.equal(decodeJwt(tokens.access_token).aud, server.config.audience);
    assert.equal(decodeJwt(tokens.id_token).aud, CONSOLE_CLIENT_ID);
    const me = await server.rest('/api/sso/v1/me', { token: tokens.access_token });
    assert.equal(me.status, 200, await me.clone().text());
    assert.equal(((await me.json()) as any).id, bob.id);

    const refreshed = await server.rest('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: CONSOLE_CLIENT_ID,
        refresh_token: tokens.refresh_token,
      }).toString(),
    });
    assert.equal(refreshed.status, 200, await refreshed.clone().text());
    assert.equal(decodeJwt(((await refreshed.json()) as any).access_token).aud, server.config.audience);
  });

  test('an ordinary app still gets its own audience, still needs the assignment, and its token is refused by the SSO API', async () => {
    const app = await createClientApp(server, admin.token, { name: 'Ordinary', clientType: 'public' });
    const b = new Browser(server.url);
    const { challenge } = pkce();
    const query = new URLSearchParams({
      client_id: app.id,
      redirect_uri: app.redirectUri,
      response_type: 'code',
      scope: 'openid',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    const to = locationOf(await signInThrough(b, query, 'bob@example.com', password));
    assert.equal(to.searchParams.get('error'), 'access_denied');
  });

  test('the app API does not see the console client: not listed, not found, not changeable, not assignable, not an audience', async () => {
    const list = (await (await server.rest('/api/sso/v1/apps?limit=100', { token: admin.token })).json()) as any;
    assert.ok(!list.items.some((a: any) => a.id === CONSOLE_CLIENT_ID));
    assert.equal(list.total, list.items.length);
    const legacy = (await (await server.rest('/apps/', { token: admin.token })).json()) as any[];
    assert.ok(!legacy.some((a) => a.id === 0));
    for (const [method, path, json] of [
      ['GET', `/api/sso/v1/apps/${CONSOLE_CLIENT_ID}`, undefined],
      ['PATCH', `/api/sso/v1/apps/${CONSOLE_CLIENT_ID}`, { redirect_uris: ['https://evil.example/cb'] }],
      ['POST', `/api/sso/v1/apps/${CONSOLE_CLIENT_ID}/rotate-key`, {}],
      ['DELETE', `/api/sso/v1/apps/${CONSOLE_CLIENT_ID}`, undefined],
      ['POST', `/api/sso/v1/apps/${CONSOLE_CLIENT_ID}/users/${bob.id}`, {}],
    ] as const) {
      const res = await server.rest(path, { method, token: admin.token, json });
      assert.equal(res.status, 404, `${method} ${path}: ${await res.clone().text()}`);
      assert.equal(((await res.json()) as any).error_code, 'APP_NOT_FOUND');
    }
    const [row] = await server.app.database.dataSource.query('SELECT redirect_uris, first_party, number FROM apps WHERE id = $1', [
      CONSOLE_CLIENT_ID,
    ]);
    assert.deepEqual(row.redirect_uris, [redirectUri]);
    assert.equal(row.first_party, true);
    // The console's row takes no legacy number: registered apps still count from 1 (the seed's `/users/5/assign/1`).
    assert.equal(row.number, 0);
    const created = (await (
      await server.rest('/apps/', { method: 'POST', token: admin.token, json: { name: 'OpenProject', url: 'https://op.example.com' } })
    ).json()) as any;
    assert.equal(created.id, legacy.length + 1);
    const login = await server.rest('/api/sso/v1/auth/login', {
      method: 'POST',
      json: { identifier: 'bob@example.com', secret: password, audience: `urn:sso:first-party:${CONSOLE_CLIENT_ID}` },
    });
    assert.equal(((await login.json()) as any).error_code, 'INVALID_AUDIENCE');
  });

  test('a restart with another issuer moves the console client along (idempotent, one row)', async () => {
    const { ensureConsoleClient } = await import('../../src/domain/oidc/first-party.js');
    const ds = server.app.database.dataSource;
    await ensureConsoleClient(ds, 'https://sso.example.com');
    await ensureConsoleClient(ds, 'https://sso.example.com/');
    const rows = await ds.query('SELECT redirect_uris, post_logout_redirect_uris FROM apps WHERE first_party');
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0].redirect_uris, ['https://sso.example.com/console/']);
    assert.deepEqual(rows[0].post_logout_redirect_uris, ['https://sso.example.com/console/']);
    await ensureConsoleClient(ds, server.config.issuer);
  });

  test('/console serves one page and two hashed files with strict headers; nothing else', async () => {
    const moved = await fetch(`${server.url}/console`, { redirect: 'manual' });
    assert.equal(moved.status, 308);
    assert.equal(moved.headers.get('location'), '/console/');
    const res = await fetch(`${server.url}/console/`);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const html = await res.text();
    assert.doesNotMatch(html, /<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\son[a-z]+=/i, 'no inline script, style or handler');
    assert.match(html, new RegExp(`<meta name="sso-client-id" content="${CONSOLE_CLIENT_ID}">`));
    const files = [...html.matchAll(/(?:src|href)="(\/console\/app-[\w-]+\.(?:js|css))"/g)].map((m) => m[1]!);
    assert.equal(files.length, 2);
    for (const file of files) {
      const asset = await fetch(server.url + file, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(asset.status, 200);
      assert.match(asset.headers.get('cache-control')!, /immutable/);
      assert.ok((await asset.arrayBuffer()).byteLength > 1000);
    }
    assert.equal((await fetch(`${server.url}/console/nope.js`)).status, 404);
    assert.equal((await fetch(`${server.url}/console/`, { method: 'POST' })).status, 405);
  });
});

describe('ListAuditEvents by time', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.stop());

  test('occurred_after and occurred_before bound the events (REST query and Connect alike)', async () => {
    const admin = await apiUser(server, 'admin@example.com', password);
    const mid = new Date(Date.now() + 5);
    await new Promise((r) => setTimeout(r, 20));
    await apiUser(server, 'admin@example.com', password);
    const all = (await (await server.rest('/api/sso/v1/audit-events?limit=100', { token: admin.token })).json()) as any;
    const later = (await (
      await server.rest(`/api/sso/v1/audit-events?limit=100&occurred_after=${mid.toISOString()}`, { token: admin.token })
    ).json()) as any;
    const earlier = (await (
      await server.rest(`/api/sso/v1/audit-events?limit=100&occurred_before=${mid.toISOString()}`, { token: admin.token })
    ).json()) as any;
    assert.ok(later.total >= 1 && earlier.total >= 1, JSON.stringify({ later, earlier }));
    assert.equal(later.total + earlier.total, all.total);
    assert.ok(later.items.every((e: any) => new Date(e.occurred_at) >= mid));
    assert.ok(earlier.items.every((e: any) => new Date(e.occurred_at) < mid));
  });
});
