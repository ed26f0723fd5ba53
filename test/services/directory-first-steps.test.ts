// The seed's "First Steps", steps 1 to 5, sent exactly as its fetch snippets print them (only the
// host differs), against a fresh server; then the next tokens carry the role.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function claimsOf(jwt: string): any {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
}

describe('USSO First Steps 1-5, as printed', () => {
  let server: TestServer;
  let base: string;
  // What the seed's snippets keep between steps.
  let data: any;
  let user: any;
  let workspace: any;
  let role: any;
  let headers: Record<string, string>;

  before(async () => {
    server = await startTestServer();
    base = server.url;
  });
  after(async () => {
    await server?.stop();
  });

  test('1. Create Your First User', async () => {
    const response = await fetch(`${base}/api/sso/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        identifier: 'user@example.com',
        secret: 'SecurePassword123!',
        register: true,
      }),
    });
    assert.equal(response.status, 200);
    data = await response.json();
    assert.match(data.user.id, UUID);
    assert.equal(typeof data.access_token, 'string');
    headers = { Authorization: `Bearer ${data.access_token}` };
  });

  test('2. Get User Information', async () => {
    const response = await fetch(`${base}/api/sso/v1/me`, {
      headers: {
        Authorization: `Bearer ${data.access_token}`,
      },
    });
    assert.equal(response.status, 200);
    user = await response.json();
    assert.equal(user.identifiers[0].identifier, 'user@example.com');
    assert.equal(user.identifiers[0].primary, true);
    assert.equal(user.id, data.user.id);
    assert.equal(user.is_admin, true);
  });

  test('3. Create a Workspace', async () => {
    const response = await fetch(`${base}/api/sso/v1/workspaces`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: 'My Team',
        slug: 'my-team',
      }),
    });
    assert.equal(response.status, 200);
    workspace = await response.json();
    assert.match(workspace.id, UUID);
    assert.equal(workspace.name, 'My Team');
    assert.equal(workspace.slug, 'my-team');
    assert.equal(workspace.description, '');
    assert.equal(workspace.owner_id, user.id, 'the creator owns it');
  });

  test('4. Create a Role', async () => {
    const response = await fetch(`${base}/api/sso/v1/roles`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: 'Editor',
        slug: 'editor',
        scopes: ['read:posts', 'write:posts'],
      }),
    });
    assert.equal(response.status, 200);
    role = await response.json();
    assert.equal(role.slug, 'editor');
    assert.equal(role.name, 'Editor');
    assert.deepEqual(role.scopes, ['read:posts', 'write:posts']);
    assert.equal(role.workspace_id, '', 'a global role');
    assert.match(role.id, UUID);
  });

  test('5. Assign Role to User', async () => {
    const response = await fetch(`${base}/api/sso/v1/users/${user['id']}`, {
      method: 'PATCH',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ roles: ['editor'] }),
    });
    assert.equal(response.status, 200);
    const patched = await response.json();
    assert.deepEqual(patched.roles, ['editor']);
    assert.deepEqual(patched.scopes, ['read:posts', 'write:posts']);
    assert.equal(patched.is_admin, true, 'roles never remove is_admin');
    assert.equal(patched.is_active, true, 'only the roles changed');
    assert.deepEqual(patched.workspace_ids, [workspace.id]);
  });

  test('the next token (login or refresh) carries roles ["editor"] and the role\'s scopes', async () => {
    const login = await (
      await fetch(`${base}/api/sso/v1/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ identifier: 'user@example.com', secret: 'SecurePassword123!' }),
      })
    ).json();
    const claims = claimsOf(login.access_token);
    assert.deepEqual(claims.roles, ['editor']);
    assert.deepEqual(claims.scopes, ['read:posts', 'write:posts']);
    assert.deepEqual(login.user.roles, ['editor']);

    const refreshed = await (
      await fetch(`${base}/api/sso/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: data.refresh_token }),
      })
    ).json();
    const refreshedClaims = claimsOf(refreshed.access_token);
    assert.deepEqual(refreshedClaims.roles, ['editor']);
    assert.deepEqual(refreshedClaims.scopes, ['read:posts', 'write:posts']);

    // The token from before the change still says what it said when issued.
    assert.deepEqual(claimsOf(data.access_token).roles, []);
    const me = await (await fetch(`${base}/api/sso/v1/me`, { headers: { Authorization: `Bearer ${login.access_token}` } })).json();
    assert.deepEqual(me.roles, ['editor']);
    assert.equal(me.is_admin, true);
  });

  test('Common Tasks: List Users', async () => {
    const response = await fetch(`${base}/api/sso/v1/users`, { method: 'GET', headers });
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.deepEqual(Object.keys(body).sort(), ['items', 'limit', 'offset', 'total']);
    assert.equal(body.total, 1);
    assert.equal(body.offset, 0);
    assert.equal(body.limit, 10);
    assert.equal(body.items[0].id, user.id);
    assert.deepEqual(body.items[0].roles, ['editor']);
  });
});
