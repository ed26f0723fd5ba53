// Users on the USSO surface: create, get, list (paging and filters), update (only what is sent),
// delete; what a user may do to itself; bad input; concurrent creation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { FieldMaskSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { DirectoryService } from '../../gen/sso/directory/v1/directory_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

const ADMIN = { identifier: 'admin@example.com', secret: 'AdminPassword123!' };

function claimsOf(jwt: string): any {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
}

describe('Directory users', () => {
  let server: TestServer;
  let admin: string;
  let adminId: string;

  const login = async (identifier: string, secret: string) => {
    const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier, secret } });
    return { status: res.status, body: await res.json() };
  };
  /** Creates a user as the administrator and returns it with a fresh access token. */
  const makeUser = async (identifier: string, extra: Record<string, unknown> = {}) => {
    const res = await server.rest('/api/sso/v1/users', {
      method: 'POST',
      token: admin,
      json: { identifier, password: 'UserPassword1', ...extra },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const user = await res.json();
    const session = await login(identifier, 'UserPassword1');
    assert.equal(session.status, 200);
    return { user, token: session.body.access_token as string, refresh: session.body.refresh_token as string };
  };
  const patch = (id: string, json: unknown, token = admin) => server.rest(`/api/sso/v1/users/${id}`, { method: 'PATCH', token, json });
  const getUser = async (id: string) => (await server.rest(`/api/sso/v1/users/${id}`, { token: admin })).json();

  before(async () => {
    server = await startTestServer();
    const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { ...ADMIN, register: true } });
    const body = await res.json();
    admin = body.access_token;
    adminId = body.user.id;
    for (const [slug, scopes] of [
      ['editor', ['read:posts', 'write:posts']],
      ['auditor', ['read:users']],
      ['remover', ['delete:users']],
    ] as const) {
      const r = await server.rest('/api/sso/v1/roles', { method: 'POST', token: admin, json: { name: slug, slug, scopes } });
      assert.equal(r.status, 200);
    }
  });
  after(async () => {
    await server?.stop();
  });

  describe('create and get', () => {
    test('with several identifiers (first primary) and a password; each identifier signs in', async () => {
      const res = await server.rest('/api/sso/v1/users', {
        method: 'POST',
        token: admin,
        json: {
          identifiers: [
            { identifier: 'Carol@Example.com' },
            { type: 'phone', identifier: '+1 (555) 010-0100', verified: true },
            { identifier: 'carol' },
          ],
          password: 'CarolPassword1',
          roles: ['editor'],
          scopes: ['read:reports'],
        },
      });
      assert.equal(res.status, 200);
      const carol = await res.json();
      assert.deepEqual(carol.identifiers, [
        { type: 'email', identifier: 'carol@example.com', verified: false, primary: true },
        { type: 'phone', identifier: '+15550100100', verified: true, primary: false },
        { type: 'username', identifier: 'carol', verified: false, primary: false },
      ]);
      assert.deepEqual(carol.roles, ['editor']);
      assert.deepEqual(carol.direct_scopes, ['read:reports']);
      assert.deepEqual(carol.scopes, ['read:posts', 'read:reports', 'write:posts']);
      assert.equal(carol.is_admin, false, 'never the bootstrap administrator');
      assert.equal(carol.is_active, true);
      assert.ok(Number.isInteger(carol.legacy_id) && carol.legacy_id > 1);
      for (const id of ['carol@example.com', '+15550100100', 'CAROL']) {
        const session = await login(id, 'CarolPassword1');
        assert.equal(session.status, 200, id);
        assert.deepEqual(claimsOf(session.body.access_token).roles, ['editor']);
      }
      assert.deepEqual(await getUser(carol.id), carol);
      // /me shows the identifiers primary first too.
      const session = await login('carol', 'CarolPassword1');
      const me = await (await server.rest('/api/sso/v1/me', { token: session.body.access_token })).json();
      assert.deepEqual(
        me.identifiers.map((i: any) => i.identifier),
        ['carol@example.com', '+15550100100', 'carol'],
      );
    });

    test('without a password the user exists but cannot sign in by password; inactive on request', async () => {
      const res = await server.rest('/api/sso/v1/users', {
        method: 'POST',
        token: admin,
        json: { identifier: 'nopass@example.com', is_active: false },
      });
      assert.equal(res.status, 200);
      const user = await res.json();
      assert.equal(user.is_active, false);
      assert.equal((await login('nopass@example.com', 'anything-at-all')).status, 401);
    });

    test('GET /users/{id}: 404 for an unknown id, 400 for a malformed one', async () => {
      const missing = await server.rest('/api/sso/v1/users/00000000-0000-4000-8000-000000000000', { token: admin });
      assert.equal(missing.status, 404);
      assert.equal((await missing.json()).error_code, 'USER_NOT_FOUND');
      const malformed = await server.rest('/api/sso/v1/users/not-a-uuid', { token: admin });
      assert.equal(malformed.status, 400);
      assert.equal((await malformed.json()).error_code, 'INVALID_ID');
    });
  });

  describe('list', () => {
    before(async () => {
      for (let i = 0; i < 12; i++) {
        const res = await server.rest('/api/sso/v1/users', {
          method: 'POST',
          token: admin,
          json: {
            identifier: `lister${String(i).padStart(2, '0')}@list.example.com`,
            is_active: i % 3 !== 0,
            roles: i < 4 ? ['auditor'] : [],
          },
        });
        assert.equal(res.status, 200);
      }
    });

    test('{items, total, offset, limit}, oldest first, default limit 10', async () => {
      const res = await server.rest('/api/sso/v1/users', { token: admin });
      const body = await res.json();
      assert.equal(body.limit, 10);
      assert.equal(body.offset, 0);
      assert.equal(body.items.length, 10);
      assert.ok(body.total >= 15);
      assert.equal(body.items[0].id, adminId);
      const numbers = body.items.map((u: any) => u.legacy_id);
      assert.deepEqual(
        numbers,
        [...numbers].sort((a, b) => a - b),
      );
      const next = await (await server.rest(`/api/sso/v1/users?offset=10&limit=100`, { token: admin })).json();
      assert.equal(next.items.length, body.total - 10);
      assert.equal(next.total, body.total);
      assert.ok(next.items[0].legacy_id > numbers[9]);
      const beyond = await (await server.rest(`/api/sso/v1/users?offset=1000`, { token: admin })).json();
      assert.deepEqual(beyond.items, []);
      assert.equal(beyond.total, body.total);
    });

    test('filters: identifier (substring, any case), role, is_active, combined', async () => {
      const q = async (query: string) => await (await server.rest(`/api/sso/v1/users?${query}&limit=100`, { token: admin })).json();
      const all = await q('identifier=LIST.EXAMPLE');
      assert.equal(all.total, 12);
      assert.equal(all.items.length, 12);
      const one = await q('identifier=lister07');
      assert.deepEqual(
        one.items.map((u: any) => u.identifiers[0].identifier),
        ['lister07@list.example.com'],
      );
      const auditors = await q('role=auditor');
      assert.equal(auditors.total, 4);
      for (const u of auditors.items) assert.deepEqual(u.roles, ['auditor']);
      const inactive = await q('identifier=list.example&is_active=false');
      assert.equal(inactive.total, 4);
      for (const u of inactive.items) assert.equal(u.is_active, false);
      const activeAuditors = await q('role=auditor&is_active=true');
      assert.equal(activeAuditors.total, 2);
      assert.equal((await q('role=nobody-has-this')).total, 0);
      // LIKE's metacharacters match themselves.
      assert.equal((await q('identifier=%25')).total, 0);
      assert.equal((await q('identifier=lister_0')).total, 0);
    });

    test('bad paging values and filters get 400 and the reason', async () => {
      for (const [query, reason] of [
        ['limit=101', 'INVALID_PAGINATION'],
        ['limit=-1', 'INVALID_PAGINATION'],
        ['offset=-5', 'INVALID_PAGINATION'],
        ['limit=ten', 'INVALID_ARGUMENT'],
        ['offset=1e3', 'INVALID_ARGUMENT'],
        ['is_active=maybe', 'INVALID_ARGUMENT'],
        ['role=Not A Slug', 'INVALID_SLUG'],
      ]) {
        const res = await server.rest(`/api/sso/v1/users?${query}`, { token: admin });
        assert.equal(res.status, 400, query);
        assert.equal((await res.json()).error_code, reason, query);
      }
    });
  });

  describe('update: only the fields sent change', () => {
    test('roles by slug, direct scopes, active flag; each alone', async () => {
      const { user } = await makeUser('dave@example.com', { roles: ['editor'], scopes: ['read:a'] });
      let res = await patch(user.id, { is_active: false });
      let body = await res.json();
      assert.equal(body.is_active, false);
      assert.deepEqual(body.roles, ['editor']);
      assert.deepEqual(body.direct_scopes, ['read:a']);
      body = await (await patch(user.id, { scopes: ['read:b', 'read:b', 'update:c'] })).json();
      assert.deepEqual(body.direct_scopes, ['read:b', 'update:c']);
      assert.deepEqual(body.roles, ['editor']);
      assert.equal(body.is_active, false);
      body = await (await patch(user.id, { roles: ['auditor', 'editor'] })).json();
      assert.deepEqual(body.roles, ['auditor', 'editor']);
      assert.deepEqual(body.scopes, ['read:b', 'read:posts', 'read:users', 'update:c', 'write:posts']);
      body = await (await patch(user.id, { roles: [], scopes: [], is_active: true })).json();
      assert.deepEqual(body.roles, []);
      assert.deepEqual(body.scopes, []);
      assert.equal(body.is_active, true);
      // An empty body changes nothing (but is a valid update).
      res = await patch(user.id, {});
      assert.equal(res.status, 200);
      assert.deepEqual((await res.json()).roles, []);
    });

    test('a password change takes effect at the next login', async () => {
      const { user } = await makeUser('erin@example.com');
      assert.equal((await patch(user.id, { password: 'ErinNewPassword1' })).status, 200);
      assert.equal((await login('erin@example.com', 'UserPassword1')).status, 401);
      assert.equal((await login('erin@example.com', 'ErinNewPassword1')).status, 200);
    });

    test('bad input gets a clear 4xx and changes nothing', async () => {
      const { user } = await makeUser('frank@example.com', { roles: ['editor'], scopes: ['read:a'] });
      const before = await getUser(user.id);
      for (const [json, status, reason] of [
        [{ roles: ['editor', 'no-such-role'] }, 400, 'UNKNOWN_ROLE'],
        [{ roles: ['Bad Slug!'] }, 400, 'INVALID_SLUG'],
        [{ scopes: ['read:ok', 'not a scope'] }, 400, 'INVALID_SCOPE'],
        [{ password: 'short' }, 400, 'WEAK_PASSWORD'],
        [{ is_active: 'nope' }, 400, 'INVALID_BODY'],
        [{ roles: 'editor' }, 400, 'INVALID_BODY'],
        [{ roles: ['auditor'], scopes: ['bad scope'] }, 400, 'INVALID_SCOPE'],
      ] as const) {
        const res = await patch(user.id, json);
        assert.equal(res.status, status, JSON.stringify(json));
        assert.equal((await res.json()).error_code, reason, JSON.stringify(json));
      }
      assert.deepEqual(await getUser(user.id), before);
      assert.equal((await login('frank@example.com', 'UserPassword1')).status, 200);
      const missing = await patch('00000000-0000-4000-8000-000000000000', { is_active: false });
      assert.equal(missing.status, 404);
      const malformed = await patch('123', { is_active: false });
      assert.equal(malformed.status, 400);
      assert.equal((await malformed.json()).error_code, 'INVALID_ID');
    });

    test('over gRPC: without a mask the fields set change; a mask can clear a list', async () => {
      const { user } = await makeUser('grace@example.com', { roles: ['editor'] });
      const client = server.client(DirectoryService, { protocol: 'grpc', token: admin });
      let res = await client.updateUser({ id: user.id, scopes: ['read:x'] });
      assert.deepEqual(res.user?.roles, ['editor'], 'roles not set: unchanged');
      assert.deepEqual(res.user?.directScopes, ['read:x']);
      res = await client.updateUser({ id: user.id, updateMask: create(FieldMaskSchema, { paths: ['roles'] }) });
      assert.deepEqual(res.user?.roles, []);
      assert.deepEqual(res.user?.directScopes, ['read:x']);
      await assert.rejects(
        client.updateUser({ id: user.id, updateMask: create(FieldMaskSchema, { paths: ['identifiers'] }) }),
        (e: unknown) => e instanceof ConnectError && e.code === Code.InvalidArgument,
      );
    });
  });

  describe('what a user may do to itself', () => {
    test('read and update its own profile (password), but not its roles, scopes, active or admin flag', async () => {
      const { user, token } = await makeUser('heidi@example.com');
      const other = (await makeUser('ivan@example.com')).user;
      const own = await server.rest(`/api/sso/v1/users/${user.id}`, { token });
      assert.equal(own.status, 200);
      assert.equal((await own.json()).id, user.id);
      assert.equal((await server.rest(`/api/sso/v1/users/${other.id}`, { token })).status, 403);
      // Changing one's own password needs the current one (issue 9: a stolen token is no takeover).
      assert.equal((await patch(user.id, { password: 'HeidiNewPassword1', current_password: 'UserPassword1' }, token)).status, 200);
      for (const json of [{ roles: ['editor'] }, { scopes: ['read:users'] }, { is_active: false }, { is_admin: true }, { roles: [] }]) {
        const res = await patch(user.id, json, token);
        assert.equal(res.status, 403, JSON.stringify(json));
      }
      assert.equal((await patch(other.id, { password: 'IvanNewPassword1' }, token)).status, 403);
      const after = await getUser(user.id);
      assert.deepEqual([after.roles, after.direct_scopes, after.is_active, after.is_admin], [[], [], true, false]);
      assert.equal((await login('heidi@example.com', 'HeidiNewPassword1')).status, 200);
    });

    test("an API key of the user may read the profile but not change the owner's password", async () => {
      const { user, token } = await makeUser('kim@example.com');
      const made = await server.rest('/api/sso/v1/apikeys', { method: 'POST', token, json: { name: 'kim key' } });
      assert.equal(made.status, 200, await made.clone().text());
      const key = (await made.json()).key as string;
      const headers = { 'x-api-key': key };
      assert.equal((await server.rest(`/api/sso/v1/users/${user.id}`, { headers })).status, 200);
      const res = await server.rest(`/api/sso/v1/users/${user.id}`, { method: 'PATCH', headers, json: { password: 'TakenOver123!' } });
      assert.equal(res.status, 403);
      assert.equal((await login('kim@example.com', 'UserPassword1')).status, 200, 'the password is unchanged');
    });

    test('with update:users a user may change others (and itself) but never the administrator flag', async () => {
      const { user, token } = await makeUser('judy@example.com', { scopes: ['update:users', 'read:posts', 'write:posts'] });
      const target = (await makeUser('ken@example.com')).user;
      let res = await patch(target.id, { is_active: false }, token);
      assert.equal(res.status, 200);
      res = await patch(target.id, { roles: ['editor'] }, token);
      assert.equal(res.status, 200, 'the role grants only scopes judy holds');
      res = await patch(target.id, { roles: ['editor', 'auditor'] }, token);
      assert.equal(res.status, 200, 'update:users covers read:users (the ladder)');
      res = await patch(target.id, { roles: ['remover'] }, token);
      assert.equal(res.status, 403);
      assert.equal((await res.json()).error_code, 'GRANT_EXCEEDS_CALLER');
      res = await patch(target.id, { scopes: ['delete:users'] }, token);
      assert.equal((await res.json()).error_code, 'GRANT_EXCEEDS_CALLER');
      res = await patch(user.id, { scopes: ['*'] }, token);
      assert.equal(res.status, 403, 'no self-escalation');
      res = await patch(target.id, { is_admin: true }, token);
      assert.equal(res.status, 403);
      assert.equal((await res.json()).error_code, 'ADMIN_REQUIRED');
      const after = await getUser(target.id);
      assert.deepEqual([after.roles, after.is_admin, after.is_active], [['auditor', 'editor'], false, false]);
    });

    test('create:users without administrator may not create administrators', async () => {
      const { token } = await makeUser('leo@example.com', { scopes: ['create:users'] });
      const res = await server.rest('/api/sso/v1/users', {
        method: 'POST',
        token,
        json: { identifier: 'boss@example.com', is_admin: true },
      });
      assert.equal(res.status, 403);
      assert.equal((await res.json()).error_code, 'ADMIN_REQUIRED');
      const ok = await server.rest('/api/sso/v1/users', { method: 'POST', token, json: { identifier: 'worker@example.com' } });
      assert.equal(ok.status, 200);
      const list = await (await server.rest('/api/sso/v1/users?identifier=boss', { token: admin })).json();
      assert.equal(list.total, 0);
    });
  });

  describe('delete', () => {
    test("the user's sessions stop working at once", async () => {
      const { user, token, refresh } = await makeUser('mallory@example.com');
      assert.equal((await server.rest('/api/sso/v1/me', { token })).status, 200);
      const res = await server.rest(`/api/sso/v1/users/${user.id}`, { method: 'DELETE', token: admin });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { success: true });
      assert.equal((await server.rest('/api/sso/v1/me', { token })).status, 401);
      assert.equal((await server.rest('/api/sso/v1/auth/refresh', { method: 'POST', json: { refresh_token: refresh } })).status, 401);
      assert.equal((await server.rest(`/api/sso/v1/users/${user.id}`, { token: admin })).status, 404);
      const again = await server.rest(`/api/sso/v1/users/${user.id}`, { method: 'DELETE', token: admin });
      assert.equal(again.status, 404);
      const sessions = await server.app.database.dataSource.query('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [user.id]);
      assert.equal(sessions[0].n, 0);
      // The identifier is free again.
      assert.equal(
        (await server.rest('/api/sso/v1/users', { method: 'POST', token: admin, json: { identifier: 'mallory@example.com' } })).status,
        200,
      );
    });

    test('the last active administrator cannot delete itself; malformed ids are 400', async () => {
      const res = await server.rest(`/api/sso/v1/users/${adminId}`, { method: 'DELETE', token: admin });
      assert.equal(res.status, 400);
      assert.equal((await res.json()).error_code, 'LAST_ADMIN');
      assert.equal((await server.rest('/api/sso/v1/me', { token: admin })).status, 200);
      const malformed = await server.rest('/api/sso/v1/users/xyz', { method: 'DELETE', token: admin });
      assert.equal(malformed.status, 400);
    });
  });

  describe('identifiers are unique across users', () => {
    test('duplicates, bad identifiers and empty input get a 4xx and create nothing', async () => {
      const count = async () => (await server.app.database.dataSource.query('SELECT count(*)::int AS n FROM users'))[0].n;
      const before = await count();
      for (const [json, status, reason] of [
        [{ identifier: 'ADMIN@example.com' }, 409, 'IDENTIFIER_TAKEN'],
        [{ identifiers: [{ identifier: 'new1@example.com' }, { identifier: 'carol' }] }, 409, 'IDENTIFIER_TAKEN'],
        [{ identifiers: [{ identifier: 'new2@example.com' }, { identifier: 'NEW2@example.com' }] }, 400, 'INVALID_ARGUMENT'],
        [{}, 400, 'MISSING_FIELD'],
        [{ identifier: 'new3@example.com', identifiers: [{ type: 'fax', identifier: '123' }] }, 400, 'INVALID_IDENTIFIER'],
        [{ identifier: 'a b c' }, 400, 'INVALID_IDENTIFIER'],
        [{ identifier: 'new4@example.com', password: 'short' }, 400, 'WEAK_PASSWORD'],
        [{ identifier: 'new5@example.com', roles: ['no-such-role'] }, 400, 'UNKNOWN_ROLE'],
        [{ identifier: 'new6@example.com', scopes: ['no spaces'] }, 400, 'INVALID_SCOPE'],
      ] as const) {
        const res = await server.rest('/api/sso/v1/users', { method: 'POST', token: admin, json });
        assert.equal(res.status, status, JSON.stringify(json));
        assert.equal((await res.json()).error_code, reason, JSON.stringify(json));
      }
      assert.equal(await count(), before);
    });

    test('concurrent creation of the same identifier gives exactly one user', async () => {
      const attempts = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          server.rest('/api/sso/v1/users', {
            method: 'POST',
            token: admin,
            json: { identifiers: [{ identifier: 'race@example.com' }, { identifier: `racer${i}` }], password: 'RacePassword1' },
          }),
        ),
      );
      const statuses = attempts.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, ...Array(11).fill(409)]);
      const rows = await server.app.database.dataSource.query(
        `SELECT count(DISTINCT u.id)::int AS n FROM users u JOIN user_identifiers i ON i.user_id = u.id WHERE i.value LIKE 'racer%' OR i.value = 'race@example.com'`,
      );
      assert.equal(rows[0].n, 1, 'no half-created users');
      // And the same identifier registering through login at the same time as an admin creates it.
      const [viaLogin, viaCreate] = await Promise.all([
        server.rest('/api/sso/v1/auth/login', {
          method: 'POST',
          json: { identifier: 'both@example.com', secret: 'BothPassword1', register: true },
        }),
        server.rest('/api/sso/v1/users', { method: 'POST', token: admin, json: { identifier: 'both@example.com' } }),
      ]);
      assert.deepEqual([viaLogin.status, viaCreate.status].filter((s) => s === 200).length, 1);
      const both = await server.app.database.dataSource.query(
        `SELECT count(*)::int AS n FROM user_identifiers WHERE value = 'both@example.com'`,
      );
      assert.equal(both[0].n, 1);
    });
  });
});
