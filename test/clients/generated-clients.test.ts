// The client entry point (`sso/client`, imported by the package's own name as another project
// would) drives the seed's whole First Steps flow over each Node transport; and the Node gRPC
// example runs with the one command the README gives.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Code, ConnectError } from '@connectrpc/connect';
import { createSsoClients, type SsoClients, type SsoTransportKind } from 'sso/client';
import { startTestServer, type TestServer } from '../support/server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function rejectsWithCode(promise: Promise<unknown>, code: Code) {
  await assert.rejects(promise, (err: unknown) => {
    const e = ConnectError.from(err);
    assert.equal(e.code, code, `${Code[e.code]}: ${e.rawMessage}`);
    return true;
  });
}

for (const transport of ['grpc', 'connect', 'grpc-web'] as SsoTransportKind[]) {
  describe(`generated clients over ${transport}: First Steps 1-7`, () => {
    let server: TestServer;
    let sso: SsoClients;
    // What the seed's snippets keep between steps.
    let userId = '';
    let refreshToken = '';
    let agentId = '';
    let apiKey = '';

    before(async () => {
      server = await startTestServer();
      sso = createSsoClients({ baseUrl: server.url, transport });
    });
    after(async () => {
      await server?.stop();
    });

    test('1. Create Your First User', async () => {
      const res = await sso.auth.login({ identifier: 'user@example.com', secret: 'SecurePassword123!', register: true });
      assert.match(res.user?.id ?? '', UUID);
      assert.equal(res.accessToken.split('.').length, 3);
      assert.equal(res.tokenType, 'Bearer');
      assert.equal(res.user?.isAdmin, true, 'the first user is the administrator');
      userId = res.user!.id;
      refreshToken = res.refreshToken;
      sso.setToken(res.accessToken);
    });

    test('2. Get User Information', async () => {
      const { user } = await sso.auth.getMe({});
      assert.equal(user?.id, userId);
      assert.equal(user?.identifiers[0]?.identifier, 'user@example.com');
    });

    test('3. Create a Workspace', async () => {
      const { workspace } = await sso.directory.createWorkspace({ name: 'My Team', slug: 'my-team' });
      assert.match(workspace?.id ?? '', UUID);
      assert.equal(workspace?.name, 'My Team');
      assert.equal(workspace?.slug, 'my-team');
      assert.equal(workspace?.ownerId, userId, 'the creator owns it');
    });

    test('4. Create a Role', async () => {
      const { role } = await sso.directory.createRole({ name: 'Editor', slug: 'editor', scopes: ['read:posts', 'write:posts'] });
      assert.equal(role?.slug, 'editor');
      assert.equal(role?.name, 'Editor');
      assert.deepEqual(role?.scopes, ['read:posts', 'write:posts']);
    });

    test('5. Assign Role to User (and the next token carries it)', async () => {
      const { user } = await sso.directory.updateUser({ id: userId, roles: ['editor'] });
      assert.deepEqual(user?.roles, ['editor']);
      assert.equal(user?.isAdmin, true, 'roles never remove is_admin');

      const refreshed = await sso.auth.refresh({ refreshToken });
      refreshToken = refreshed.refreshToken;
      sso.setToken(refreshed.accessToken);
      const { claims } = await sso.auth.verifyToken({ token: refreshed.accessToken });
      assert.deepEqual(claims?.roles, ['editor']);
      assert.equal(claims?.sub, userId);
    });

    test('6. Create a Service Account', async () => {
      const { agent } = await sso.agents.createAgent({ name: 'API Service', scopes: ['read:users'] });
      assert.match(agent?.id ?? '', UUID);
      assert.equal(agent?.name, 'API Service');
      assert.deepEqual(agent?.scopes, ['read:users']);
      agentId = agent!.id;
    });

    test('7. Generate API Key', async () => {
      assert.ok(agentId, 'step 6 created the agent');
      const res = await sso.apiKeys.createApiKey({ agentId, name: 'Production Key' });
      assert.ok(res.key.length >= 20);
      assert.equal(res.apiKey, res.key);
      assert.equal(res.agentId, agentId);
      assert.equal(res.name, 'Production Key');
      apiKey = res.key;
    });

    test("the agent's key, on clients built with `apiKey`, holds the agent's scopes", async () => {
      assert.ok(apiKey, 'step 7 created the key');
      const machine = createSsoClients({ baseUrl: server.url, transport, apiKey });
      const users = await machine.directory.listUsers({});
      assert.ok(users.items.some((u) => u.id === userId));
      await rejectsWithCode(machine.apps.listApps({}), Code.PermissionDenied);
      const verified = await machine.apiKeys.verifyApiKey({ apiKey });
      assert.equal(verified.claims?.sub, agentId);
      assert.deepEqual(verified.claims?.scopes, ['read:users']);
    });

    test('Common Tasks: list sessions, then log out (the token stops working at once)', async () => {
      const sessions = await sso.auth.listSessions({});
      assert.equal(sessions.total, 1);
      assert.equal(sessions.items[0]?.current, true);
      const users = await sso.directory.listUsers({});
      assert.ok(users.items.some((u) => u.id === userId));

      assert.equal((await sso.auth.logout({})).success, true);
      await rejectsWithCode(sso.auth.getMe({}), Code.Unauthenticated);
      sso.setToken(undefined);
      await rejectsWithCode(sso.auth.getMe({}), Code.Unauthenticated);
    });
  });
}

describe('createSsoClients options', () => {
  test('a base URL must be http(s); a trailing slash is fine', () => {
    assert.throws(() => createSsoClients({ baseUrl: 'ftp://localhost:8000', transport: 'connect' }), /http/);
    assert.throws(() => createSsoClients({ baseUrl: 'not a url', transport: 'connect' }));
    assert.throws(
      () => createSsoClients({ baseUrl: 'http://localhost:8000', transport: 'smoke-signals' as SsoTransportKind }),
      /unknown transport/,
    );
    assert.ok(createSsoClients({ baseUrl: 'http://localhost:8000/', transport: 'grpc' }).auth);
  });
});

describe('examples/node-grpc (npx tsx examples/node-grpc/main.ts)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('logs in over gRPC, says who it is and lists its sessions', async () => {
    const run = () =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/node-grpc/main.ts'], {
        cwd: root,
        env: { ...process.env, SSO_URL: server.url, SSO_IDENTIFIER: 'backend@example.com', SSO_SECRET: 'BackendPassword123!' },
        timeout: 60_000,
      });
    const first = await run();
    assert.match(first.stdout, /^Logged in as: backend@example\.com \(id [0-9a-f-]{36}, admin: true\)$/m);
    assert.match(first.stdout, /^Sessions: 1$/m);
    // Again: the user exists now, so this is a plain login and a second session.
    const second = await run();
    assert.match(second.stdout, /^Sessions: 2$/m);
    assert.match(second.stdout, /\(this one\)/);
  });

  test('a wrong password: a clear message and a failing exit code', async () => {
    await assert.rejects(
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/node-grpc/main.ts'], {
        cwd: root,
        env: { ...process.env, SSO_URL: server.url, SSO_IDENTIFIER: 'backend@example.com', SSO_SECRET: 'WrongPassword123!' },
        timeout: 60_000,
      }),
      (err: { code?: number; stderr?: string }) => {
        assert.equal(err.code, 1);
        assert.match(err.stderr ?? '', /SSO call failed: Unauthenticated: /);
        return true;
      },
    );
  });
});
