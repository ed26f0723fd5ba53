// The seed's "First Steps" (steps 1 and 2) and its "Common Tasks" for the Auth service, sent
// exactly as printed (only the host differs), against a fresh server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

describe('USSO First Steps, as printed', () => {
  let server: TestServer;
  // What the seed's snippets keep between steps.
  let data: any;
  let firstLoginStatus = 0;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('1. Create Your First User (fetch snippet)', async () => {
    const response = await fetch(`${server.url}/api/sso/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        identifier: 'user@example.com',
        secret: 'SecurePassword123!',
        register: true,
      }),
    });
    firstLoginStatus = response.status;
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    data = await response.json();
    // The snippet prints these two.
    assert.equal(typeof data.user.id, 'string');
    assert.match(data.user.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(typeof data.access_token, 'string');
    assert.equal(data.access_token.split('.').length, 3);
  });

  test('the login answer is the superset every USSO client reads', () => {
    assert.equal(firstLoginStatus, 200);
    assert.equal(typeof data.access_token, 'string');
    assert.equal(typeof data.refresh_token, 'string');
    assert.notEqual(data.refresh_token, data.access_token);
    assert.equal(data.refresh_token.split('.').length, 3);
    assert.equal(data.token_type, 'Bearer');
    assert.equal(typeof data.expires_in, 'number');
    assert.equal(data.expires_in, 900);
    assert.equal(typeof data.session_id, 'string');
    assert.match(data.session_id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(data.tokens, { access: data.access_token, refresh: data.refresh_token });

    const user = data.user;
    assert.equal(user.is_admin, true, 'the first user is the administrator');
    assert.equal(user.is_active, true);
    assert.deepEqual(user.roles, []);
    assert.ok(Array.isArray(user.scopes));
    assert.ok(Array.isArray(user.workspace_ids));
    assert.equal(typeof user.created_at, 'string');
    assert.match(user.created_at, RFC3339);
    assert.ok(!Number.isNaN(Date.parse(user.created_at)));
    assert.match(user.updated_at, RFC3339);
    assert.equal(user.identifiers.length, 1);
    assert.equal(user.identifiers[0].identifier, 'user@example.com');
    assert.equal(user.identifiers[0].type, 'email');
    assert.equal(user.identifiers[0].verified, false);
    // snake_case only: no lowerCamelCase twins.
    for (const key of ['isAdmin', 'isActive', 'createdAt', 'workspaceIds']) assert.ok(!(key in user), key);
    for (const key of ['accessToken', 'refreshToken', 'tokenType', 'expiresIn', 'sessionId']) assert.ok(!(key in data), key);
  });

  test('2. Get User Information (fetch snippet)', async () => {
    const response = await fetch(`${server.url}/api/sso/v1/me`, {
      headers: {
        Authorization: `Bearer ${data.access_token}`,
      },
    });
    assert.equal(response.status, 200);
    const user = await response.json();
    assert.equal(user.identifiers[0].identifier, 'user@example.com');
    assert.equal(user.id, data.user.id);
    assert.equal(user.is_admin, true);
    assert.equal(user.is_active, true);
    assert.deepEqual(user.roles, []);
    assert.match(user.created_at, RFC3339);
  });

  test('2. Get User Information (curl: GET with -H Authorization)', async () => {
    const response = await fetch(`${server.url}/api/sso/v1/me`, {
      method: 'GET',
      headers: { Authorization: `Bearer ${data.access_token}` },
    });
    assert.equal(response.status, 200);
    const user = await response.json();
    assert.equal(user.identifiers[0].identifier, 'user@example.com');
  });

  test('the /api/sso/v1/auth/me alias answers the same user', async () => {
    const [a, b] = await Promise.all([
      server.rest('/api/sso/v1/me', { token: data.access_token }),
      server.rest('/api/sso/v1/auth/me', { token: data.access_token }),
    ]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.deepEqual(await b.json(), await a.json());
  });

  test('/me without a token is 401', async () => {
    const response = await fetch(`${server.url}/api/sso/v1/me`);
    assert.equal(response.status, 401);
    const body = await response.json();
    assert.equal(body.code, 'unauthenticated');
    assert.equal(body.error_code, 'UNAUTHENTICATED');
    assert.equal(body.detail, body.message);
  });

  describe('Common Tasks, as printed', () => {
    let session: any;

    before(async () => {
      // A session of its own, so logging out does not end the one the other steps use.
      const response = await fetch(`${server.url}/api/sso/v1/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ identifier: 'user@example.com', secret: 'SecurePassword123!' }),
      });
      assert.equal(response.status, 200);
      session = await response.json();
      assert.equal(session.user.id, data.user.id);
      assert.notEqual(session.session_id, data.session_id);
    });

    test('List Sessions: GET /api/sso/v1/sessions with the bearer', async () => {
      const response = await fetch(`${server.url}/api/sso/v1/sessions`, {
        method: 'GET',
        headers: { Authorization: `Bearer ${session.access_token}` },
      });
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(body.offset, 0);
      assert.equal(body.limit, 10);
      assert.equal(typeof body.total, 'number');
      assert.ok(body.total >= 2);
      assert.equal(body.items.length, body.total);
      const ids = body.items.map((s: any) => s.id);
      assert.ok(ids.includes(session.session_id));
      assert.ok(ids.includes(data.session_id));
      const current = body.items.filter((s: any) => s.current === true);
      assert.equal(current.length, 1);
      assert.equal(current[0].id, session.session_id);
      for (const s of body.items) {
        assert.equal(s.user_id, data.user.id);
        assert.match(s.created_at, RFC3339);
        assert.match(s.expires_at, RFC3339);
        assert.equal(typeof s.current, 'boolean');
        assert.equal(s.audience, 'sso');
      }
    });

    test('Refresh Token: POST /api/sso/v1/auth/refresh with -H Content-Type and the JSON body', async () => {
      const response = await fetch(`${server.url}/api/sso/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: `{"refresh_token": "${session.refresh_token}"}`,
      });
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.expires_in, 900);
      assert.equal(body.session_id, session.session_id);
      assert.equal(typeof body.access_token, 'string');
      assert.equal(typeof body.refresh_token, 'string');
      assert.notEqual(body.refresh_token, session.refresh_token);
      assert.deepEqual(body.tokens, { access: body.access_token, refresh: body.refresh_token });
      assert.equal(body.user.id, data.user.id);
      assert.equal(body.user.is_admin, true);
      const me = await server.rest('/api/sso/v1/me', { token: body.access_token });
      assert.equal(me.status, 200);
      session = body;
    });

    test('Logout User: POST /api/sso/v1/auth/logout with only the bearer (no body)', async () => {
      const response = await fetch(`${server.url}/api/sso/v1/auth/logout`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${session.access_token}` },
      });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { success: true });
      // The session has ended for everything the server checks ...
      const me = await server.rest('/api/sso/v1/me', { token: session.access_token });
      assert.equal(me.status, 401);
      assert.equal((await me.json()).error_code, 'SESSION_REVOKED');
      const refresh = await server.rest('/api/sso/v1/auth/refresh', { method: 'POST', json: { refresh_token: session.refresh_token } });
      assert.equal(refresh.status, 401);
      // ... and only that session: the first one still works.
      const first = await server.rest('/api/sso/v1/me', { token: data.access_token });
      assert.equal(first.status, 200);
    });
  });
});
