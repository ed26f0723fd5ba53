// The ASF SSO API reference (seeds/002), every request sent exactly as printed (only the host and
// the ids differ) against a fresh server: the admin token (form data), the legacy user routes,
// assignment, the legacy app routes, then POST /verify for each outcome: authorized, wrong
// password, unknown user, inactive user, user not assigned, bad API key, rotated-away key.
// Then the same scenario over Connect and gRPC with the generated clients.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AppRegistryService } from '../../gen/sso/appregistry/v1/app_registry_service_pb.js';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { DirectoryService } from '../../gen/sso/directory/v1/directory_service_pb.js';
import { startTestServer, type Protocol, type TestServer } from '../support/server.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const LEGACY_USER_KEYS = ['created_at', 'email', 'id', 'is_active', 'is_admin', 'updated_at', 'username'];

/**
 * The seed's admin ("username: admin, password: admin_password") must exist before POST /token:
 * the first user registered on an empty system is the administrator.
 */
async function bootstrapAdmin(server: TestServer): Promise<void> {
  const res = await server.rest('/api/sso/v1/auth/login', {
    method: 'POST',
    json: { identifier: 'admin', secret: 'admin_password', register: true },
  });
  assert.equal(res.status, 200, await res.text());
}

describe('ASF SSO API reference, as printed (REST)', () => {
  let server: TestServer;
  let base: string;
  let token: string;
  let app: any;
  let jdoe: any;

  async function send(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(base + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json() };
  }

  /** The seed's curl: POST /verify with Content-Type: application/json. */
  async function verify(body: { username: string; password: string; api_key: string }): Promise<any> {
    const res = await fetch(`${base}/verify`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, 'POST /verify is always 200 OK');
    return res.json();
  }

  before(async () => {
    server = await startTestServer();
    base = server.url;
    await bootstrapAdmin(server);
  });
  after(async () => {
    await server?.stop();
  });

  test('2. POST /token (form data) answers {access_token, token_type: "bearer"}', async () => {
    const res = await fetch(`${base}/token`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'admin', password: 'admin_password' }),
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.token_type, 'bearer');
    assert.equal(typeof body.access_token, 'string');
    assert.equal(body.access_token.split('.').length, 3);
    token = body.access_token;
  });

  test('3. GET /users/ lists all users (a bare array)', async () => {
    const r = await send('GET', '/users/');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(Array.isArray(r.body));
    assert.equal(r.body.length, 1);
    assert.deepEqual(Object.keys(r.body[0]).sort(), LEGACY_USER_KEYS);
    assert.equal(r.body[0].username, 'admin');
    assert.equal(r.body[0].is_admin, true);
  });

  test('3. POST /users/ creates the printed user', async () => {
    const r = await send('POST', '/users/', { username: 'newuser', email: 'user@example.com', password: 'password123', is_admin: false });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.username, 'newuser');
    assert.equal(r.body.email, 'user@example.com');
    assert.equal(r.body.is_admin, false);
    assert.equal(r.body.is_active, true);
    assert.equal(typeof r.body.id, 'number');
    // The user of the /verify example ("jdoe", "jdoe@example.com", "secretpassword").
    const j = await send('POST', '/users/', { username: 'jdoe', email: 'jdoe@example.com', password: 'secretpassword', is_admin: false });
    assert.equal(j.status, 200, JSON.stringify(j.body));
    jdoe = j.body;
  });

  test('3. PUT /users/{user_id} updates the printed fields', async () => {
    const list = (await send('GET', '/users/')).body;
    const newuser = list.find((u: any) => u.username === 'newuser');
    const r = await send('PUT', `/users/${newuser.id}`, { email: 'newemail@example.com', is_active: false });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.email, 'newemail@example.com');
    assert.equal(r.body.is_active, false);
    assert.equal(r.body.username, 'newuser');
  });

  test('4. POST /apps/ registers the printed app; the answer includes the api_key', async () => {
    const r = await send('POST', '/apps/', { name: 'OpenProject', url: 'https://openproject.nabd-co.com' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.name, 'OpenProject');
    assert.equal(r.body.url, 'https://openproject.nabd-co.com');
    assert.equal(typeof r.body.id, 'number');
    assert.match(r.body.api_key, /^sso_app_/);
    app = r.body;
  });

  test('4. GET /apps/ lists all registered apps (a bare array)', async () => {
    const r = await send('GET', '/apps/');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(Array.isArray(r.body));
    assert.deepEqual(
      r.body.map((a: any) => [a.id, a.name, a.url]),
      [[app.id, 'OpenProject', 'https://openproject.nabd-co.com']],
    );
  });

  test('3. POST /users/{user_id}/assign/{app_id} (no body) assigns the user', async () => {
    const res = await fetch(`${base}/users/${jdoe.id}/assign/${app.id}`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal(typeof (await res.json()).message, 'string');
    const newuser = (await send('GET', '/users/')).body.find((u: any) => u.username === 'newuser');
    assert.equal((await send('POST', `/users/${newuser.id}/assign/${app.id}`)).status, 200);
  });

  test('1. POST /verify: authorized, exactly the printed success shape', async () => {
    const body = await verify({ username: 'jdoe', password: 'secretpassword', api_key: app.api_key });
    assert.deepEqual(Object.keys(body).sort(), ['authorized', 'message', 'user']);
    assert.equal(body.authorized, true);
    assert.equal(body.message, 'Authorized');
    assert.deepEqual(Object.keys(body.user).sort(), LEGACY_USER_KEYS);
    assert.equal(body.user.username, 'jdoe');
    assert.equal(body.user.email, 'jdoe@example.com');
    assert.equal(body.user.is_active, true);
    assert.equal(body.user.is_admin, false);
    assert.equal(body.user.id, jdoe.id);
    assert.match(body.user.created_at, RFC3339);
    assert.match(body.user.updated_at, RFC3339);
  });

  test('1. POST /verify: wrong password', async () => {
    assert.deepEqual(await verify({ username: 'jdoe', password: 'wrongpassword', api_key: app.api_key }), {
      authorized: false,
      message: 'Invalid username or password',
    });
  });

  test("1. POST /verify: unknown user (the curl example's user, with a real key)", async () => {
    assert.deepEqual(await verify({ username: 'testuser', password: 'password123', api_key: app.api_key }), {
      authorized: false,
      message: 'Invalid username or password',
    });
  });

  test('1. POST /verify: inactive user', async () => {
    assert.deepEqual(await verify({ username: 'newuser', password: 'password123', api_key: app.api_key }), {
      authorized: false,
      message: 'User account is inactive',
    });
  });

  test('1. POST /verify: user not authorized for this application', async () => {
    const r = await send('POST', '/users/', {
      username: 'testuser',
      email: 'testuser@example.com',
      password: 'password123',
      is_admin: false,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(await verify({ username: 'testuser', password: 'password123', api_key: app.api_key }), {
      authorized: false,
      message: 'User not authorized for this application',
    });
  });

  test('1. POST /verify: bad API key (the curl example exactly as printed)', async () => {
    const res = await fetch(`${base}/verify`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{ "username": "testuser", "password": "password123", "api_key": "abc123xyz" }',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { authorized: false, message: 'Invalid API key' });
  });

  test('1. POST /verify: a rotated-away key is refused; the new key authorizes', async () => {
    const full = (await send('GET', '/api/sso/v1/apps')).body.items.find((a: any) => a.legacy_id === app.id);
    const rotated = await send('POST', `/api/sso/v1/apps/${full.id}/rotate-key`);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.deepEqual(await verify({ username: 'jdoe', password: 'secretpassword', api_key: app.api_key }), {
      authorized: false,
      message: 'Invalid API key',
    });
    const body = await verify({ username: 'jdoe', password: 'secretpassword', api_key: rotated.body.api_key });
    assert.equal(body.authorized, true);
    assert.equal(body.user.username, 'jdoe');
  });
});

for (const protocol of ['connect', 'grpc'] as Protocol[]) {
  describe(`ASF scenario over ${protocol} with the generated clients`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer();
      await bootstrapAdmin(server);
    });
    after(async () => {
      await server?.stop();
    });

    test('token, users, app, assignment, then every Verify outcome', async () => {
      const { accessToken, tokenType } = await server
        .client(AuthService, { protocol })
        .createToken({ username: 'admin', password: 'admin_password' });
      assert.equal(tokenType, 'bearer');
      const directory = server.client(DirectoryService, { protocol, token: accessToken });
      const apps = server.client(AppRegistryService, { protocol, token: accessToken });
      const anonymous = server.client(AppRegistryService, { protocol });

      assert.deepEqual(
        (await directory.listLegacyUsers({})).users.map((u) => u.username),
        ['admin'],
      );
      const newuser = (
        await directory.createLegacyUser({ username: 'newuser', email: 'user@example.com', password: 'password123', isAdmin: false })
      ).user!;
      const jdoe = (await directory.createLegacyUser({ username: 'jdoe', email: 'jdoe@example.com', password: 'secretpassword' })).user!;
      await directory.createLegacyUser({ username: 'testuser', email: 'testuser@example.com', password: 'password123' });
      const updated = (await directory.updateLegacyUser({ userId: newuser.id, email: 'newemail@example.com', isActive: false })).user!;
      assert.equal(updated.isActive, false);
      assert.equal(updated.email, 'newemail@example.com');

      const app = (await apps.createLegacyApp({ name: 'OpenProject', url: 'https://openproject.nabd-co.com' })).app!;
      assert.match(app.apiKey, /^sso_app_/);
      assert.deepEqual(
        (await apps.listLegacyApps({})).apps.map((a) => a.id),
        [app.id],
      );
      await apps.assignLegacyUser({ userId: jdoe.id, appId: app.id });
      await apps.assignLegacyUser({ userId: newuser.id, appId: app.id });

      const yes = await anonymous.verify({ username: 'jdoe', password: 'secretpassword', apiKey: app.apiKey });
      assert.equal(yes.authorized, true);
      assert.equal(yes.message, 'Authorized');
      assert.equal(yes.user?.username, 'jdoe');
      assert.equal(yes.user?.email, 'jdoe@example.com');
      assert.equal(yes.user?.id, jdoe.id);
      assert.equal(yes.user?.isActive, true);
      assert.equal(yes.user?.isAdmin, false);

      const refusals: [string, string, string, string][] = [
        ['wrong password', 'jdoe:wrongpassword', app.apiKey, 'Invalid username or password'],
        ['unknown user', 'nobody:password123', app.apiKey, 'Invalid username or password'],
        ['inactive user', 'newuser:password123', app.apiKey, 'User account is inactive'],
        ['not assigned', 'testuser:password123', app.apiKey, 'User not authorized for this application'],
        ['bad API key', 'testuser:password123', 'abc123xyz', 'Invalid API key'],
      ];
      for (const [name, credentials, apiKey, message] of refusals) {
        const [username, password] = credentials.split(':') as [string, string];
        const r = await anonymous.verify({ username, password, apiKey });
        assert.equal(r.authorized, false, name);
        assert.equal(r.message, message, name);
        assert.equal(r.user, undefined, name);
      }

      const uuid = (await apps.listApps({})).items.find((a) => a.legacyId === app.id)!.id;
      const rotated = (await apps.rotateAppApiKey({ id: uuid })).app!;
      const old = await anonymous.verify({ username: 'jdoe', password: 'secretpassword', apiKey: app.apiKey });
      assert.deepEqual([old.authorized, old.message], [false, 'Invalid API key'], 'rotated-away key');
      assert.equal((await anonymous.verify({ username: 'jdoe', password: 'secretpassword', apiKey: rotated.apiKey })).authorized, true);
    });
  });
}
