// Apps as OpenID Connect clients through the app registry (issue 11), over REST and over Connect
// and gRPC: the client id is the app id; a confidential client's secret is shown once and stored
// only as its SHA-256; a public client has none; rotation stops the old secret at once; switching
// the client type issues or drops the secret; bad client fields are a 400 that changes nothing;
// only update:apps may rotate; the legacy ASF shapes do not change.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { AppRegistryService } from '../../gen/sso/appregistry/v1/app_registry_service_pb.js';
import { authenticateClient } from '../../src/domain/oidc/clients.js';
import { startTestServer, type Protocol, type TestServer } from '../support/server.js';

const ADMIN = { identifier: 'admin@example.com', secret: 'AdminPassword123!' };
const ALICE = { identifier: 'alice', secret: 'AlicePassword123!' };
const SECRET = /^[A-Za-z0-9_-]{43}$/; // 256 bits, base64url
const DEFAULT_SCOPES = ['openid', 'profile', 'email', 'offline_access'];
const NO_APP = '00000000-0000-4000-8000-000000000000';

type Answer = { status: number; body: any };

async function call(server: TestServer, method: string, path: string, opts: { json?: unknown; token?: string } = {}): Promise<Answer> {
  const res = await server.rest(path, { method, ...opts });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

function ok(r: Answer): any {
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

function refused(r: Answer, status: number, reason: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error_code, reason, JSON.stringify(r.body));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function login(server: TestServer, body: Record<string, unknown>): Promise<any> {
  return ok(await call(server, 'POST', '/api/sso/v1/auth/login', { json: body }));
}

async function row(server: TestServer, id: string): Promise<any> {
  return (await server.app.database.dataSource.query('SELECT * FROM apps WHERE id = $1', [id]))[0];
}

async function rowCount(server: TestServer): Promise<number> {
  return (await server.app.database.dataSource.query('SELECT count(*)::int AS n FROM apps'))[0].n;
}

/** Whether the token side would accept these client credentials (both auth methods). */
async function accepts(server: TestServer, id: string, secret: string): Promise<boolean> {
  const db = server.app.database.dataSource;
  const results = await Promise.all(
    [true, false].map((viaBasic) =>
      authenticateClient(db, { id, secret, viaBasic }).then(
        () => true,
        (e) => {
          assert.equal(e.reason, 'INVALID_CLIENT');
          return false;
        },
      ),
    ),
  );
  assert.equal(results[0], results[1], 'client_secret_basic and client_secret_post agree');
  return results[0]!;
}

function reasonOf(e: unknown): string | undefined {
  return e instanceof ConnectError ? e.findDetails(ErrorInfoSchema)[0]?.reason : undefined;
}

describe('apps as OpenID Connect clients over REST', () => {
  let server: TestServer;
  let admin: string;
  let alice: { id: string };
  let conf: any;
  let pub: any;

  before(async () => {
    server = await startTestServer();
    admin = (await login(server, { ...ADMIN, register: true })).access_token;
    alice = { id: (await login(server, { ...ALICE, register: true })).user.id };
  });
  after(async () => {
    await server?.stop();
  });

  test('a confidential client (the default) gets client_id and a client_secret shown once', async () => {
    conf = ok(
      await call(server, 'POST', '/api/sso/v1/apps', {
        token: admin,
        json: {
          name: 'Wiki',
          redirect_uris: ['https://wiki.example.com/callback', 'http://localhost:3000/cb'],
          post_logout_redirect_uris: ['https://wiki.example.com/'],
        },
      }),
    );
    assert.equal(conf.client_id, conf.id);
    assert.equal(conf.client_type, 'confidential');
    assert.match(conf.client_secret, SECRET);
    assert.notEqual(conf.client_secret, conf.api_key, 'the client secret is not the app key');
    assert.deepEqual(conf.redirect_uris, ['https://wiki.example.com/callback', 'http://localhost:3000/cb']);
    assert.deepEqual(conf.post_logout_redirect_uris, ['https://wiki.example.com/']);
    assert.deepEqual(conf.allowed_scopes, DEFAULT_SCOPES, 'none listed: the default set');

    const got = ok(await call(server, 'GET', `/api/sso/v1/apps/${conf.id}`, { token: admin }));
    assert.equal(got.client_secret, '', 'GET never shows the secret');
    assert.equal(got.client_id, conf.id);
    assert.equal(got.client_type, 'confidential');
    assert.deepEqual(got.post_logout_redirect_uris, conf.post_logout_redirect_uris);
    const list = ok(await call(server, 'GET', '/api/sso/v1/apps', { token: admin }));
    assert.ok(list.items.every((a: any) => a.client_secret === ''));
    assert.equal(await accepts(server, conf.client_id, conf.client_secret), true);
  });

  test('the secret is stored only as its SHA-256 hex digest', async () => {
    const stored = await row(server, conf.id);
    assert.match(stored.client_secret_hash, /^[0-9a-f]{64}$/);
    assert.equal(stored.client_secret_hash, sha256(conf.client_secret));
    assert.ok(!JSON.stringify(stored).includes(conf.client_secret), 'no column holds the secret');
    assert.equal(await accepts(server, conf.client_id, stored.client_secret_hash), false, 'the hash is not a credential');
    assert.equal(
      await accepts(server, conf.client_id, conf.client_secret.slice(0, -1) + (conf.client_secret.endsWith('A') ? 'B' : 'A')),
      false,
    );
    assert.equal(await accepts(server, conf.client_id, ''), false);
  });

  test('a public client has no secret and authenticates by its id alone', async () => {
    pub = ok(
      await call(server, 'POST', '/api/sso/v1/apps', {
        token: admin,
        json: {
          name: 'Spa',
          client_type: 'public',
          redirect_uris: ['http://127.0.0.1:5173/cb', 'http://[::1]:5173/cb'],
          allowed_scopes: ['openid', 'email'],
        },
      }),
    );
    assert.equal(pub.client_type, 'public');
    assert.equal(pub.client_secret, '');
    assert.equal(pub.client_id, pub.id);
    assert.deepEqual(pub.allowed_scopes, ['openid', 'email']);
    assert.equal((await row(server, pub.id)).client_secret_hash, null);
    assert.equal(await accepts(server, pub.client_id, ''), true);
    assert.equal(await accepts(server, pub.client_id, 'anything'), false, 'a public client sending a secret is refused');
  });

  test('rotate-secret: the new secret works, the old one stops at once, GET still shows none', async () => {
    const before = await row(server, conf.id);
    const rotated = ok(await call(server, 'POST', `/api/sso/v1/apps/${conf.id}/rotate-secret`, { token: admin }));
    assert.match(rotated.client_secret, SECRET);
    assert.notEqual(rotated.client_secret, conf.client_secret);
    assert.equal(rotated.client_id, conf.client_id, 'the client id is stable');
    assert.equal(rotated.api_key, '', 'the app key is neither shown nor changed');
    assert.equal(await accepts(server, conf.client_id, conf.client_secret), false);
    assert.equal(await accepts(server, conf.client_id, rotated.client_secret), true);
    const after = await row(server, conf.id);
    assert.equal(after.client_secret_hash, sha256(rotated.client_secret));
    assert.equal(after.key_hash, before.key_hash);
    assert.equal(ok(await call(server, 'GET', `/api/sso/v1/apps/${conf.id}`, { token: admin })).client_secret, '');
    conf = { ...conf, client_secret: rotated.client_secret };
  });

  test('rotate-secret of a public client is a 400 that changes nothing; unknown or malformed ids as usual', async () => {
    const before = await row(server, pub.id);
    refused(await call(server, 'POST', `/api/sso/v1/apps/${pub.id}/rotate-secret`, { token: admin }), 400, 'NOT_A_CONFIDENTIAL_CLIENT');
    assert.deepEqual(await row(server, pub.id), before);
    refused(await call(server, 'POST', `/api/sso/v1/apps/${NO_APP}/rotate-secret`, { token: admin }), 404, 'APP_NOT_FOUND');
    refused(await call(server, 'POST', '/api/sso/v1/apps/nope/rotate-secret', { token: admin }), 400, 'INVALID_ID');
  });

  test('bad client fields on create are a clear 400 and store nothing', async () => {
    const before = await rowCount(server);
    const cases: Record<string, unknown>[] = [
      { client_type: 'secret' },
      { client_type: 'Public' },
      { allowed_scopes: ['openid', 'admin'] },
      { allowed_scopes: ['read:users'] },
      { redirect_uris: ['https://a.example.com/cb#frag'] },
      { redirect_uris: ['http://a.example.com/cb'] },
      { redirect_uris: ['http://localhost.example.com/cb'] },
      { redirect_uris: ['javascript:alert(1)'] },
      { redirect_uris: ['com.example.app:/cb'] },
      { redirect_uris: ['https://user:pass@a.example.com/cb'] },
      { post_logout_redirect_uris: ['http://a.example.com/'] },
      { post_logout_redirect_uris: ['https://a.example.com/#x'] },
      { post_logout_redirect_uris: ['/relative'] },
    ];
    for (const fields of cases) {
      const r = await call(server, 'POST', '/api/sso/v1/apps', { token: admin, json: { name: 'Bad', ...fields } });
      refused(r, 400, 'INVALID_ARGUMENT');
      const field = Object.keys(fields)[0]!;
      assert.ok(r.body.message.includes(field), `the message names ${field}: ${r.body.message}`);
    }
    assert.equal(await rowCount(server), before);
  });

  test('PATCH round trip of each client field changes only what is sent', async () => {
    const path = `/api/sso/v1/apps/${conf.id}`;
    const base = ok(await call(server, 'GET', path, { token: admin }));
    const a = ok(
      await call(server, 'PATCH', path, {
        token: admin,
        json: { post_logout_redirect_uris: ['https://wiki.example.com/bye', 'http://127.0.0.1:8080/'] },
      }),
    );
    assert.deepEqual(a.post_logout_redirect_uris, ['https://wiki.example.com/bye', 'http://127.0.0.1:8080/']);
    for (const key of ['name', 'redirect_uris', 'allowed_scopes', 'client_type', 'client_id', 'audience'])
      assert.deepEqual(a[key], base[key], key);
    assert.equal(a.client_secret, '');
    const b = ok(await call(server, 'PATCH', path, { token: admin, json: { allowed_scopes: ['openid', 'phone', 'openid'] } }));
    assert.deepEqual(b.allowed_scopes, ['openid', 'phone'], 'known scopes, each once');
    assert.deepEqual(b.post_logout_redirect_uris, a.post_logout_redirect_uris);
    const c = ok(await call(server, 'PATCH', path, { token: admin, json: { redirect_uris: ['https://wiki.example.com/cb2'] } }));
    assert.deepEqual(c.redirect_uris, ['https://wiki.example.com/cb2']);
    assert.deepEqual(c.allowed_scopes, ['openid', 'phone']);
    const d = ok(await call(server, 'PATCH', path, { token: admin, json: { post_logout_redirect_uris: [], allowed_scopes: [] } }));
    assert.deepEqual(d.post_logout_redirect_uris, [], 'an empty list sent clears it');
    assert.deepEqual(d.allowed_scopes, DEFAULT_SCOPES, 'no scopes listed is the default set');
    // Setting the type it already has keeps the secret (and shows none).
    const e = ok(await call(server, 'PATCH', path, { token: admin, json: { client_type: 'confidential' } }));
    assert.equal(e.client_secret, '');
    assert.equal(await accepts(server, conf.id, conf.client_secret), true);
    const stored = await row(server, conf.id);
    assert.deepEqual(stored.redirect_uris, ['https://wiki.example.com/cb2']);
    assert.deepEqual(stored.allowed_scopes, DEFAULT_SCOPES);
  });

  test('PATCH client_type: confidential to public drops the secret; back to confidential issues a new one', async () => {
    const path = `/api/sso/v1/apps/${conf.id}`;
    const toPublic = ok(await call(server, 'PATCH', path, { token: admin, json: { client_type: 'public' } }));
    assert.equal(toPublic.client_type, 'public');
    assert.equal(toPublic.client_secret, '');
    assert.equal((await row(server, conf.id)).client_secret_hash, null);
    assert.equal(await accepts(server, conf.id, conf.client_secret), false, 'the old secret is gone');
    assert.equal(await accepts(server, conf.id, ''), true);
    const toConf = ok(await call(server, 'PATCH', path, { token: admin, json: { client_type: 'confidential', description: 'back' } }));
    assert.equal(toConf.client_type, 'confidential');
    assert.equal(toConf.description, 'back');
    assert.match(toConf.client_secret, SECRET);
    assert.notEqual(toConf.client_secret, conf.client_secret);
    assert.equal((await row(server, conf.id)).client_secret_hash, sha256(toConf.client_secret));
    assert.equal(await accepts(server, conf.id, toConf.client_secret), true);
    assert.equal(await accepts(server, conf.id, ''), false);
    conf = { ...conf, client_secret: toConf.client_secret };
  });

  test('bad client fields on PATCH are a 400 that changes nothing', async () => {
    const path = `/api/sso/v1/apps/${conf.id}`;
    const before = await row(server, conf.id);
    const cases: Record<string, unknown>[] = [
      { client_type: 'secret' },
      { client_type: '' },
      { allowed_scopes: ['openid', 'write:everything'] },
      { redirect_uris: ['https://ok.example.com/cb', 'https://bad.example.com/cb#x'] },
      { redirect_uris: ['http://wiki.example.com/cb'] },
      { post_logout_redirect_uris: ['http://wiki.example.com/'] },
      // One bad field spoils the whole update, including the good fields sent with it.
      { name: 'Renamed', client_type: 'public', allowed_scopes: ['nope'] },
    ];
    for (const json of cases) refused(await call(server, 'PATCH', path, { token: admin, json }), 400, 'INVALID_ARGUMENT');
    assert.deepEqual(await row(server, conf.id), before);
    assert.equal(await accepts(server, conf.id, conf.client_secret), true);
  });

  test('an app without redirect URIs keeps working as today, and the legacy ASF shapes do not change', async () => {
    const legacy = ok(await call(server, 'POST', '/apps/', { token: admin, json: { name: 'OpenProject', url: 'https://op.example.com' } }));
    assert.deepEqual(Object.keys(legacy).sort(), ['api_key', 'created_at', 'id', 'is_active', 'name', 'url']);
    const list = ok(await call(server, 'GET', '/apps/', { token: admin }));
    for (const app of list) assert.deepEqual(Object.keys(app).sort(), ['api_key', 'created_at', 'id', 'is_active', 'name', 'url']);
    const full = ok(await call(server, 'GET', '/api/sso/v1/apps?offset=0&limit=100', { token: admin })).items.find(
      (a: any) => a.legacy_id === legacy.id,
    );
    assert.deepEqual(full.redirect_uris, []);
    assert.equal(full.client_type, 'confidential');
    assert.equal(full.client_secret, '');
    // Its app key still verifies passwords through the legacy route.
    ok(await call(server, 'POST', `/api/sso/v1/apps/${full.id}/users/${alice.id}`, { token: admin }));
    const verified = ok(
      await call(server, 'POST', '/verify', { json: { username: ALICE.identifier, password: ALICE.secret, api_key: legacy.api_key } }),
    );
    assert.equal(verified.authorized, true);
    // Its secret was never shown; rotating gives it one.
    const rotated = ok(await call(server, 'POST', `/api/sso/v1/apps/${full.id}/rotate-secret`, { token: admin }));
    assert.equal(await accepts(server, full.id, rotated.client_secret), true);
  });

  test('who may: update:apps rotates; read:apps sees the client fields but cannot rotate or change them', async () => {
    const path = `/api/sso/v1/apps/${conf.id}/rotate-secret`;
    const setScopes = (scopes: string) =>
      server.app.database.dataSource.query('UPDATE users SET scopes = $2 WHERE id = $1', [alice.id, scopes]);
    refused(await call(server, 'POST', path), 401, 'UNAUTHENTICATED');
    const plain = (await login(server, ALICE)).access_token;
    refused(await call(server, 'POST', path, { token: plain }), 403, 'PERMISSION_DENIED');
    refused(await call(server, 'POST', `/api/sso/v1/apps/${NO_APP}/rotate-secret`, { token: plain }), 403, 'PERMISSION_DENIED');

    await setScopes('{read:apps}');
    const reader = (await login(server, ALICE)).access_token;
    const seen = ok(await call(server, 'GET', `/api/sso/v1/apps/${conf.id}`, { token: reader }));
    assert.equal(seen.client_id, conf.id);
    assert.equal(seen.client_secret, '');
    refused(await call(server, 'POST', path, { token: reader }), 403, 'PERMISSION_DENIED');
    refused(
      await call(server, 'PATCH', `/api/sso/v1/apps/${conf.id}`, { token: reader, json: { client_type: 'public' } }),
      403,
      'PERMISSION_DENIED',
    );
    refused(await call(server, 'POST', '/api/sso/v1/apps', { token: reader, json: { name: 'Mine' } }), 403, 'PERMISSION_DENIED');
    assert.equal(await accepts(server, conf.id, conf.client_secret), true, 'refused calls changed nothing');

    await setScopes('{update:apps}');
    const updater = (await login(server, ALICE)).access_token;
    const rotated = ok(await call(server, 'POST', path, { token: updater }));
    assert.match(rotated.client_secret, SECRET);
    assert.equal(await accepts(server, conf.id, conf.client_secret), false);
    assert.equal(await accepts(server, conf.id, rotated.client_secret), true);
    await setScopes('{}');
  });
});

describe('apps as OpenID Connect clients over Connect and gRPC', () => {
  let server: TestServer;
  let admin: string;
  let alice: { id: string; token: string };

  before(async () => {
    server = await startTestServer();
    admin = (await login(server, { ...ADMIN, register: true })).access_token;
    const a = await login(server, { ...ALICE, register: true });
    alice = { id: a.user.id, token: a.access_token };
  });
  after(async () => {
    await server?.stop();
  });

  for (const protocol of ['connect', 'grpc'] as Protocol[]) {
    test(`client fields, switching type and rotation over ${protocol}`, async () => {
      const apps = server.client(AppRegistryService, { protocol, token: admin });
      const { app } = await apps.createApp({
        name: `Client ${protocol}`,
        redirectUris: ['https://rp.example.com/cb'],
        postLogoutRedirectUris: ['https://rp.example.com/'],
        allowedScopes: ['openid', 'profile'],
      });
      assert.ok(app);
      assert.equal(app.clientId, app.id);
      assert.equal(app.clientType, 'confidential');
      assert.match(app.clientSecret, SECRET);
      assert.deepEqual(app.postLogoutRedirectUris, ['https://rp.example.com/']);
      assert.deepEqual(app.allowedScopes, ['openid', 'profile']);
      assert.equal((await apps.getApp({ id: app.id })).app?.clientSecret, '');
      assert.equal(await accepts(server, app.id, app.clientSecret), true);

      // Without a mask: the optional fields set and the non-empty lists are what is sent.
      const scoped = (await apps.updateApp({ id: app.id, allowedScopes: ['openid', 'email', 'offline_access'] })).app!;
      assert.deepEqual(scoped.allowedScopes, ['openid', 'email', 'offline_access']);
      assert.deepEqual(scoped.postLogoutRedirectUris, ['https://rp.example.com/']);
      assert.equal(scoped.clientType, 'confidential');
      const logout = (await apps.updateApp({ id: app.id, postLogoutRedirectUris: ['http://localhost:4000/'] })).app!;
      assert.deepEqual(logout.postLogoutRedirectUris, ['http://localhost:4000/']);
      assert.deepEqual(logout.allowedScopes, ['openid', 'email', 'offline_access']);
      // With a mask, an empty list clears (logout URIs) or resets to the default (scopes).
      const masked = (await apps.updateApp({ id: app.id, updateMask: { paths: ['post_logout_redirect_uris', 'allowed_scopes'] } })).app!;
      assert.deepEqual(masked.postLogoutRedirectUris, []);
      assert.deepEqual(masked.allowedScopes, DEFAULT_SCOPES);
      assert.deepEqual(masked.redirectUris, ['https://rp.example.com/cb']);

      const pub = (await apps.updateApp({ id: app.id, clientType: 'public' })).app!;
      assert.equal(pub.clientType, 'public');
      assert.equal(pub.clientSecret, '');
      assert.equal(await accepts(server, app.id, app.clientSecret), false);
      await assert.rejects(
        apps.rotateAppClientSecret({ id: app.id }),
        (e: unknown) => e instanceof ConnectError && e.code === Code.FailedPrecondition && reasonOf(e) === 'NOT_A_CONFIDENTIAL_CLIENT',
      );

      const conf = (await apps.updateApp({ id: app.id, clientType: 'confidential' })).app!;
      assert.match(conf.clientSecret, SECRET);
      const rotated = (await apps.rotateAppClientSecret({ id: app.id })).app!;
      assert.match(rotated.clientSecret, SECRET);
      assert.notEqual(rotated.clientSecret, conf.clientSecret);
      assert.equal(rotated.clientId, app.id);
      assert.equal(await accepts(server, app.id, conf.clientSecret), false);
      assert.equal(await accepts(server, app.id, rotated.clientSecret), true);

      const before = await row(server, app.id);
      const invalid = (e: unknown) => e instanceof ConnectError && e.code === Code.InvalidArgument && reasonOf(e) === 'INVALID_ARGUMENT';
      await assert.rejects(apps.updateApp({ id: app.id, clientType: 'hybrid' }), invalid);
      await assert.rejects(apps.updateApp({ id: app.id, allowedScopes: ['openid', 'groups'] }), invalid);
      await assert.rejects(apps.updateApp({ id: app.id, redirectUris: ['http://rp.example.com/cb'] }), invalid);
      await assert.rejects(apps.updateApp({ id: app.id, postLogoutRedirectUris: ['https://rp.example.com/#x'] }), invalid);
      assert.deepEqual(await row(server, app.id), before, 'refused updates changed nothing');
      const count = await rowCount(server);
      await assert.rejects(apps.createApp({ name: 'Bad', clientType: 'secret' }), invalid);
      await assert.rejects(apps.createApp({ name: 'Bad', allowedScopes: ['admin'] }), invalid);
      await assert.rejects(apps.createApp({ name: 'Bad', redirectUris: ['https://rp.example.com/cb#f'] }), invalid);
      assert.equal(await rowCount(server), count);

      const spa = (await apps.createApp({ name: `Spa ${protocol}`, clientType: 'public', redirectUris: ['http://localhost:5173/cb'] }))
        .app!;
      assert.equal(spa.clientType, 'public');
      assert.equal(spa.clientSecret, '');

      await assert.rejects(
        apps.rotateAppClientSecret({ id: NO_APP }),
        (e: unknown) => e instanceof ConnectError && e.code === Code.NotFound,
      );
      const denied = (e: unknown) => e instanceof ConnectError && e.code === Code.PermissionDenied;
      await assert.rejects(
        server.client(AppRegistryService, { protocol, token: alice.token }).rotateAppClientSecret({ id: app.id }),
        denied,
      );
      await assert.rejects(
        server.client(AppRegistryService, { protocol }).rotateAppClientSecret({ id: app.id }),
        (e: unknown) => e instanceof ConnectError && e.code === Code.Unauthenticated,
      );
      assert.equal(await accepts(server, app.id, rotated.clientSecret), true);
    });
  }
});
