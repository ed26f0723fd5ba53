// Every DirectoryService RPC against five callers — anonymous, a plain user, a user holding the
// RPC's exact scope, a user holding a lower scope, an administrator — over REST and over gRPC,
// with the expected allow or deny for each; and permission checked before existence.
//
// "Lower" follows USSO's ladder (read < create < update < delete < manage < admin < owner): the
// next rung down on the same resource. `read` is the bottom rung, so for read permissions the
// lower caller holds `write:<resource>`, an action off the ladder that implies nothing (the
// seed's own `write:posts` shows such scopes are in use). The legacy ASF RPCs are for
// administrators only: their "exact" caller holds `*` (every scope) and their "lower" caller
// `admin:users`, and both are refused: only the administrator flag counts there.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { DirectoryService } from '../../gen/sso/directory/v1/directory_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

const NO_SUCH = '00000000-0000-4000-8000-000000000000';
type Caller = 'anonymous' | 'plain' | 'exact' | 'lower' | 'admin';
const CALLERS: Caller[] = ['anonymous', 'plain', 'exact', 'lower', 'admin'];
type Expect = 'allow' | 'deny';

/** Fresh targets for one call, made by the administrator. */
interface Targets {
  userId: string;
  legacyId: number;
  workspaceId: string;
  memberId: string;
  roleId: string;
  n: number;
}

interface Row {
  rpc: keyof typeof DirectoryService.method;
  /** The scope the exact caller holds, and the lower one. */
  exact: string;
  lower: string;
  /** What a plain user (no scopes, member of nothing) gets; everyone else's outcome is fixed by the scope. */
  plain: Expect;
  /** Whether the lower caller is allowed (only where the RPC also serves callers without the permission). */
  lowerAllowed?: boolean;
  exactAllowed?: boolean;
  rest(t: Targets): [string, string, unknown?];
  rpcRequest(t: Targets): Record<string, unknown>;
}

const rows: Row[] = [
  {
    rpc: 'listUsers',
    exact: 'read:users',
    lower: 'write:users',
    plain: 'deny',
    rest: () => ['GET', '/api/sso/v1/users'],
    rpcRequest: () => ({}),
  },
  {
    rpc: 'getUser',
    exact: 'read:users',
    lower: 'write:users',
    plain: 'deny',
    rest: (t) => ['GET', `/api/sso/v1/users/${t.userId}`],
    rpcRequest: (t) => ({ id: t.userId }),
  },
  {
    rpc: 'createUser',
    exact: 'create:users',
    lower: 'read:users',
    plain: 'deny',
    rest: (t) => ['POST', '/api/sso/v1/users', { identifier: `made${t.n}@example.com` }],
    rpcRequest: (t) => ({ identifier: `made${t.n}@example.com` }),
  },
  {
    rpc: 'updateUser',
    exact: 'update:users',
    lower: 'create:users',
    plain: 'deny',
    rest: (t) => ['PATCH', `/api/sso/v1/users/${t.userId}`, { is_active: false }],
    rpcRequest: (t) => ({ id: t.userId, isActive: false }),
  },
  {
    rpc: 'deleteUser',
    exact: 'delete:users',
    lower: 'update:users',
    plain: 'deny',
    rest: (t) => ['DELETE', `/api/sso/v1/users/${t.userId}`],
    rpcRequest: (t) => ({ id: t.userId }),
  },
  {
    rpc: 'listLegacyUsers',
    exact: '*',
    lower: 'admin:users',
    plain: 'deny',
    exactAllowed: false,
    rest: () => ['GET', '/users/'],
    rpcRequest: () => ({}),
  },
  {
    rpc: 'createLegacyUser',
    exact: '*',
    lower: 'admin:users',
    plain: 'deny',
    exactAllowed: false,
    rest: (t) => [
      'POST',
      '/users/',
      { username: `legacy${t.n}`, email: `legacy${t.n}@example.com`, password: 'password123', is_admin: false },
    ],
    rpcRequest: (t) => ({ username: `legacy${t.n}`, email: `legacy${t.n}@example.com`, password: 'password123' }),
  },
  {
    rpc: 'updateLegacyUser',
    exact: '*',
    lower: 'admin:users',
    plain: 'deny',
    exactAllowed: false,
    rest: (t) => ['PUT', `/users/${t.legacyId}`, { is_active: false }],
    rpcRequest: (t) => ({ userId: t.legacyId, isActive: false }),
  },
  {
    rpc: 'createWorkspace',
    exact: 'create:workspaces',
    lower: 'read:workspaces',
    plain: 'deny',
    rest: (t) => ['POST', '/api/sso/v1/workspaces', { name: 'W', slug: `made-ws-${t.n}` }],
    rpcRequest: (t) => ({ name: 'W', slug: `made-ws-${t.n}` }),
  },
  {
    rpc: 'listWorkspaces',
    exact: 'read:workspaces',
    lower: 'write:workspaces',
    plain: 'allow',
    lowerAllowed: true,
    rest: () => ['GET', '/api/sso/v1/workspaces'],
    rpcRequest: () => ({}),
  },
  {
    rpc: 'getWorkspace',
    exact: 'read:workspaces',
    lower: 'write:workspaces',
    plain: 'deny',
    rest: (t) => ['GET', `/api/sso/v1/workspaces/${t.workspaceId}`],
    rpcRequest: (t) => ({ id: t.workspaceId }),
  },
  {
    rpc: 'updateWorkspace',
    exact: 'update:workspaces',
    lower: 'create:workspaces',
    plain: 'deny',
    rest: (t) => ['PATCH', `/api/sso/v1/workspaces/${t.workspaceId}`, { description: 'changed' }],
    rpcRequest: (t) => ({ id: t.workspaceId, description: 'changed' }),
  },
  {
    rpc: 'deleteWorkspace',
    exact: 'delete:workspaces',
    lower: 'update:workspaces',
    plain: 'deny',
    rest: (t) => ['DELETE', `/api/sso/v1/workspaces/${t.workspaceId}`],
    rpcRequest: (t) => ({ id: t.workspaceId }),
  },
  {
    rpc: 'addWorkspaceMember',
    exact: 'update:workspaces',
    lower: 'create:workspaces',
    plain: 'deny',
    rest: (t) => ['POST', `/api/sso/v1/workspaces/${t.workspaceId}/members`, { user_id: t.userId }],
    rpcRequest: (t) => ({ workspaceId: t.workspaceId, userId: t.userId }),
  },
  {
    rpc: 'listWorkspaceMembers',
    exact: 'read:workspaces',
    lower: 'write:workspaces',
    plain: 'deny',
    rest: (t) => ['GET', `/api/sso/v1/workspaces/${t.workspaceId}/members`],
    rpcRequest: (t) => ({ workspaceId: t.workspaceId }),
  },
  {
    rpc: 'updateWorkspaceMember',
    exact: 'update:workspaces',
    lower: 'create:workspaces',
    plain: 'deny',
    rest: (t) => ['PATCH', `/api/sso/v1/workspaces/${t.workspaceId}/members/${t.memberId}`, { roles: [] }],
    rpcRequest: (t) => ({ workspaceId: t.workspaceId, userId: t.memberId, roles: [] }),
  },
  {
    rpc: 'removeWorkspaceMember',
    exact: 'update:workspaces',
    lower: 'create:workspaces',
    plain: 'deny',
    rest: (t) => ['DELETE', `/api/sso/v1/workspaces/${t.workspaceId}/members/${t.memberId}`],
    rpcRequest: (t) => ({ workspaceId: t.workspaceId, userId: t.memberId }),
  },
  {
    rpc: 'createRole',
    exact: 'create:roles',
    lower: 'read:roles',
    plain: 'deny',
    rest: (t) => ['POST', '/api/sso/v1/roles', { name: 'R', slug: `made-role-${t.n}`, scopes: [] }],
    rpcRequest: (t) => ({ name: 'R', slug: `made-role-${t.n}` }),
  },
  {
    rpc: 'listRoles',
    exact: 'read:roles',
    lower: 'write:roles',
    plain: 'deny',
    rest: () => ['GET', '/api/sso/v1/roles'],
    rpcRequest: () => ({}),
  },
  {
    rpc: 'getRole',
    exact: 'read:roles',
    lower: 'write:roles',
    plain: 'deny',
    rest: (t) => ['GET', `/api/sso/v1/roles/${t.roleId}`],
    rpcRequest: (t) => ({ id: t.roleId }),
  },
  {
    rpc: 'updateRole',
    exact: 'update:roles',
    lower: 'create:roles',
    plain: 'deny',
    rest: (t) => ['PATCH', `/api/sso/v1/roles/${t.roleId}`, { description: 'changed' }],
    rpcRequest: (t) => ({ id: t.roleId, description: 'changed' }),
  },
  {
    rpc: 'deleteRole',
    exact: 'delete:roles',
    lower: 'update:roles',
    plain: 'deny',
    rest: (t) => ['DELETE', `/api/sso/v1/roles/${t.roleId}`],
    rpcRequest: (t) => ({ id: t.roleId }),
  },
];

function expected(row: Row, caller: Caller): Expect | 'unauthenticated' {
  switch (caller) {
    case 'anonymous':
      return 'unauthenticated';
    case 'plain':
      return row.plain;
    case 'exact':
      return row.exactAllowed === false ? 'deny' : 'allow';
    case 'lower':
      return row.lowerAllowed ? 'allow' : 'deny';
    case 'admin':
      return 'allow';
  }
}

describe('Directory authorization: every RPC x every kind of caller', () => {
  let server: TestServer;
  let admin: string;
  let counter = 0;
  const tokens = new Map<string, string>();

  const rest = async (method: string, path: string, token?: string, json?: unknown) => {
    const res = await server.rest(path, { method, token, json });
    return { status: res.status, body: await res.json() };
  };

  /** A user holding exactly these direct scopes, signed in. */
  const holder = async (scopes: string[]): Promise<string> => {
    const key = scopes.join(' ');
    const known = tokens.get(key);
    if (known) return known;
    const identifier = `holder${++counter}@example.com`;
    const made = await rest('POST', '/api/sso/v1/users', admin, { identifier, password: 'HolderPassword1', scopes });
    assert.equal(made.status, 200);
    const session = await rest('POST', '/api/sso/v1/auth/login', undefined, { identifier, secret: 'HolderPassword1' });
    assert.deepEqual(session.body.user.scopes, [...scopes].sort());
    tokens.set(key, session.body.access_token);
    return session.body.access_token;
  };

  const targets = async (): Promise<Targets> => {
    const n = ++counter;
    const user = (await rest('POST', '/api/sso/v1/users', admin, { identifier: `target${n}@example.com` })).body;
    const member = (await rest('POST', '/api/sso/v1/users', admin, { identifier: `member${n}@example.com` })).body;
    const ws = (await rest('POST', '/api/sso/v1/workspaces', admin, { name: 'T', slug: `target-ws-${n}` })).body;
    assert.equal((await rest('POST', `/api/sso/v1/workspaces/${ws.id}/members`, admin, { user_id: member.id })).status, 200);
    const role = (await rest('POST', '/api/sso/v1/roles', admin, { name: 'T', slug: `target-role-${n}` })).body;
    return { userId: user.id, legacyId: user.legacy_id, workspaceId: ws.id, memberId: member.id, roleId: role.id, n };
  };

  const tokenOf = async (row: Row, caller: Caller): Promise<string | undefined> => {
    switch (caller) {
      case 'anonymous':
        return undefined;
      case 'plain':
        return holder([]);
      case 'exact':
        return holder([row.exact]);
      case 'lower':
        return holder([row.lower]);
      case 'admin':
        return admin;
    }
  };

  before(async () => {
    server = await startTestServer();
    const res = await rest('POST', '/api/sso/v1/auth/login', undefined, {
      identifier: 'admin@example.com',
      secret: 'AdminPassword123!',
      register: true,
    });
    admin = res.body.access_token;
  });
  after(async () => {
    await server?.stop();
  });

  test('the table covers every DirectoryService RPC', () => {
    assert.deepEqual(rows.map((r) => r.rpc).sort(), DirectoryService.methods.map((m) => m.localName).sort());
  });

  for (const row of rows) {
    test(`${row.rpc} over REST`, async () => {
      for (const caller of CALLERS) {
        const t = await targets();
        const [method, path, json] = row.rest(t);
        const res = await rest(method, path, await tokenOf(row, caller), json);
        const want = expected(row, caller);
        const what = `${caller} ${method} ${path} -> ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
        if (want === 'allow') assert.equal(res.status, 200, what);
        else if (want === 'unauthenticated') assert.deepEqual([res.status, res.body.error_code], [401, 'UNAUTHENTICATED'], what);
        else {
          assert.equal(res.status, 403, what);
          assert.ok(['PERMISSION_DENIED', 'ADMIN_REQUIRED'].includes(res.body.error_code), what);
        }
      }
    });

    test(`${row.rpc} over gRPC`, async () => {
      for (const caller of CALLERS) {
        const t = await targets();
        const client = server.client(DirectoryService, { protocol: 'grpc', token: await tokenOf(row, caller) }) as any;
        const want = expected(row, caller);
        const what = `${caller} ${row.rpc}`;
        try {
          await client[row.rpc](row.rpcRequest(t));
          assert.equal(want, 'allow', `${what} was allowed`);
        } catch (e) {
          if (!(e instanceof ConnectError)) throw e;
          assert.notEqual(want, 'allow', `${what}: ${e.message}`);
          assert.equal(e.code, want === 'unauthenticated' ? Code.Unauthenticated : Code.PermissionDenied, `${what}: ${e.message}`);
          assert.equal(e.findDetails(ErrorInfoSchema).length, 1);
        }
      }
    });
  }

  test('ListWorkspaces gives holders of read:workspaces every workspace, others only their own', async () => {
    const all = (await rest('GET', '/api/sso/v1/workspaces?limit=1', await holder(['read:workspaces']))).body;
    const mine = (await rest('GET', '/api/sso/v1/workspaces', await holder(['write:workspaces']))).body;
    assert.ok(all.total > 10);
    assert.deepEqual([mine.total, mine.items], [0, []]);
  });

  test('permission before existence: without the permission, a missing or malformed target is 403 too', async () => {
    const plain = await holder([]);
    const t = await targets();
    const missing: Targets = { ...t, userId: NO_SUCH, legacyId: 99_999, workspaceId: NO_SUCH, memberId: NO_SUCH, roleId: NO_SUCH };
    // The legacy id is an int32 path variable: text there cannot even be read into the request (400
    // from the REST layer, before any rule, telling nothing about users), so its malformed case is
    // a number no user can have.
    const malformed: Targets = { ...t, userId: 'bad-id', legacyId: -1, workspaceId: 'bad id', memberId: 'bad-id', roleId: 'bad!id' };
    for (const row of rows.filter((r) => r.plain === 'deny')) {
      for (const target of [missing, malformed]) {
        const [method, path, json] = row.rest(target);
        const res = await rest(method, path, plain, json);
        assert.equal(res.status, 403, `${method} ${path} -> ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    // With the permission, the same requests tell missing (404) from malformed (400).
    for (const row of rows.filter((r) => /^(get|update|delete)(User|Workspace|Role)$/.test(r.rpc))) {
      const [m1, p1, j1] = row.rest(missing);
      assert.equal((await rest(m1, p1, admin, j1)).status, 404, `${m1} ${p1}`);
      const [m2, p2, j2] = row.rest(malformed);
      assert.equal((await rest(m2, p2, admin, j2)).status, 400, `${m2} ${p2}`);
    }
  });
});
