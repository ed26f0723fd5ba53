// The app registry over REST (USSO routes and the legacy ASF ones) and over Connect and gRPC:
// registering apps (key shown once, stored hashed), the default audience, updates that change
// only what is sent, key rotation, deletion, assignments, who may do what, bad input refused,
// and an app's audience as a token audience that the seed's Express snippet accepts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { AppRegistryService } from '../../gen/sso/appregistry/v1/app_registry_service_pb.js';
import { seedExpressVerifier } from '../support/seed-express-verifier.js';
import { startTestServer, type Protocol, type TestServer } from '../support/server.js';

const ADMIN = { identifier: 'admin@example.com', secret: 'AdminPassword123!' };
const ALICE = { identifier: 'alice', secret: 'AlicePassword123!' };
const KEY = /^sso_app_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

type Answer = { status: number; body: any; headers: Headers };

async function call(
  server: TestServer,
  method: string,
  path: string,
  opts: { json?: unknown; token?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await server.rest(path, { method, ...opts });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

function ok(r: Answer, status = 200): any {
  assert.equal(r.status, status, JSON.stringify(r.body));
  return r.body;
}

function refused(r: Answer, status: number, reason: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error_code, reason, JSON.stringify(r.body));
  assert.equal(typeof r.body.message, 'string');
  assert.equal(r.body.detail, r.body.message);
}

async function login(server: TestServer, body: Record<string, unknown>): Promise<any> {
  return ok(await call(server, 'POST', '/api/sso/v1/auth/login', { json: body }));
}

async function appRows(server: TestServer): Promise<any[]> {
  return server.app.database.dataSource.query('SELECT * FROM apps WHERE NOT first_party ORDER BY number');
}

describe('app registry over REST', () => {
  let server: TestServer;
  let admin: string;
  let alice: { token: string; id: string; legacyId: number };
  let adminId: string;
  let created: any;

  before(async () => {
    server = await startTestServer();
    const a = await login(server, { ...ADMIN, register: true });
    admin = a.access_token;
    adminId = a.user.id;
    const b = await login(server, { ...ALICE, register: true });
    alice = { token: b.access_token, id: b.user.id, legacyId: b.user.legacy_id };
  });
  after(async () => {
    await server?.stop();
  });

  test('POST /api/sso/v1/apps registers an app and shows its key once', async () => {
    created = ok(
      await call(server, 'POST', '/api/sso/v1/apps', {
        token: admin,
        json: {
          name: 'Your App',
          url: 'https://app.example.com',
          description: 'The docs example',
          redirect_uris: ['https://app.example.com/callback'],
          allowed_origins: ['https://app.example.com/'],
        },
      }),
    );
    assert.match(created.id, UUID);
    assert.equal(created.legacy_id, 1);
    assert.equal(created.name, 'Your App');
    assert.equal(created.url, 'https://app.example.com');
    assert.equal(created.description, 'The docs example');
    assert.equal(created.audience, 'your-app', "the default audience is the name's slug");
    assert.deepEqual(created.redirect_uris, ['https://app.example.com/callback']);
    assert.deepEqual(created.allowed_origins, ['https://app.example.com'], 'origins are normalized');
    assert.match(created.api_key, KEY);
    assert.ok(created.api_key.startsWith(created.api_key_prefix + '_'));
    assert.match(created.api_key_prefix, /^sso_app_[a-z0-9]{12}$/);
    assert.equal(created.is_active, true);
    assert.match(created.created_at, RFC3339);
    assert.match(created.updated_at, RFC3339);
    for (const key of ['apiKey', 'legacyId', 'isActive', 'redirectUris']) assert.ok(!(key in created), key);
  });

  test('the key is stored only as its hash and prefix', async () => {
    const [row] = await appRows(server);
    assert.equal(row.key_hash, createHash('sha256').update(created.api_key).digest('hex'));
    assert.equal(row.key_prefix, created.api_key_prefix);
    const secret = created.api_key.slice(created.api_key_prefix.length + 1);
    assert.ok(!JSON.stringify(row).includes(secret), 'no column holds the secret');
  });

  test('GET /api/sso/v1/apps/{id} shows the prefix, never the key again', async () => {
    const app = ok(await call(server, 'GET', `/api/sso/v1/apps/${created.id}`, { token: admin }));
    assert.equal(app.api_key, '');
    assert.equal(app.api_key_prefix, created.api_key_prefix);
    assert.equal(app.audience, 'your-app');
    assert.equal(app.legacy_id, 1);
  });

  test('POST /apps/ (legacy) registers {name, url} and answers the ASF shape with api_key', async () => {
    const app = ok(
      await call(server, 'POST', '/apps/', { token: admin, json: { name: 'OpenProject', url: 'https://openproject.nabd-co.com' } }),
    );
    assert.deepEqual(Object.keys(app).sort(), ['api_key', 'created_at', 'id', 'is_active', 'name', 'url']);
    assert.equal(app.id, 2);
    assert.equal(typeof app.id, 'number');
    assert.equal(app.name, 'OpenProject');
    assert.equal(app.url, 'https://openproject.nabd-co.com');
    assert.match(app.api_key, KEY);
    assert.equal(app.is_active, true);
    assert.match(app.created_at, RFC3339);
  });

  test('GET /apps/ (legacy) is a bare array; api_key is only the prefix afterwards', async () => {
    const apps = ok(await call(server, 'GET', '/apps/', { token: admin }));
    assert.ok(Array.isArray(apps));
    assert.deepEqual(
      apps.map((a: any) => a.id),
      [1, 2],
    );
    assert.equal(apps[0].api_key, created.api_key_prefix);
    assert.doesNotMatch(apps[1].api_key, KEY);
    assert.match(apps[1].api_key, /^sso_app_[a-z0-9]{12}$/);
  });

  test("GET /api/sso/v1/apps pages in USSO's shape; the same apps as the legacy list", async () => {
    const all = ok(await call(server, 'GET', '/api/sso/v1/apps', { token: admin }));
    assert.equal(all.total, 2);
    assert.equal(all.offset, 0);
    assert.equal(all.limit, 10);
    assert.deepEqual(
      all.items.map((a: any) => a.legacy_id),
      [1, 2],
    );
    assert.ok(all.items.every((a: any) => a.api_key === ''));
    assert.equal(all.items[1].audience, 'openproject');
    const second = ok(await call(server, 'GET', '/api/sso/v1/apps?offset=1&limit=1', { token: admin }));
    assert.deepEqual(
      { n: second.items.length, total: second.total, offset: second.offset, limit: second.limit },
      { n: 1, total: 2, offset: 1, limit: 1 },
    );
    assert.equal(second.items[0].name, 'OpenProject');
    const past = ok(await call(server, 'GET', '/api/sso/v1/apps?offset=50', { token: admin }));
    assert.deepEqual(past.items, []);
    assert.equal(past.total, 2);
    refused(await call(server, 'GET', '/api/sso/v1/apps?limit=101', { token: admin }), 400, 'INVALID_PAGINATION');
  });

  test("the default audience falls back to the id when the slug is taken, empty or the server's own", async () => {
    const twin = ok(await call(server, 'POST', '/apps/', { token: admin, json: { name: 'OpenProject', url: '' } }));
    const twinFull = ok(await call(server, 'GET', '/api/sso/v1/apps?offset=2&limit=1', { token: admin })).items[0];
    assert.equal(twinFull.legacy_id, twin.id);
    assert.equal(twinFull.audience, twinFull.id);
    const symbols = ok(await call(server, 'POST', '/api/sso/v1/apps', { token: admin, json: { name: '***' } }));
    assert.equal(symbols.audience, symbols.id);
    const own = ok(await call(server, 'POST', '/api/sso/v1/apps', { token: admin, json: { name: 'SSO' } }));
    assert.equal(own.audience, own.id, "never the server's default audience");
    const accents = ok(await call(server, 'POST', '/api/sso/v1/apps', { token: admin, json: { name: '  Café Órder -- Tracker!  ' } }));
    assert.equal(accents.audience, 'cafe-order-tracker');
    assert.equal(accents.name, 'Café Órder -- Tracker!');
  });

  test("an explicit audience is kept; a taken one is 409, the server's own or a malformed one 400", async () => {
    const app = ok(
      await call(server, 'POST', '/api/sso/v1/apps', { token: admin, json: { name: 'API', audience: 'https://api.example.com' } }),
    );
    assert.equal(app.audience, 'https://api.example.com');
    const before = (await appRows(server)).length;
    refused(
      await call(server, 'POST', '/api/sso/v1/apps', { token: admin, json: { name: 'Other', audience: 'your-app' } }),
      409,
      'AUDIENCE_TAKEN',
    );
    refused(
      await call(server, 'POST', '/api/sso/v1/apps', { token: admin, json: { name: 'Other', audience: 'sso' } }),
      400,
      'INVALID_ARGUMENT',
    );
    refused(
      await call(server, 'POST', '/api/sso/v1/apps', { token: admin, json: { name: 'Other', audience: 'has space' } }),
      400,
      'INVALID_ARGUMENT',
    );
    assert.equal((await appRows(server)).length, before, 'refused registrations stored nothing');
  });

  test('bad input is a clear 400 and stores nothing', async () => {
    const before = (await appRows(server)).length;
    const cases: [unknown, string][] = [
      [{}, 'MISSING_FIELD'],
      [{ name: '   ' }, 'INVALID_ARGUMENT'],
      [{ name: 'x'.repeat(201) }, 'INVALID_ARGUMENT'],
      [{ name: 'X', url: 'not a url' }, 'INVALID_ARGUMENT'],
      [{ name: 'X', url: 'javascript:alert(1)' }, 'INVALID_ARGUMENT'],
      [{ name: 'X', redirect_uris: ['/relative'] }, 'INVALID_ARGUMENT'],
      [{ name: 'X', redirect_uris: ['https://a.example.com/cb#frag'] }, 'INVALID_ARGUMENT'],
      [{ name: 'X', allowed_origins: ['https://a.example.com/path'] }, 'INVALID_ARGUMENT'],
      [{ name: 'X', allowed_origins: ['*'] }, 'INVALID_ARGUMENT'],
      [{ name: 'y'.repeat(5000) }, 'INVALID_ARGUMENT'],
      [{ name: 42 }, 'INVALID_BODY'],
      [[{ name: 'X' }], 'INVALID_BODY'],
    ];
    for (const [json, reason] of cases) {
      const r = await call(server, 'POST', '/api/sso/v1/apps', { token: admin, json });
      assert.equal(r.status, 400, `${JSON.stringify(json).slice(0, 80)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error_code, reason, `${JSON.stringify(json).slice(0, 80)}: ${JSON.stringify(r.body)}`);
    }
    refused(
      await call(server, 'POST', '/apps/', { token: admin, body: '{"name": ', headers: { 'content-type': 'application/json' } }),
      400,
      'MALFORMED_JSON',
    );
    refused(await call(server, 'POST', '/apps/', { token: admin, json: { url: 'https://x.example.com' } }), 400, 'MISSING_FIELD');
    refused(await call(server, 'GET', '/api/sso/v1/apps/not-a-uuid', { token: admin }), 400, 'INVALID_ID');
    refused(await call(server, 'GET', '/api/sso/v1/apps/00000000-0000-4000-8000-000000000000', { token: admin }), 404, 'APP_NOT_FOUND');
    assert.equal((await appRows(server)).length, before);
  });

  test('PATCH changes only the fields sent', async () => {
    const before = ok(await call(server, 'GET', `/api/sso/v1/apps/${created.id}`, { token: admin }));
    const a = ok(await call(server, 'PATCH', `/api/sso/v1/apps/${created.id}`, { token: admin, json: { description: 'Changed' } }));
    assert.equal(a.description, 'Changed');
    for (const key of [
      'name',
      'url',
      'audience',
      'redirect_uris',
      'allowed_origins',
      'is_active',
      'api_key_prefix',
      'legacy_id',
      'created_at',
    ]) {
      assert.deepEqual(a[key], before[key], key);
    }
    assert.ok(Date.parse(a.updated_at) >= Date.parse(before.updated_at));
    const b = ok(await call(server, 'PATCH', `/api/sso/v1/apps/${created.id}`, { token: admin, json: { redirect_uris: [], url: '' } }));
    assert.deepEqual(b.redirect_uris, [], 'an empty list sent clears the list');
    assert.equal(b.url, '');
    assert.equal(b.description, 'Changed');
    assert.deepEqual(b.allowed_origins, ['https://app.example.com']);
    refused(await call(server, 'PATCH', `/api/sso/v1/apps/${created.id}`, { token: admin, json: { name: '' } }), 400, 'INVALID_ARGUMENT');
    refused(
      await call(server, 'PATCH', `/api/sso/v1/apps/${created.id}`, { token: admin, json: { audience: 'openproject' } }),
      409,
      'AUDIENCE_TAKEN',
    );
    refused(
      await call(server, 'PATCH', `/api/sso/v1/apps/${created.id}`, { token: admin, json: { audience: '' } }),
      400,
      'INVALID_ARGUMENT',
    );
    refused(
      await call(server, 'PATCH', '/api/sso/v1/apps/00000000-0000-4000-8000-000000000000', { token: admin, json: { name: 'x' } }),
      404,
      'APP_NOT_FOUND',
    );
    const after = ok(await call(server, 'GET', `/api/sso/v1/apps/${created.id}`, { token: admin }));
    assert.equal(after.name, 'Your App');
    assert.equal(after.audience, 'your-app', 'refused updates changed nothing');
  });

  test('rotating the key replaces it at once (the old hash is gone)', async () => {
    const rotated = ok(await call(server, 'POST', `/api/sso/v1/apps/${created.id}/rotate-key`, { token: admin }));
    assert.match(rotated.api_key, KEY);
    assert.notEqual(rotated.api_key, created.api_key);
    assert.notEqual(rotated.api_key_prefix, created.api_key_prefix);
    assert.equal(rotated.id, created.id);
    const [row] = await appRows(server);
    assert.equal(row.key_hash, createHash('sha256').update(rotated.api_key).digest('hex'));
    refused(
      await call(server, 'POST', '/api/sso/v1/apps/00000000-0000-4000-8000-000000000000/rotate-key', { token: admin }),
      404,
      'APP_NOT_FOUND',
    );
    created = rotated;
  });

  test('assignments: USSO routes, listing both ways, idempotent, unassign', async () => {
    const path = `/api/sso/v1/apps/${created.id}/users/${alice.id}`;
    assert.deepEqual(ok(await call(server, 'POST', path, { token: admin })), { success: true });
    assert.deepEqual(ok(await call(server, 'POST', path, { token: admin })), { success: true }, 'assigning twice is fine');
    const users = ok(await call(server, 'GET', `/api/sso/v1/apps/${created.id}/users`, { token: admin }));
    assert.equal(users.total, 1);
    assert.equal(users.items[0].id, alice.id);
    assert.equal(users.items[0].identifiers[0].identifier, 'alice');
    assert.equal(users.items[0].legacy_id, alice.legacyId);
    const apps = ok(await call(server, 'GET', `/api/sso/v1/users/${alice.id}/apps`, { token: admin }));
    assert.equal(apps.total, 1);
    assert.equal(apps.items[0].id, created.id);
    assert.equal(apps.items[0].api_key, '');
    refused(
      await call(server, 'POST', `/api/sso/v1/apps/${created.id}/users/00000000-0000-4000-8000-000000000000`, { token: admin }),
      404,
      'USER_NOT_FOUND',
    );
    refused(
      await call(server, 'POST', `/api/sso/v1/apps/00000000-0000-4000-8000-000000000000/users/${alice.id}`, { token: admin }),
      404,
      'APP_NOT_FOUND',
    );
    refused(await call(server, 'POST', `/api/sso/v1/apps/${created.id}/users/nope`, { token: admin }), 400, 'INVALID_ID');
    refused(
      await call(server, 'GET', '/api/sso/v1/apps/00000000-0000-4000-8000-000000000000/users', { token: admin }),
      404,
      'APP_NOT_FOUND',
    );
    refused(
      await call(server, 'GET', '/api/sso/v1/users/00000000-0000-4000-8000-000000000000/apps', { token: admin }),
      404,
      'USER_NOT_FOUND',
    );

    assert.deepEqual(ok(await call(server, 'DELETE', path, { token: admin })), { success: true });
    assert.deepEqual(ok(await call(server, 'DELETE', path, { token: admin })), { success: false });
    assert.equal(ok(await call(server, 'GET', `/api/sso/v1/users/${alice.id}/apps`, { token: admin })).total, 0);
    refused(
      await call(server, 'DELETE', `/api/sso/v1/apps/00000000-0000-4000-8000-000000000000/users/${alice.id}`, { token: admin }),
      404,
      'APP_NOT_FOUND',
    );
  });

  test('legacy POST /users/{user_id}/assign/{app_id} takes sequential numbers, with no body', async () => {
    const r = ok(await call(server, 'POST', `/users/${alice.legacyId}/assign/${created.legacy_id}`, { token: admin }));
    assert.deepEqual(r, { message: 'User assigned to application' });
    const users = ok(await call(server, 'GET', `/api/sso/v1/apps/${created.id}/users`, { token: admin }));
    assert.deepEqual(
      users.items.map((u: any) => u.id),
      [alice.id],
      'the same assignment on both surfaces',
    );
    ok(await call(server, 'POST', `/users/${alice.legacyId}/assign/${created.legacy_id}`, { token: admin }));
    refused(await call(server, 'POST', `/users/9999/assign/${created.legacy_id}`, { token: admin }), 404, 'USER_NOT_FOUND');
    refused(await call(server, 'POST', `/users/${alice.legacyId}/assign/9999`, { token: admin }), 404, 'APP_NOT_FOUND');
    const bad = await call(server, 'POST', `/users/abc/assign/${created.legacy_id}`, { token: admin });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
  });

  test('who may do what: anyone may list their own apps; the rest needs the app permissions', async () => {
    const own = ok(await call(server, 'GET', `/api/sso/v1/users/${alice.id}/apps`, { token: alice.token }));
    assert.deepEqual(
      own.items.map((a: any) => a.id),
      [created.id],
    );
    refused(await call(server, 'GET', `/api/sso/v1/users/${adminId}/apps`, { token: alice.token }), 403, 'PERMISSION_DENIED');
    refused(await call(server, 'POST', '/api/sso/v1/apps', { token: alice.token, json: { name: 'Mine' } }), 403, 'PERMISSION_DENIED');
    refused(await call(server, 'GET', '/api/sso/v1/apps', { token: alice.token }), 403, 'PERMISSION_DENIED');
    refused(
      await call(server, 'PATCH', `/api/sso/v1/apps/${created.id}`, { token: alice.token, json: { name: 'Mine' } }),
      403,
      'PERMISSION_DENIED',
    );
    refused(await call(server, 'POST', `/api/sso/v1/apps/${created.id}/rotate-key`, { token: alice.token }), 403, 'PERMISSION_DENIED');
    refused(await call(server, 'DELETE', `/api/sso/v1/apps/${created.id}`, { token: alice.token }), 403, 'PERMISSION_DENIED');
    refused(await call(server, 'GET', '/apps/', { token: alice.token }), 403, 'ADMIN_REQUIRED');
    refused(await call(server, 'POST', '/apps/', { token: alice.token, json: { name: 'Mine', url: '' } }), 403, 'ADMIN_REQUIRED');
    refused(
      await call(server, 'POST', `/users/${alice.legacyId}/assign/${created.legacy_id}`, { token: alice.token }),
      403,
      'ADMIN_REQUIRED',
    );
    refused(await call(server, 'GET', '/apps/'), 401, 'UNAUTHENTICATED');
    refused(await call(server, 'GET', '/api/sso/v1/apps'), 401, 'UNAUTHENTICATED');
    // The permission is checked before existence: nothing learnt about unknown ids.
    refused(
      await call(server, 'GET', '/api/sso/v1/apps/00000000-0000-4000-8000-000000000000', { token: alice.token }),
      403,
      'PERMISSION_DENIED',
    );
    // The app key is not a credential for the API.
    refused(await call(server, 'GET', '/api/sso/v1/apps', { token: created.api_key }), 401, 'INVALID_API_KEY');
  });

  test('a user granted read:apps by scope may list apps but not change them', async () => {
    await server.app.database.dataSource.query(`UPDATE users SET scopes = '{read:apps}' WHERE id = $1`, [alice.id]);
    const fresh = await login(server, ALICE);
    const list = ok(await call(server, 'GET', '/api/sso/v1/apps', { token: fresh.access_token }));
    assert.ok(list.total >= 2);
    ok(await call(server, 'GET', `/api/sso/v1/apps/${created.id}/users`, { token: fresh.access_token }));
    refused(
      await call(server, 'POST', '/api/sso/v1/apps', { token: fresh.access_token, json: { name: 'Mine' } }),
      403,
      'PERMISSION_DENIED',
    );
    refused(await call(server, 'GET', '/apps/', { token: fresh.access_token }), 403, 'ADMIN_REQUIRED');
    await server.app.database.dataSource.query(`UPDATE users SET scopes = '{}' WHERE id = $1`, [alice.id]);
  });

  test('deleting an app removes it and its assignments; deleting a user removes theirs', async () => {
    const temp = ok(await call(server, 'POST', '/api/sso/v1/apps', { token: admin, json: { name: 'Temp' } }));
    ok(await call(server, 'POST', `/api/sso/v1/apps/${temp.id}/users/${alice.id}`, { token: admin }));
    assert.deepEqual(ok(await call(server, 'DELETE', `/api/sso/v1/apps/${temp.id}`, { token: admin })), { success: true });
    refused(await call(server, 'GET', `/api/sso/v1/apps/${temp.id}`, { token: admin }), 404, 'APP_NOT_FOUND');
    refused(await call(server, 'DELETE', `/api/sso/v1/apps/${temp.id}`, { token: admin }), 404, 'APP_NOT_FOUND');
    const [{ n }] = await server.app.database.dataSource.query('SELECT count(*)::int AS n FROM app_assignments WHERE app_id = $1', [
      temp.id,
    ]);
    assert.equal(n, 0);

    const bob = await login(server, { identifier: 'bob', secret: 'BobPassword123!', register: true });
    ok(await call(server, 'POST', `/api/sso/v1/apps/${created.id}/users/${bob.user.id}`, { token: admin }));
    await server.app.database.dataSource.query('DELETE FROM users WHERE id = $1', [bob.user.id]);
    const users = ok(await call(server, 'GET', `/api/sso/v1/apps/${created.id}/users`, { token: admin }));
    assert.deepEqual(
      users.items.map((u: any) => u.id),
      [alice.id],
    );
    assert.equal(users.total, 1);
  });
});

describe('app registry over Connect and gRPC', () => {
  let server: TestServer;
  let admin: string;
  let userId: string;

  before(async () => {
    server = await startTestServer();
    admin = (await login(server, { ...ADMIN, register: true })).access_token;
    userId = (await login(server, { ...ALICE, register: true })).user.id;
  });
  after(async () => {
    await server?.stop();
  });

  for (const protocol of ['connect', 'grpc'] as Protocol[]) {
    test(`every RPC over ${protocol}`, async () => {
      const apps = server.client(AppRegistryService, { protocol, token: admin });
      const { app } = await apps.createApp({
        name: `Typed ${protocol}`,
        url: 'https://typed.example.com',
        redirectUris: ['https://typed.example.com/cb'],
      });
      assert.ok(app);
      assert.match(app.apiKey, KEY);
      assert.equal(app.audience, `typed-${protocol}`);
      const got = await apps.getApp({ id: app.id });
      assert.equal(got.app?.apiKey, '');
      assert.equal(got.app?.apiKeyPrefix, app.apiKeyPrefix);

      // Over RPC without a mask: the optional fields set and the non-empty lists are what is sent.
      const updated = await apps.updateApp({ id: app.id, description: 'typed' });
      assert.equal(updated.app?.description, 'typed');
      assert.equal(updated.app?.name, app.name);
      assert.deepEqual(updated.app?.redirectUris, ['https://typed.example.com/cb']);
      const masked = await apps.updateApp({ id: app.id, updateMask: { paths: ['redirect_uris'] } });
      assert.deepEqual(masked.app?.redirectUris, []);
      assert.equal(masked.app?.description, 'typed');

      const list = await apps.listApps({});
      assert.ok(list.items.some((a) => a.id === app.id));
      const rotated = await apps.rotateAppApiKey({ id: app.id });
      assert.notEqual(rotated.app?.apiKey, app.apiKey);

      assert.equal((await apps.assignAppUser({ appId: app.id, userId })).success, true);
      assert.deepEqual(
        (await apps.listAppUsers({ appId: app.id })).items.map((u) => u.id),
        [userId],
      );
      assert.ok((await apps.listUserApps({ userId })).items.some((a) => a.id === app.id));
      assert.equal((await apps.unassignAppUser({ appId: app.id, userId })).success, true);

      const legacy = await apps.createLegacyApp({ name: `Legacy ${protocol}`, url: 'https://legacy.example.com' });
      assert.match(legacy.app?.apiKey ?? '', KEY);
      const legacyList = await apps.listLegacyApps({});
      assert.ok(legacyList.apps.some((a) => a.id === legacy.app?.id && a.apiKey !== legacy.app?.apiKey));
      const users = await server.app.database.dataSource.query('SELECT number FROM users WHERE id = $1', [userId]);
      assert.equal(
        (await apps.assignLegacyUser({ userId: users[0].number, appId: legacy.app!.id })).message,
        'User assigned to application',
      );

      assert.equal((await apps.deleteApp({ id: app.id })).success, true);
      await assert.rejects(apps.getApp({ id: app.id }), (e: unknown) => e instanceof ConnectError && e.code === Code.NotFound);
      await assert.rejects(apps.createApp({ name: '' }), (e: unknown) => e instanceof ConnectError && e.code === Code.InvalidArgument);
      await assert.rejects(
        server.client(AppRegistryService, { protocol }).listApps({}),
        (e: unknown) => e instanceof ConnectError && e.code === Code.Unauthenticated,
      );
    });
  }
});

/** The seed's Express snippet as a relying app named "your-app" runs it. */
const expressVerify = (jwksUri: string, token: string) => seedExpressVerifier(jwksUri, 'your-app', 'http://localhost:8000')(token);

describe("a registered app's audience is a token audience (the First Steps integration)", () => {
  let server: TestServer;
  let admin: string;
  let appId: string;

  before(async () => {
    // The issuer the seed's snippets expect; nothing configures "your-app": registering it does.
    server = await startTestServer({ issuer: 'http://localhost:8000' });
    admin = (await login(server, { ...ADMIN, register: true })).access_token;
  });
  after(async () => {
    await server?.stop();
  });

  test('before the app is registered, "your-app" is refused', async () => {
    refused(await call(server, 'POST', '/api/sso/v1/auth/login', { json: { ...ADMIN, audience: 'your-app' } }), 400, 'INVALID_AUDIENCE');
  });

  test('after registering "your-app", a login naming it gets aud "your-app", which the Express snippet accepts', async () => {
    const app = ok(await call(server, 'POST', '/api/sso/v1/apps', { token: admin, json: { name: 'Your App', audience: 'your-app' } }));
    appId = app.id;
    // A token for the app lets its holder use the app: only assigned users get one.
    refused(await call(server, 'POST', '/api/sso/v1/auth/login', { json: { ...ADMIN, audience: 'your-app' } }), 403, 'APP_NOT_ASSIGNED');
    const adminId = (await login(server, ADMIN)).user.id;
    ok(await call(server, 'POST', `/api/sso/v1/apps/${appId}/users/${adminId}`, { token: admin }));
    const session = await login(server, { ...ADMIN, audience: 'your-app' });
    const payload = JSON.parse(Buffer.from(session.access_token.split('.')[1], 'base64url').toString());
    assert.equal(payload.aud, 'your-app');
    const { err, decoded } = await expressVerify(server.url + '/.well-known/jwks.json', session.access_token);
    assert.equal(err, null);
    assert.equal(decoded.aud, 'your-app');
    assert.equal(decoded.sub, session.user.id);
    // A token for the default audience is not one for the app.
    const plain = await login(server, ADMIN);
    const wrong = await expressVerify(server.url + '/.well-known/jwks.json', plain.access_token);
    assert.match(String(wrong.err?.message), /audience/);
  });

  test('registering through an app audience creates nothing and answers as a failed login', async () => {
    const before = (await server.app.database.dataSource.query('SELECT count(*)::int AS n FROM users'))[0].n;
    // A new user cannot be assigned to the app yet, so `register` is ignored there: a 403
    // APP_NOT_ASSIGNED for new identifiers only (an existing one with a wrong password gets 401)
    // would tell who exists. It is the same 401 as a wrong password.
    const newcomer = await call(server, 'POST', '/api/sso/v1/auth/login', {
      json: { identifier: 'newcomer@example.com', secret: 'Newcomer-Password1', register: true, audience: 'your-app' },
    });
    refused(newcomer, 401, 'INVALID_CREDENTIALS');
    const existing = await call(server, 'POST', '/api/sso/v1/auth/login', {
      json: { identifier: ADMIN.identifier, secret: 'Newcomer-Password1', register: true, audience: 'your-app' },
    });
    assert.equal(existing.status, newcomer.status);
    assert.deepEqual(existing.body, newcomer.body);
    assert.equal((await server.app.database.dataSource.query('SELECT count(*)::int AS n FROM users'))[0].n, before);
  });

  test('unassigning a user ends its app session at the next refresh', async () => {
    const user = await login(server, { identifier: 'member@example.com', secret: 'Member-Password1', register: true });
    ok(await call(server, 'POST', `/api/sso/v1/apps/${appId}/users/${user.user.id}`, { token: admin }));
    const appSession = await login(server, { identifier: 'member@example.com', secret: 'Member-Password1', audience: 'your-app' });
    const refreshed = ok(await call(server, 'POST', '/api/sso/v1/auth/refresh', { json: { refresh_token: appSession.refresh_token } }));
    ok(await call(server, 'DELETE', `/api/sso/v1/apps/${appId}/users/${user.user.id}`, { token: admin }));
    refused(
      await call(server, 'POST', '/api/sso/v1/auth/refresh', { json: { refresh_token: refreshed.refresh_token } }),
      403,
      'APP_NOT_ASSIGNED',
    );
    refused(await call(server, 'GET', '/api/sso/v1/me', { token: refreshed.access_token }), 401, 'SESSION_REVOKED');
    // Its session for the default audience is not touched.
    ok(await call(server, 'GET', '/api/sso/v1/me', { token: user.access_token }));
  });

  test("a deactivated app's audience is refused again; reactivated, accepted", async () => {
    ok(await call(server, 'PATCH', `/api/sso/v1/apps/${appId}`, { token: admin, json: { is_active: false } }));
    refused(await call(server, 'POST', '/api/sso/v1/auth/login', { json: { ...ADMIN, audience: 'your-app' } }), 400, 'INVALID_AUDIENCE');
    ok(await call(server, 'PATCH', `/api/sso/v1/apps/${appId}`, { token: admin, json: { is_active: true } }));
    assert.equal((await login(server, { ...ADMIN, audience: 'your-app' })).user.id !== '', true);
    ok(await call(server, 'DELETE', `/api/sso/v1/apps/${appId}`, { token: admin }));
    refused(await call(server, 'POST', '/api/sso/v1/auth/login', { json: { ...ADMIN, audience: 'your-app' } }), 400, 'INVALID_AUDIENCE');
  });
});
