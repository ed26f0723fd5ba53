// Workspaces, members and roles on the USSO surface, and what they put into tokens: a login may
// select a workspace the user belongs to; roles and scopes changes show in the next token.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DirectoryService } from '../../gen/sso/directory/v1/directory_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

const ADMIN = { identifier: 'admin@example.com', secret: 'AdminPassword123!' };
const NO_SUCH = '00000000-0000-4000-8000-000000000000';

function claimsOf(jwt: string): any {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
}

describe('Directory workspaces and roles', () => {
  let server: TestServer;
  let admin: string;

  const login = async (identifier: string, extra: Record<string, unknown> = {}) => {
    const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier, secret: 'UserPassword1', ...extra } });
    return { status: res.status, body: await res.json() };
  };
  const makeUser = async (identifier: string, scopes: string[] = []) => {
    const res = await server.rest('/api/sso/v1/users', {
      method: 'POST',
      token: admin,
      json: { identifier, password: 'UserPassword1', scopes },
    });
    assert.equal(res.status, 200);
    const user = await res.json();
    const session = await login(identifier);
    return { id: user.id as string, token: session.body.access_token as string, refresh: session.body.refresh_token as string };
  };
  const call = async (method: string, path: string, token?: string, json?: unknown) => {
    const res = await server.rest(`/api/sso/v1${path}`, { method, token, json });
    return { status: res.status, body: await res.json() };
  };

  before(async () => {
    server = await startTestServer();
    const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { ...ADMIN, register: true } });
    admin = (await res.json()).access_token;
  });
  after(async () => {
    await server?.stop();
  });

  describe('workspaces', () => {
    let olivia: Awaited<ReturnType<typeof makeUser>>;
    let peter: Awaited<ReturnType<typeof makeUser>>;
    let outsider: Awaited<ReturnType<typeof makeUser>>;
    let ws: any;

    before(async () => {
      olivia = await makeUser('olivia@example.com', ['create:workspaces']);
      peter = await makeUser('peter@example.com');
      outsider = await makeUser('outsider@example.com');
    });

    test('the creator becomes owner and first member', async () => {
      const res = await call('POST', '/workspaces', olivia.token, { name: ' Olivia Team ', slug: 'Olivia-Team', description: 'hers' });
      assert.equal(res.status, 200);
      ws = res.body;
      assert.equal(ws.name, 'Olivia Team');
      assert.equal(ws.slug, 'olivia-team');
      assert.equal(ws.description, 'hers');
      assert.equal(ws.owner_id, olivia.id);
      const members = await call('GET', `/workspaces/${ws.id}/members`, olivia.token);
      assert.equal(members.status, 200);
      assert.deepEqual(
        members.body.items.map((m: any) => [m.user_id, m.is_owner, m.roles]),
        [[olivia.id, true, []]],
      );
      assert.equal(members.body.total, 1);
    });

    test('bad input: duplicate slug, bad slug, empty name; nothing created', async () => {
      const before = (await call('GET', '/workspaces?limit=100', admin)).body.total;
      for (const [json, status, reason] of [
        [{ name: 'Other', slug: 'olivia-team' }, 409, 'WORKSPACE_SLUG_TAKEN'],
        [{ name: 'Other', slug: 'OLIVIA-TEAM' }, 409, 'WORKSPACE_SLUG_TAKEN'],
        [{ name: 'Other', slug: 'has space' }, 400, 'INVALID_SLUG'],
        [{ name: 'Other', slug: NO_SUCH }, 400, 'INVALID_SLUG'],
        [{ name: '   ', slug: 'blank-name' }, 400, 'INVALID_NAME'],
        [{ name: 'No slug' }, 400, 'MISSING_FIELD'],
        [{ slug: 'no-name' }, 400, 'MISSING_FIELD'],
      ] as const) {
        const res = await call('POST', '/workspaces', admin, json);
        assert.equal(res.status, status, JSON.stringify(json));
        assert.equal(res.body.error_code, reason, JSON.stringify(json));
      }
      assert.equal((await call('GET', '/workspaces?limit=100', admin)).body.total, before);
    });

    test('members: add with workspace roles, list, change roles, remove', async () => {
      // A workspace role (created by the administrator) with nothing beyond what the owner may grant: none.
      const role = await call('POST', '/roles', admin, { name: 'Viewer', slug: 'viewer', scopes: [], workspace_id: ws.id });
      assert.equal(role.status, 200);
      assert.equal(role.body.workspace_id, ws.id);
      const add = await call('POST', `/workspaces/${ws.id}/members`, olivia.token, { user_id: peter.id, roles: ['viewer'] });
      assert.equal(add.status, 200);
      assert.deepEqual([add.body.workspace_id, add.body.user_id, add.body.roles, add.body.is_owner], [ws.id, peter.id, ['viewer'], false]);
      assert.equal(
        (await call('POST', `/workspaces/${ws.id}/members`, olivia.token, { user_id: peter.id })).body.error_code,
        'ALREADY_MEMBER',
      );
      for (const [json, status, reason] of [
        [{ user_id: outsider.id, roles: ['no-such'] }, 400, 'UNKNOWN_ROLE'],
        [{ user_id: NO_SUCH }, 404, 'USER_NOT_FOUND'],
        [{ user_id: 'nope' }, 400, 'INVALID_ID'],
        [{ roles: [] }, 400, 'MISSING_FIELD'],
      ] as const) {
        const res = await call('POST', `/workspaces/${ws.id}/members`, olivia.token, json);
        assert.equal(res.status, status, JSON.stringify(json));
        assert.equal(res.body.error_code, reason, JSON.stringify(json));
      }
      const list = await call('GET', `/workspaces/${ws.id}/members?limit=1&offset=1`, peter.token);
      assert.equal(list.status, 200, 'members may read');
      assert.deepEqual([list.body.total, list.body.limit, list.body.offset, list.body.items.length], [2, 1, 1, 1]);
      assert.equal(list.body.items[0].user_id, peter.id);
      const changed = await call('PATCH', `/workspaces/${ws.id}/members/${peter.id}`, olivia.token, { roles: [] });
      assert.deepEqual(changed.body.roles, []);
      assert.equal(
        (await call('PATCH', `/workspaces/${ws.id}/members/${outsider.id}`, olivia.token, { roles: [] })).body.error_code,
        'MEMBER_NOT_FOUND',
      );
      assert.equal(
        (await call('PATCH', `/workspaces/${ws.id}/members/${peter.id}`, peter.token, { roles: ['viewer'] })).status,
        403,
        'members are not owners',
      );
      // Peter is a member now: he sees the workspace (by id or slug) and it is in his workspace_ids.
      assert.equal((await call('GET', `/workspaces/${ws.id}`, peter.token)).status, 200);
      assert.equal((await call('GET', `/workspaces/olivia-team`, peter.token)).body.id, ws.id);
      assert.deepEqual((await call('GET', '/me', peter.token)).body.workspace_ids, [ws.id]);
      assert.deepEqual(
        (await call('GET', '/workspaces', peter.token)).body.items.map((w: any) => w.id),
        [ws.id],
      );
      const removed = await call('DELETE', `/workspaces/${ws.id}/members/${peter.id}`, olivia.token);
      assert.deepEqual(removed.body, { success: true });
      assert.equal((await call('DELETE', `/workspaces/${ws.id}/members/${peter.id}`, olivia.token)).status, 404);
      assert.equal((await call('GET', `/workspaces/${ws.id}`, peter.token)).status, 403);
    });

    test('a caller with neither permission nor membership gets 403 whether or not the workspace exists', async () => {
      for (const target of [ws.id, NO_SUCH, 'olivia-team', 'no-such-slug', 'Not a slug!']) {
        const res = await call('GET', `/workspaces/${encodeURIComponent(target)}`, outsider.token);
        assert.equal(res.status, 403, target);
      }
      for (const [method, path, json] of [
        ['PATCH', `/workspaces/${ws.id}`, { name: 'x' }],
        ['PATCH', `/workspaces/${NO_SUCH}`, { name: 'x' }],
        ['PATCH', '/workspaces/bad-id', { name: 'x' }],
        ['DELETE', `/workspaces/${ws.id}`],
        ['DELETE', `/workspaces/${NO_SUCH}`],
        ['GET', `/workspaces/${ws.id}/members`],
        ['GET', `/workspaces/${NO_SUCH}/members`],
        ['POST', `/workspaces/${ws.id}/members`, { user_id: outsider.id }],
        ['POST', `/workspaces/${NO_SUCH}/members`, { user_id: outsider.id }],
        ['PATCH', `/workspaces/${ws.id}/members/${olivia.id}`, { roles: [] }],
        ['DELETE', `/workspaces/${ws.id}/members/${olivia.id}`],
        ['DELETE', `/workspaces/${NO_SUCH}/members/${olivia.id}`],
      ] as const) {
        const res = await call(method, path, outsider.token, json);
        assert.equal(res.status, 403, `${method} ${path}`);
      }
      // The list is the caller's own: empty for the outsider.
      const list = await call('GET', '/workspaces', outsider.token);
      assert.deepEqual([list.status, list.body.items, list.body.total], [200, [], 0]);
      // With the permission, existence shows: 404 (and 400 for a malformed id).
      assert.equal((await call('GET', `/workspaces/${NO_SUCH}`, admin)).body.error_code, 'WORKSPACE_NOT_FOUND');
      assert.equal((await call('GET', '/workspaces/no-such-slug', admin)).status, 404);
      assert.equal((await call('PATCH', '/workspaces/bad-id', admin, { name: 'x' })).body.error_code, 'INVALID_ID');
    });

    test('the owner updates only the fields sent; slug conflicts are 409', async () => {
      const other = await call('POST', '/workspaces', admin, { name: 'Taken', slug: 'taken' });
      assert.equal(other.status, 200);
      let res = await call('PATCH', `/workspaces/${ws.id}`, olivia.token, { description: 'new words' });
      assert.deepEqual([res.body.name, res.body.slug, res.body.description], ['Olivia Team', 'olivia-team', 'new words']);
      res = await call('PATCH', `/workspaces/${ws.id}`, olivia.token, { slug: 'taken' });
      assert.deepEqual([res.status, res.body.error_code], [409, 'WORKSPACE_SLUG_TAKEN']);
      res = await call('PATCH', `/workspaces/${ws.id}`, olivia.token, { name: '' });
      assert.deepEqual([res.status, res.body.error_code], [400, 'INVALID_NAME']);
      res = await call('PATCH', `/workspaces/${ws.id}`, olivia.token, { name: 'Renamed', slug: 'renamed' });
      assert.deepEqual([res.body.name, res.body.slug, res.body.description], ['Renamed', 'renamed', 'new words']);
    });

    test('deleting a workspace takes its roles and memberships with it', async () => {
      const res = await call('DELETE', `/workspaces/${ws.id}`, olivia.token);
      assert.deepEqual(res.body, { success: true });
      assert.equal((await call('GET', `/workspaces/${ws.id}`, admin)).status, 404);
      const ds = server.app.database.dataSource;
      assert.equal((await ds.query('SELECT count(*)::int AS n FROM roles WHERE workspace_id = $1', [ws.id]))[0].n, 0);
      assert.equal((await ds.query('SELECT count(*)::int AS n FROM workspace_members WHERE workspace_id = $1', [ws.id]))[0].n, 0);
      assert.deepEqual((await call('GET', `/users/${olivia.id}`, admin)).body.workspace_ids, []);
    });
  });

  describe('roles', () => {
    test('create, list, get by id or slug, update, delete; slugs unique per workspace or globally', async () => {
      const ws = (await call('POST', '/workspaces', admin, { name: 'Roles WS', slug: 'roles-ws' })).body;
      const global = await call('POST', '/roles', admin, {
        name: 'Writer',
        slug: 'writer',
        scopes: ['create:posts'],
        description: 'writes',
      });
      assert.equal(global.status, 200);
      const local = await call('POST', '/roles', admin, {
        name: 'Writer here',
        slug: 'writer',
        scopes: ['read:posts'],
        workspace_id: ws.id,
      });
      assert.equal(local.status, 200, 'the same slug in a workspace is another role');
      for (const [json, status, reason] of [
        [{ name: 'Dup', slug: 'writer' }, 409, 'ROLE_SLUG_TAKEN'],
        [{ name: 'Dup', slug: 'writer', workspace_id: ws.id }, 409, 'ROLE_SLUG_TAKEN'],
        [{ name: 'X', slug: 'x-role', workspace_id: NO_SUCH }, 404, 'WORKSPACE_NOT_FOUND'],
        [{ name: 'X', slug: 'x-role', workspace_id: 'bad' }, 400, 'INVALID_ID'],
        [{ name: 'X', slug: 'x-role', scopes: ['read:ok', 'bad scope'] }, 400, 'INVALID_SCOPE'],
        [{ name: ' ', slug: 'x-role' }, 400, 'INVALID_NAME'],
        [{ name: 'X', slug: 'X Role' }, 400, 'INVALID_SLUG'],
        [{ slug: 'x-role' }, 400, 'MISSING_FIELD'],
      ] as const) {
        const res = await call('POST', '/roles', admin, json);
        assert.equal(res.status, status, JSON.stringify(json));
        assert.equal(res.body.error_code, reason, JSON.stringify(json));
      }
      const all = await call('GET', '/roles?limit=100', admin);
      assert.deepEqual(
        all.body.items.map((r: any) => r.slug),
        ['writer', 'writer'],
      );
      const inWs = await call('GET', `/roles?workspace_id=${ws.id}`, admin);
      assert.deepEqual(
        inWs.body.items.map((r: any) => r.id),
        [local.body.id],
      );
      assert.equal((await call('GET', '/roles?workspace_id=nope', admin)).status, 400);
      assert.equal((await call('GET', '/roles?limit=500', admin)).body.error_code, 'INVALID_PAGINATION');
      assert.deepEqual((await call('GET', `/roles/${global.body.id}`, admin)).body, global.body);
      assert.deepEqual((await call('GET', '/roles/writer', admin)).body, global.body, 'a slug names the global role');
      assert.equal((await call('GET', `/roles/${NO_SUCH}`, admin)).body.error_code, 'ROLE_NOT_FOUND');
      assert.equal((await call('GET', '/roles/Not%20a%20slug', admin)).status, 400);

      let upd = await call('PATCH', `/roles/${global.body.id}`, admin, { description: 'writes a lot' });
      assert.deepEqual(
        [upd.body.name, upd.body.description, upd.body.scopes, upd.body.slug],
        ['Writer', 'writes a lot', ['create:posts'], 'writer'],
      );
      upd = await call('PATCH', `/roles/${global.body.id}`, admin, { scopes: [] });
      assert.deepEqual(upd.body.scopes, []);
      upd = await call('PATCH', `/roles/${global.body.id}`, admin, { name: '' });
      assert.equal(upd.body.error_code, 'INVALID_NAME');
      assert.equal((await call('PATCH', `/roles/${NO_SUCH}`, admin, { name: 'x' })).status, 404);
      assert.equal((await call('PATCH', '/roles/writer', admin, { name: 'x' })).body.error_code, 'INVALID_ID');

      assert.deepEqual((await call('DELETE', `/roles/${local.body.id}`, admin)).body, { success: true });
      assert.equal((await call('DELETE', `/roles/${local.body.id}`, admin)).status, 404);
      assert.equal((await call('DELETE', '/roles/bad', admin)).status, 400);
    });

    test('a change of role scopes shows in the next token; deleting a role removes it from its holders', async () => {
      await call('POST', '/roles', admin, { name: 'Reviewer', slug: 'reviewer', scopes: ['read:reviews'] });
      const user = await makeUser('quinn@example.com', ['read:own']);
      assert.equal((await call('PATCH', `/users/${user.id}`, admin, { roles: ['reviewer'] })).status, 200);
      let session = await login('quinn@example.com');
      assert.deepEqual(claimsOf(session.body.access_token).roles, ['reviewer']);
      assert.deepEqual(claimsOf(session.body.access_token).scopes, ['read:own', 'read:reviews']);

      const role = (await call('GET', '/roles/reviewer', admin)).body;
      await call('PATCH', `/roles/${role.id}`, admin, { scopes: ['update:reviews'] });
      const refreshed = await call('POST', '/auth/refresh', undefined, { refresh_token: session.body.refresh_token });
      assert.deepEqual(claimsOf(refreshed.body.access_token).scopes, ['read:own', 'update:reviews']);

      await call('DELETE', `/roles/${role.id}`, admin);
      assert.deepEqual((await call('GET', `/users/${user.id}`, admin)).body.roles, []);
      session = await login('quinn@example.com');
      assert.deepEqual(claimsOf(session.body.access_token).roles, []);
      assert.deepEqual(claimsOf(session.body.access_token).scopes, ['read:own']);
    });

    test('non-administrators may put into roles only scopes they hold', async () => {
      const maker = await makeUser('rita@example.com', ['create:roles', 'update:roles', 'manage:posts']);
      const ok = await call('POST', '/roles', maker.token, { name: 'Poster', slug: 'poster', scopes: ['delete:posts', 'read:posts'] });
      assert.equal(ok.status, 200);
      const beyond = await call('POST', '/roles', maker.token, { name: 'Boss', slug: 'boss', scopes: ['read:users'] });
      assert.deepEqual([beyond.status, beyond.body.error_code], [403, 'GRANT_EXCEEDS_CALLER']);
      const widen = await call('PATCH', `/roles/${ok.body.id}`, maker.token, { scopes: ['*'] });
      assert.equal(widen.status, 403);
      assert.deepEqual((await call('GET', `/roles/${ok.body.id}`, admin)).body.scopes, ['delete:posts', 'read:posts']);
    });
  });

  describe('tokens and workspaces', () => {
    test('a login may select a workspace the user belongs to; its roles join the token', async () => {
      const user = await makeUser('sam@example.com');
      const ws = (await call('POST', '/workspaces', admin, { name: 'Sam WS', slug: 'sam-ws' })).body;
      const other = (await call('POST', '/workspaces', admin, { name: 'Not Sam', slug: 'not-sam' })).body;
      await call('POST', '/roles', admin, { name: 'Global', slug: 'global-reader', scopes: ['read:global'] });
      await call('POST', '/roles', admin, { name: 'Local', slug: 'local-editor', scopes: ['update:local'], workspace_id: ws.id });
      await call('PATCH', `/users/${user.id}`, admin, { roles: ['global-reader'] });
      assert.equal(
        (await call('PATCH', `/users/${user.id}`, admin, { roles: ['local-editor'] })).body.error_code,
        'UNKNOWN_ROLE',
        'workspace roles are not global roles',
      );
      assert.equal((await call('POST', `/workspaces/${ws.id}/members`, admin, { user_id: user.id, roles: ['local-editor'] })).status, 200);
      assert.equal(
        (await call('POST', `/workspaces/${other.id}/members`, admin, { user_id: user.id, roles: ['global-reader'] })).body.error_code,
        'UNKNOWN_ROLE',
        'members hold roles of their workspace',
      );

      const plain = await login('sam@example.com');
      assert.deepEqual(
        [claimsOf(plain.body.access_token).roles, claimsOf(plain.body.access_token).scopes],
        [['global-reader'], ['read:global']],
      );
      assert.equal(claimsOf(plain.body.access_token).workspace_id, undefined);

      const selected = await login('sam@example.com', { workspace_id: ws.id });
      assert.equal(selected.status, 200);
      const claims = claimsOf(selected.body.access_token);
      assert.equal(claims.workspace_id, ws.id);
      assert.deepEqual(claims.roles, ['global-reader', 'local-editor']);
      assert.deepEqual(claims.scopes, ['read:global', 'update:local']);
      const me = (await call('GET', '/me', selected.body.access_token)).body;
      assert.deepEqual(me.roles, ['global-reader', 'local-editor']);
      assert.deepEqual(me.workspace_ids, [ws.id]);

      const refused = await login('sam@example.com', { workspace_id: other.id });
      assert.deepEqual([refused.status, refused.body.error_code], [403, 'NOT_A_WORKSPACE_MEMBER']);
      assert.equal((await login('sam@example.com', { workspace_id: NO_SUCH })).status, 403);
      assert.equal((await login('sam@example.com', { workspace_id: 'nope' })).status, 400);

      // Leaving the workspace: the next token (refresh of the selected session) no longer has its roles.
      await call('DELETE', `/workspaces/${ws.id}/members/${user.id}`, admin);
      const refreshed = await call('POST', '/auth/refresh', undefined, { refresh_token: selected.body.refresh_token });
      assert.deepEqual(claimsOf(refreshed.body.access_token).roles, ['global-reader']);
      assert.deepEqual(claimsOf(refreshed.body.access_token).scopes, ['read:global']);
    });

    test('the same calls work over gRPC', async () => {
      const client = server.client(DirectoryService, { protocol: 'grpc', token: admin });
      const { workspace } = await client.createWorkspace({ name: 'Grpc WS', slug: 'grpc-ws' });
      const { role } = await client.createRole({ name: 'G', slug: 'g-role', scopes: ['read:g'], workspaceId: workspace!.id });
      const user = await makeUser('tina@example.com');
      const { member } = await client.addWorkspaceMember({ workspaceId: workspace!.id, userId: user.id, roles: ['g-role'] });
      assert.deepEqual(member?.roles, ['g-role']);
      const members = await client.listWorkspaceMembers({ workspaceId: workspace!.id });
      assert.equal(members.total, 2);
      assert.equal((await client.getRole({ id: role!.id })).role?.slug, 'g-role');
      assert.equal((await client.getWorkspace({ id: 'grpc-ws' })).workspace?.id, workspace!.id);
      assert.equal(
        (await client.updateWorkspaceMember({ workspaceId: workspace!.id, userId: user.id, roles: [] })).member?.roles.length,
        0,
      );
      assert.equal((await client.removeWorkspaceMember({ workspaceId: workspace!.id, userId: user.id })).success, true);
      assert.equal((await client.deleteWorkspace({ id: workspace!.id })).success, true);
    });
  });
});
