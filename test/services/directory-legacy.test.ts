// The ASF reference's "User Management (Admin Only)" section, sent as printed (only the host and
// the ids differ), with an administrator's token from POST /token; and the same users seen from
// the USSO surface and over gRPC.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { DirectoryService } from '../../gen/sso/directory/v1/directory_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const LEGACY_KEYS = ['created_at', 'email', 'id', 'is_active', 'is_admin', 'updated_at', 'username'];

describe('ASF user management, as printed', () => {
  let server: TestServer;
  let adminToken: string;
  let created: any;

  const login = (identifier: string, secret: string) =>
    server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier, secret } });

  before(async () => {
    server = await startTestServer();
    // The first user registered on an empty system is the administrator; the seed's admin is "admin".
    const reg = await server.rest('/api/sso/v1/auth/login', {
      method: 'POST',
      json: { identifier: 'admin', secret: 'admin_password', register: true },
    });
    assert.equal(reg.status, 200);
  });
  after(async () => {
    await server?.stop();
  });

  test('POST /token (form data) gives the administrator a bearer token', async () => {
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'admin', password: 'admin_password' }),
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.token_type, 'bearer');
    adminToken = body.access_token;
    assert.equal(typeof adminToken, 'string');
  });

  test('POST /users/ creates the user of the example body', async () => {
    const res = await fetch(`${server.url}/users/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: '{ "username": "newuser", "email": "user@example.com", "password": "password123", "is_admin": false }',
    });
    assert.equal(res.status, 200);
    created = await res.json();
    assert.deepEqual(Object.keys(created).sort(), LEGACY_KEYS);
    assert.equal(created.username, 'newuser');
    assert.equal(created.email, 'user@example.com');
    assert.equal(created.is_active, true);
    assert.equal(created.is_admin, false);
    assert.equal(typeof created.id, 'number');
    assert.ok(Number.isInteger(created.id) && created.id > 1, 'a sequential number after the admin');
    assert.match(created.created_at, RFC3339);
    assert.match(created.updated_at, RFC3339);
  });

  test('GET /users/ lists all users as a bare array of LegacyUser', async () => {
    const res = await fetch(`${server.url}/users/`, { headers: { Authorization: `Bearer ${adminToken}` } });
    assert.equal(res.status, 200);
    const list = await res.json();
    assert.ok(Array.isArray(list));
    assert.equal(list.length, 2);
    for (const u of list) assert.deepEqual(Object.keys(u).sort(), LEGACY_KEYS);
    const [admin, user] = list;
    assert.equal(admin.username, 'admin');
    assert.equal(admin.email, '', 'the admin has no e-mail address');
    assert.equal(admin.is_admin, true);
    assert.equal(admin.id, 1);
    assert.deepEqual(user, created);
  });

  test('the created user signs in with its username or e-mail address', async () => {
    assert.equal((await login('newuser', 'password123')).status, 200);
    assert.equal((await login('user@example.com', 'password123')).status, 200);
  });

  test('PUT /users/{user_id} with the example body changes only those fields', async () => {
    const res = await fetch(`${server.url}/users/${created.id}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: '{ "email": "newemail@example.com", "is_active": false }',
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.id, created.id);
    assert.equal(body.email, 'newemail@example.com');
    assert.equal(body.is_active, false);
    assert.equal(body.username, 'newuser', 'unchanged');
    assert.equal(body.is_admin, false, 'unchanged');
    assert.equal(body.created_at, created.created_at);
    assert.ok(Date.parse(body.updated_at) >= Date.parse(created.updated_at));
    // Inactive now: the right password no longer signs in, and the old address is free.
    const denied = await login('newuser', 'password123');
    assert.equal(denied.status, 403);
    assert.equal((await denied.json()).error_code, 'USER_INACTIVE');
    const listed = await (await server.rest('/users/', { token: adminToken })).json();
    assert.deepEqual(listed[1], body);
  });

  test('the legacy and USSO surfaces show the same users (id = legacy_id)', async () => {
    const res = await server.rest(`/api/sso/v1/users?identifier=newuser`, { token: adminToken });
    assert.equal(res.status, 200);
    const page = await res.json();
    assert.equal(page.total, 1);
    const user = page.items[0];
    assert.equal(user.legacy_id, created.id);
    assert.equal(user.is_active, false);
    assert.deepEqual(
      user.identifiers.map((i: any) => [i.type, i.identifier, i.primary]),
      [
        ['username', 'newuser', true],
        ['email', 'newemail@example.com', false],
      ],
    );
    // And back: a change on the USSO surface shows on the legacy one.
    const patched = await server.rest(`/api/sso/v1/users/${user.id}`, { method: 'PATCH', token: adminToken, json: { is_active: true } });
    assert.equal(patched.status, 200);
    const legacy = await (await server.rest('/users/', { token: adminToken })).json();
    assert.equal(legacy[1].is_active, true);
    assert.equal((await login('newemail@example.com', 'password123')).status, 200);
  });

  test('PUT changes username and password; "" removes the e-mail address', async () => {
    const res = await server.rest(`/users/${created.id}`, {
      method: 'PUT',
      token: adminToken,
      json: { username: 'renamed', password: 'another-password', email: '' },
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.username, 'renamed');
    assert.equal(body.email, '');
    assert.equal((await login('renamed', 'another-password')).status, 200);
    assert.equal((await login('renamed', 'password123')).status, 401);
    assert.equal((await login('newuser', 'another-password')).status, 401, 'the old username is gone');
    // The username is the only identifier left: it cannot go, and a bad address changes nothing.
    const bad = await server.rest(`/users/${created.id}`, { method: 'PUT', token: adminToken, json: { email: 'not an address' } });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error_code, 'INVALID_IDENTIFIER');
  });

  test('an administrator may create administrators; they get POST /token', async () => {
    const res = await server.rest('/users/', {
      method: 'POST',
      token: adminToken,
      json: { username: 'second-admin', email: 'second@example.com', password: 'password123', is_admin: true },
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.is_admin, true);
    const token = await server.rest('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=second-admin&password=password123',
    });
    assert.equal(token.status, 200);
    // Demoted by the first administrator: POST /token refuses it from now on.
    const demoted = await server.rest(`/users/${body.id}`, { method: 'PUT', token: adminToken, json: { is_admin: false } });
    assert.equal((await demoted.json()).is_admin, false);
    const refused = await server.rest('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=second-admin&password=password123',
    });
    assert.equal(refused.status, 403);
  });

  test('the last active administrator cannot demote or deactivate itself', async () => {
    for (const json of [{ is_admin: false }, { is_active: false }]) {
      const res = await server.rest('/users/1', { method: 'PUT', token: adminToken, json });
      assert.equal(res.status, 400);
      assert.equal((await res.json()).error_code, 'LAST_ADMIN');
    }
    const list = await (await server.rest('/users/', { token: adminToken })).json();
    assert.equal(list[0].is_admin, true);
    assert.equal(list[0].is_active, true);
  });

  describe('bad input gets a clear 4xx and changes nothing', () => {
    const count = async () => (await (await server.rest('/users/', { token: adminToken })).json()).length;

    test('POST /users/ refusals', async () => {
      const before = await count();
      const cases: [unknown, number, string][] = [
        [{ username: 'renamed', email: 'x@example.com', password: 'password123' }, 409, 'IDENTIFIER_TAKEN'],
        [{ username: 'fresh', email: 'second@example.com', password: 'password123' }, 409, 'IDENTIFIER_TAKEN'],
        [{ username: 'fresh', email: 'x@example.com', password: 'short' }, 400, 'WEAK_PASSWORD'],
        [{ username: '', email: 'x@example.com', password: 'password123' }, 400, 'MISSING_FIELD'],
        [{ email: 'x@example.com', password: 'password123' }, 400, 'MISSING_FIELD'],
        [{ username: 'fresh', email: 'x@example.com' }, 400, 'MISSING_FIELD'],
        [{ username: 'has space', email: 'x@example.com', password: 'password123' }, 400, 'INVALID_IDENTIFIER'],
        [{ username: 'fresh', email: 'nope', password: 'password123' }, 400, 'INVALID_IDENTIFIER'],
        [{ username: 'fresh', password: 'password123', is_admin: 'yes' }, 400, 'INVALID_BODY'],
        [[1, 2], 400, 'INVALID_BODY'],
      ];
      for (const [json, status, reason] of cases) {
        const res = await server.rest('/users/', { method: 'POST', token: adminToken, json });
        assert.equal(res.status, status, JSON.stringify(json));
        assert.equal((await res.json()).error_code, reason, JSON.stringify(json));
      }
      const malformed = await server.rest('/users/', {
        method: 'POST',
        token: adminToken,
        headers: { 'content-type': 'application/json' },
        body: '{"username": ',
      });
      assert.equal(malformed.status, 400);
      assert.equal(await count(), before);
    });

    test('PUT /users/{user_id} refusals', async () => {
      const cases: [string, unknown, number, string][] = [
        ['/users/abc', { is_active: false }, 400, 'INVALID_ARGUMENT'],
        ['/users/1.5', { is_active: false }, 400, 'INVALID_ARGUMENT'],
        ['/users/99999999999', { is_active: false }, 400, 'INVALID_ARGUMENT'],
        ['/users/-3', { is_active: false }, 400, 'INVALID_ID'],
        ['/users/0', { is_active: false }, 400, 'MISSING_FIELD'],
        ['/users/999999', { is_active: false }, 404, 'USER_NOT_FOUND'],
        [`/users/${created.id}`, { username: 'admin' }, 409, 'IDENTIFIER_TAKEN'],
        [`/users/${created.id}`, { password: 'short' }, 400, 'WEAK_PASSWORD'],
        [`/users/${created.id}`, { is_active: 'no' }, 400, 'INVALID_BODY'],
      ];
      const beforeList = await (await server.rest('/users/', { token: adminToken })).json();
      for (const [path, json, status, reason] of cases) {
        const res = await server.rest(path, { method: 'PUT', token: adminToken, json });
        assert.equal(res.status, status, `${path} ${JSON.stringify(json)}`);
        assert.equal((await res.json()).error_code, reason, `${path} ${JSON.stringify(json)}`);
      }
      assert.deepEqual(await (await server.rest('/users/', { token: adminToken })).json(), beforeList);
    });
  });

  describe('administrators only', () => {
    let plainToken: string;
    before(async () => {
      const res = await server.rest('/api/sso/v1/auth/login', {
        method: 'POST',
        json: { identifier: 'plain@example.com', secret: 'PlainPassword1', register: true },
      });
      plainToken = (await res.json()).access_token;
    });

    test('anonymous callers get 401, other users 403, on every legacy user route', async () => {
      const routes: [string, string, unknown?][] = [
        ['GET', '/users/'],
        ['POST', '/users/', { username: 'sneaky', password: 'password123' }],
        ['PUT', '/users/1', { is_admin: false }],
        ['PUT', '/users/999999', { is_admin: false }],
      ];
      for (const [method, path, json] of routes) {
        const anon = await server.rest(path, { method, json });
        assert.equal(anon.status, 401, `${method} ${path}`);
        const plain = await server.rest(path, { method, json, token: plainToken });
        assert.equal(plain.status, 403, `${method} ${path}`);
        assert.equal((await plain.json()).error_code, 'ADMIN_REQUIRED');
      }
      // A plain user holding every scope is still not an administrator.
      const list = await (await server.rest('/api/sso/v1/users?identifier=plain', { token: adminToken })).json();
      const plainId = list.items[0].id;
      await server.rest(`/api/sso/v1/users/${plainId}`, { method: 'PATCH', token: adminToken, json: { scopes: ['*'] } });
      const relog = await (await login('plain@example.com', 'PlainPassword1')).json();
      assert.deepEqual(relog.user.scopes, ['*']);
      assert.equal((await server.rest('/users/', { token: relog.access_token })).status, 403);
    });
  });

  describe('over gRPC and Connect', () => {
    test('the legacy RPCs answer the same users', async () => {
      for (const protocol of ['grpc', 'connect'] as const) {
        const client = server.client(DirectoryService, { protocol, token: adminToken });
        const { users } = await client.listLegacyUsers({});
        const rest = await (await server.rest('/users/', { token: adminToken })).json();
        assert.deepEqual(
          users.map((u) => [u.id, u.username, u.email, u.isActive, u.isAdmin]),
          rest.map((u: any) => [u.id, u.username, u.email, u.is_active, u.is_admin]),
        );
        const made = await client.createLegacyUser({
          username: `rpc-${protocol}`,
          email: `${protocol}@example.com`,
          password: 'password123',
        });
        assert.equal(made.user?.username, `rpc-${protocol}`);
        const changed = await client.updateLegacyUser({ userId: made.user!.id, isActive: false });
        assert.equal(changed.user?.isActive, false);
        assert.equal(changed.user?.email, `${protocol}@example.com`);
        await assert.rejects(
          client.updateLegacyUser({ userId: 424242, isActive: false }),
          (e: unknown) => e instanceof ConnectError && e.code === Code.NotFound,
        );
      }
    });
  });
});
