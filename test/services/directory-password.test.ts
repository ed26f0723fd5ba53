import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.js';

describe('a password change ends the other sessions', () => {
  let server: TestServer;
  let adminToken: string;

  before(async () => {
    server = await startTestServer();
    const admin = await server.rest('/api/sso/v1/auth/login', {
      method: 'POST',
      json: { identifier: 'admin@example.com', secret: 'AdminPassword1!', register: true },
    });
    adminToken = (await admin.json()).access_token;
  });
  after(() => server.stop());

  async function login(identifier: string, secret: string, register = false) {
    const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier, secret, register } });
    assert.equal(res.status, 200);
    return res.json() as Promise<{ access_token: string; refresh_token: string; user: { id: string } }>;
  }
  const meStatus = async (token: string) => (await server.rest('/api/sso/v1/me', { token })).status;

  it('keeps the changing session and signs every other one out', async () => {
    const first = await login('carol@example.com', 'OldPassword1!', true);
    const second = await login('carol@example.com', 'OldPassword1!');
    const res = await server.rest(`/api/sso/v1/users/${first.user.id}`, {
      method: 'PATCH',
      token: first.access_token,
      json: { password: 'NewPassword2!', current_password: 'OldPassword1!' },
    });
    assert.equal(res.status, 200);
    assert.equal(await meStatus(first.access_token), 200);
    assert.equal(await meStatus(second.access_token), 401);
    const refresh = await server.rest('/api/sso/v1/auth/refresh', { method: 'POST', json: { refresh_token: second.refresh_token } });
    assert.equal(refresh.status, 401);
    assert.equal(
      (await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier: 'carol@example.com', secret: 'OldPassword1!' } }))
        .status,
      401,
    );
    await login('carol@example.com', 'NewPassword2!');
  });

  it('signs the user out everywhere when an administrator sets the password', async () => {
    const session = await login('dave@example.com', 'OldPassword1!', true);
    const res = await server.rest(`/api/sso/v1/users/${session.user.id}`, {
      method: 'PATCH',
      token: adminToken,
      json: { password: 'ResetPassword3!' },
    });
    assert.equal(res.status, 200);
    assert.equal(await meStatus(session.access_token), 401);
    assert.equal(await meStatus(adminToken), 200);
  });

  it('changes no session when the new password is refused', async () => {
    const session = await login('erin@example.com', 'OldPassword1!', true);
    const other = await login('erin@example.com', 'OldPassword1!');
    const res = await server.rest(`/api/sso/v1/users/${session.user.id}`, {
      method: 'PATCH',
      token: session.access_token,
      json: { password: 'short', current_password: 'OldPassword1!' },
    });
    assert.equal(res.status, 400);
    assert.equal(await meStatus(other.access_token), 200);
  });
});
