// The seed's First Steps 6 and 7 (a service account and its API key), sent exactly as printed
// (only the host differs), after step 1; then the key at work on every protocol: it lists users
// (it holds read:users) and is refused creating one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { DirectoryService } from '../../gen/sso/directory/v1/directory_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('USSO First Steps 6 and 7, as printed', () => {
  let server: TestServer;
  let data: any;
  let agent: any;
  let apiKey: any;

  before(async () => {
    server = await startTestServer();
    // 1. Create Your First User (the first user is the administrator).
    const response = await fetch(`${server.url}/api/sso/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ identifier: 'user@example.com', secret: 'SecurePassword123!', register: true }),
    });
    assert.equal(response.status, 200);
    data = await response.json();
  });
  after(async () => {
    await server?.stop();
  });

  test('6. Create a Service Account (curl)', async () => {
    const response = await fetch(`${server.url}/api/sso/v1/agents`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${data.access_token}`, 'Content-Type': 'application/json' },
      body: `{
    "name": "API Service",
    "scopes": ["read:users"]
  }`,
    });
    assert.equal(response.status, 200);
    agent = await response.json();
    // The snippet prints agent['id'].
    assert.match(agent.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(agent.name, 'API Service');
    assert.deepEqual(agent.scopes, ['read:users']);
    assert.equal(agent.is_active, true);
    assert.equal(agent.description, '');
    assert.equal(agent.created_by, data.user.id);
    assert.ok(!Number.isNaN(Date.parse(agent.created_at)));
  });

  test('7. Generate API Key (curl), reading `key`', async () => {
    const response = await fetch(`${server.url}/api/sso/v1/apikeys`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${data.access_token}`, 'Content-Type': 'application/json' },
      body: `{
    "agent_id": "${agent.id}",
    "name": "Production Key"
  }`,
    });
    assert.equal(response.status, 200);
    apiKey = await response.json();
    assert.equal(typeof apiKey.key, 'string');
    assert.equal(apiKey.api_key, apiKey.key);
    assert.match(apiKey.key, /^sso_agent_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    assert.ok(apiKey.key.startsWith(apiKey.prefix));
    assert.equal(apiKey.agent_id, agent.id);
    assert.equal(apiKey.user_id, '');
    assert.equal(apiKey.name, 'Production Key');
    // Without `scopes` the key takes its owner's.
    assert.deepEqual(apiKey.scopes, ['read:users']);
  });

  test('the Python snippets of 6 and 7 (json=..., then api_key["key"]) work the same', async () => {
    const headers = { Authorization: `Bearer ${data.access_token}`, 'Content-Type': 'application/json' };
    const a = (await (
      await fetch(`${server.url}/api/sso/v1/agents`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'API Service', scopes: ['read:users'] }),
      })
    ).json()) as any;
    const k = await fetch(`${server.url}/api/sso/v1/apikeys`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ agent_id: a.id, name: 'Production Key' }),
    });
    assert.equal(k.status, 200);
    assert.match(((await k.json()) as any).key, /^sso_agent_/);
  });

  describe('the key at work', () => {
    test('lists users over REST, with x-api-key and as a bearer value', async () => {
      const credentials: Record<string, string>[] = [{ 'x-api-key': apiKey.key }, { Authorization: `Bearer ${apiKey.key}` }];
      for (const headers of credentials) {
        const response = await fetch(`${server.url}/api/sso/v1/users`, { headers });
        assert.equal(response.status, 200, await response.clone().text());
        const body = (await response.json()) as any;
        assert.ok(Array.isArray(body.items));
        assert.ok(body.items.some((u: any) => u.id === data.user.id));
        assert.equal(typeof body.total, 'number');
      }
    });

    for (const protocol of ['connect', 'grpc', 'grpc-web'] as const) {
      test(`lists users over ${protocol}`, async () => {
        const users = server.client(DirectoryService, { protocol, apiKey: apiKey.key });
        const res = await users.listUsers({});
        assert.ok(res.items.some((u) => u.id === data.user.id));
      });
    }

    test('is refused (403) creating a user over REST', async () => {
      const response = await fetch(`${server.url}/api/sso/v1/users`, {
        method: 'POST',
        headers: { 'x-api-key': apiKey.key, 'Content-Type': 'application/json' },
        body: JSON.stringify({ identifier: 'new@example.com', password: 'NewPassword123!' }),
      });
      assert.equal(response.status, 403);
      const body = (await response.json()) as any;
      assert.equal(body.error_code, 'PERMISSION_DENIED');
    });

    for (const protocol of ['connect', 'grpc'] as const) {
      test(`is refused (permission_denied) creating a user over ${protocol}`, async () => {
        const users = server.client(DirectoryService, { protocol, apiKey: apiKey.key });
        await assert.rejects(users.createUser({ identifier: 'new@example.com', password: 'NewPassword123!' }), (e: unknown) => {
          assert.ok(e instanceof ConnectError);
          assert.equal(e.code, Code.PermissionDenied);
          assert.equal(e.findDetails(ErrorInfoSchema)[0]?.reason, 'PERMISSION_DENIED');
          return true;
        });
      });
    }

    test('nobody was created by the refused calls', async () => {
      const response = await fetch(`${server.url}/api/sso/v1/users?identifier=new@example.com`, { headers: { 'x-api-key': apiKey.key } });
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as any).total, 0);
    });

    test('a wrong key is 401 on every protocol, never a 500', async () => {
      const wrong = apiKey.key.slice(0, -4) + (apiKey.key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      const response = await fetch(`${server.url}/api/sso/v1/users`, { headers: { 'x-api-key': wrong } });
      assert.equal(response.status, 401);
      assert.equal(((await response.json()) as any).error_code, 'INVALID_API_KEY');
      for (const protocol of ['connect', 'grpc'] as const) {
        await assert.rejects(server.client(DirectoryService, { protocol, apiKey: wrong }).listUsers({}), (e: unknown) => {
          assert.ok(e instanceof ConnectError);
          assert.equal(e.code, Code.Unauthenticated);
          return true;
        });
      }
    });
  });
});
