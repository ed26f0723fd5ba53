// Issue 9, findings 1 to 7, each reproduced as the attacker sent it and shown refused, over REST and
// over an RPC protocol, with nothing changed: privilege escalation through another's password, key
// or API key; tokens of another audience; cross-site cookie calls; a stolen token changing the
// password; and a legacy password reset leaving old sessions alive.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { SignJWT } from 'jose';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { AgentService } from '../../gen/sso/agent/v1/agent_service_pb.js';
import { ApiKeyService } from '../../gen/sso/apikey/v1/api_key_service_pb.js';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { DirectoryService } from '../../gen/sso/directory/v1/directory_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let admin: { id: string; token: string };
const password = 'Password123!x';

async function json(res: Response): Promise<any> {
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

async function login(identifier: string, opts: { register?: boolean; audience?: string; secret?: string } = {}) {
  const res = await server.rest('/api/sso/v1/auth/login', {
    method: 'POST',
    json: {
      identifier,
      secret: opts.secret ?? password,
      register: opts.register ?? false,
      ...(opts.audience ? { audience: opts.audience } : {}),
    },
  });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as any;
  return { id: body.user.id as string, token: body.access_token as string, refresh: body.refresh_token as string };
}

/** A user holding exactly these direct scopes (set by the administrator), signed in afresh. */
async function userWith(identifier: string, scopes: string[]) {
  const res = await server.rest('/api/sso/v1/users', { method: 'POST', token: admin.token, json: { identifier, password, scopes } });
  assert.equal(res.status, 200, await res.clone().text());
  return login(identifier);
}

function reasonOf(e: unknown): string | undefined {
  return e instanceof ConnectError ? e.findDetails(ErrorInfoSchema)[0]?.reason : undefined;
}

async function rpcRefused(call: Promise<unknown>, code: Code, reason: string): Promise<void> {
  await assert.rejects(call, (e: unknown) => {
    assert.ok(e instanceof ConnectError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(reasonOf(e), reason);
    return true;
  });
}

async function loginStatus(identifier: string, secret: string): Promise<number> {
  return (await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier, secret } })).status;
}

before(async () => {
  server = await startTestServer({ allowedAudiences: ['other-app'] });
  admin = await login('admin@example.com', { register: true });
});
after(async () => {
  await server?.stop();
});

describe('1. update:users cannot take over or deactivate an administrator', () => {
  test("REST: PATCH of the administrator's password and active flag is refused; the administrator is unchanged", async () => {
    const mallory = await userWith('mallory1@example.com', ['update:users']);
    for (const body of [{ password: 'Hijacked123!' }, { is_active: false }]) {
      const res = await server.rest(`/api/sso/v1/users/${admin.id}`, { method: 'PATCH', token: mallory.token, json: body });
      assert.equal(res.status, 403, JSON.stringify(body));
      assert.equal((await json(res)).error_code, 'ADMIN_REQUIRED');
    }
    assert.equal(await loginStatus('admin@example.com', 'Hijacked123!'), 401);
    assert.equal(await loginStatus('admin@example.com', password), 200);
    assert.equal((await server.rest('/api/sso/v1/me', { token: admin.token })).status, 200);
  });

  test('Connect: neither the password nor deletion, nor a stronger peer', async () => {
    const mallory = await userWith('mallory2@example.com', ['update:users', 'delete:users']);
    const stronger = await userWith('stronger@example.com', ['update:users', 'delete:users', 'read:audit']);
    const directory = server.client(DirectoryService, { token: mallory.token });
    await rpcRefused(
      directory.updateUser({ id: admin.id, password: 'Hijacked123!', updateMask: { paths: ['password'] } }),
      Code.PermissionDenied,
      'ADMIN_REQUIRED',
    );
    await rpcRefused(directory.deleteUser({ id: admin.id }), Code.PermissionDenied, 'ADMIN_REQUIRED');
    await rpcRefused(
      directory.updateUser({ id: stronger.id, password: 'Hijacked123!', updateMask: { paths: ['password'] } }),
      Code.PermissionDenied,
      'TARGET_EXCEEDS_CALLER',
    );
    await rpcRefused(directory.deleteUser({ id: stronger.id }), Code.PermissionDenied, 'TARGET_EXCEEDS_CALLER');
    assert.equal(await loginStatus('stronger@example.com', password), 200);
    // A peer within the caller's grants can still be managed: the rule is not a blanket refusal.
    const peer = await userWith('peer1@example.com', []);
    const done = await directory.updateUser({ id: peer.id, isActive: false, updateMask: { paths: ['is_active'] } });
    assert.equal(done.user?.isActive, false);
  });

  test("revoking an administrator's session needs an administrator", async () => {
    const revoker = await userWith('revoker@example.com', ['delete:sessions', 'read:sessions']);
    const auth = server.client(AuthService, { token: revoker.token, protocol: 'grpc' });
    const sessions = await server.client(AuthService, { token: admin.token }).listSessions({});
    await rpcRefused(auth.deleteSession({ id: sessions.items[0]!.id }), Code.PermissionDenied, 'ADMIN_REQUIRED');
    assert.equal((await server.rest('/api/sso/v1/me', { token: admin.token })).status, 200);
  });
});

describe('2. update:agents cannot re-key an agent that holds more', () => {
  let starAgent: any;
  let pub: JsonWebKey;
  let privateKey: KeyObject;

  before(async () => {
    const res = await server.rest('/api/sso/v1/agents', { method: 'POST', token: admin.token, json: { name: 'root bot', scopes: ['*'] } });
    starAgent = await json(res);
    const pair = generateKeyPairSync('ed25519');
    pub = pair.publicKey.export({ format: 'jwk' });
    privateKey = pair.privateKey;
  });

  test('REST: POST /agents/{id}/keys is refused, and agents/auth with that key gets nothing', async () => {
    const mallory = await userWith('mallory3@example.com', ['update:agents']);
    const res = await server.rest(`/api/sso/v1/agents/${starAgent.id}/keys`, {
      method: 'POST',
      token: mallory.token,
      json: { jwk: pub, name: 'mine' },
    });
    assert.equal(res.status, 403);
    assert.equal((await json(res)).error_code, 'TARGET_EXCEEDS_CALLER');
    const keys = await json(await server.rest(`/api/sso/v1/agents/${starAgent.id}/keys`, { token: admin.token }));
    assert.equal(keys.items.length, 0);
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ iss: starAgent.id, aud: 'sso', iat: now, nbf: now, exp: now + 60, jti: randomUUID() })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: 'any' })
      .sign(privateKey);
    assert.equal((await server.rest('/api/sso/v1/agents/auth', { method: 'POST', token: assertion, json: {} })).status, 401);
  });

  test('Connect: neither a key, nor a change of its scopes, nor deletion', async () => {
    const mallory = await userWith('mallory4@example.com', ['update:agents', 'delete:agents']);
    const agents = server.client(AgentService, { token: mallory.token });
    await rpcRefused(
      agents.createAgentKey({ agentId: starAgent.id, jwk: pub as any, name: 'mine' }),
      Code.PermissionDenied,
      'TARGET_EXCEEDS_CALLER',
    );
    await rpcRefused(
      agents.updateAgent({ id: starAgent.id, isActive: false, updateMask: { paths: ['is_active'] } }),
      Code.PermissionDenied,
      'TARGET_EXCEEDS_CALLER',
    );
    await rpcRefused(agents.deleteAgent({ id: starAgent.id }), Code.PermissionDenied, 'TARGET_EXCEEDS_CALLER');
    const after = await json(await server.rest(`/api/sso/v1/agents/${starAgent.id}`, { token: admin.token }));
    assert.equal(after.is_active, true);
  });
});

describe('3. an API key cannot outlive or outrank the key that made it', () => {
  test('REST: a never-expiring child of an expiring key is refused; revoking a parent ends its children', async () => {
    const owner = await userWith('keyowner@example.com', ['read:users', 'create:apikeys']);
    const parent = await json(
      await server.rest('/api/sso/v1/apikeys', {
        method: 'POST',
        token: owner.token,
        json: { name: 'parent', expires_in_days: 1, scopes: ['read:users'] },
      }),
    );
    const forever = await server.rest('/api/sso/v1/apikeys', {
      method: 'POST',
      headers: { 'x-api-key': parent.key },
      json: { name: 'forever', expires_in_days: 0, scopes: ['read:users'] },
    });
    assert.equal(forever.status, 400);
    assert.equal((await json(forever)).error_code, 'KEY_OUTLIVES_PARENT');
    const tenYears = await server.rest('/api/sso/v1/apikeys', {
      method: 'POST',
      headers: { 'x-api-key': parent.key },
      json: { name: 'long', expires_in_days: 3650, scopes: ['read:users'] },
    });
    assert.equal(tenYears.status, 400);
    const wider = await server.rest('/api/sso/v1/apikeys', {
      method: 'POST',
      headers: { 'x-api-key': parent.key },
      json: { name: 'wider', expires_in_days: 1, scopes: ['create:apikeys'] },
    });
    assert.equal(wider.status, 403);

    const child = await json(
      await server.rest('/api/sso/v1/apikeys', {
        method: 'POST',
        headers: { 'x-api-key': parent.key },
        json: { name: 'child', expires_in_days: 1, scopes: ['read:users'] },
      }),
    );
    assert.ok(new Date(child.expires_at) <= new Date(parent.expires_at));
    const grandchild = await json(
      await server.rest('/api/sso/v1/apikeys', {
        method: 'POST',
        headers: { 'x-api-key': child.key },
        json: { name: 'grandchild', expires_in_days: 1, scopes: ['read:users'] },
      }),
    );
    for (const k of [child, grandchild])
      assert.equal((await server.rest('/api/sso/v1/users', { headers: { 'x-api-key': k.key } })).status, 200);
    assert.equal((await server.rest(`/api/sso/v1/apikeys/${parent.id}`, { method: 'DELETE', token: owner.token })).status, 200);
    for (const k of [parent, child, grandchild]) {
      assert.equal((await server.rest('/api/sso/v1/users', { headers: { 'x-api-key': k.key } })).status, 401);
      assert.equal((await server.rest('/api/sso/v1/apikeys/verify', { method: 'POST', json: { api_key: k.key } })).status, 401);
    }
  });

  test('Connect: the same refusals through the generated client, and revoking only a child leaves the parent', async () => {
    const owner = await userWith('keyowner2@example.com', ['read:users']);
    const byToken = server.client(ApiKeyService, { token: owner.token });
    const parent = await byToken.createApiKey({ name: 'parent', expiresInDays: 2 });
    const byKey = server.client(ApiKeyService, { apiKey: parent.key, protocol: 'grpc' });
    await rpcRefused(
      byKey.createApiKey({ name: 'forever', expiresInDays: 0, scopes: ['read:users'] }),
      Code.InvalidArgument,
      'KEY_OUTLIVES_PARENT',
    );
    await rpcRefused(
      byKey.createApiKey({ name: 'longer', expiresInDays: 3, scopes: ['read:users'] }),
      Code.InvalidArgument,
      'KEY_OUTLIVES_PARENT',
    );
    const child = await byKey.createApiKey({ name: 'child', expiresInDays: 2, scopes: ['read:users'] });
    await byToken.deleteApiKey({ id: child.id });
    assert.equal((await server.rest('/api/sso/v1/users', { headers: { 'x-api-key': child.key } })).status, 401);
    assert.equal((await server.rest('/api/sso/v1/users', { headers: { 'x-api-key': parent.key } })).status, 200);
  });
});

describe('3b. tokens issued against a key end with the key', () => {
  test('REST: a client_credentials token dies when its API key is revoked; an assertion token when its public key is removed', async () => {
    const agent = await json(
      await server.rest('/api/sso/v1/agents', {
        method: 'POST',
        token: admin.token,
        json: { name: 'derived bot', scopes: ['read:users'] },
      }),
    );
    const key = await json(
      await server.rest('/api/sso/v1/apikeys', { method: 'POST', token: admin.token, json: { agent_id: agent.id, name: 'k' } }),
    );
    const tokenRes = await server.rest('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: agent.id, client_secret: key.key }).toString(),
    });
    assert.equal(tokenRes.status, 200, await tokenRes.clone().text());
    const ccToken = (await json(tokenRes)).access_token;

    const pair = generateKeyPairSync('ed25519');
    const registered = await json(
      await server.rest(`/api/sso/v1/agents/${agent.id}/keys`, {
        method: 'POST',
        token: admin.token,
        json: { jwk: pair.publicKey.export({ format: 'jwk' }), name: 'ci' },
      }),
    );
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ iss: agent.id, aud: 'sso', iat: now, nbf: now, exp: now + 60, jti: randomUUID() })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: registered.kid })
      .sign(pair.privateKey);
    const kidToken = (await json(await server.rest('/api/sso/v1/agents/auth', { method: 'POST', token: assertion, json: {} })))
      .access_token;

    for (const t of [ccToken, kidToken]) assert.equal((await server.rest('/api/sso/v1/users', { token: t })).status, 200);
    assert.equal((await server.rest(`/api/sso/v1/apikeys/${key.id}`, { method: 'DELETE', token: admin.token })).status, 200);
    assert.equal((await server.rest('/api/sso/v1/users', { token: ccToken })).status, 401);
    assert.equal((await server.rest('/api/sso/v1/users', { token: kidToken })).status, 200, "the other credential's token lives on");
    await server.client(AgentService, { token: admin.token, protocol: 'grpc' }).deleteAgentKey({ agentId: agent.id, kid: registered.kid });
    await rpcRefused(
      server.client(DirectoryService, { token: kidToken, protocol: 'grpc' }).listUsers({}),
      Code.Unauthenticated,
      'SESSION_REVOKED',
    );
  });
});

describe('4. a token issued for another app is for that app only', () => {
  test("REST: /me, sessions, own password, API keys: all refused with WRONG_AUDIENCE; the SSO's own token still works", async () => {
    const victim = await userWith('victim4@example.com', []);
    const appToken = (await login('victim4@example.com', { audience: 'other-app' })).token;
    const attempts: [string, string, unknown?][] = [
      ['GET', '/api/sso/v1/me'],
      ['GET', '/api/sso/v1/auth/me'],
      ['GET', '/api/sso/v1/sessions'],
      ['PATCH', `/api/sso/v1/users/${victim.id}`, { password: 'Hijacked123!', current_password: password }],
      ['POST', '/api/sso/v1/apikeys', { name: 'stolen' }],
    ];
    for (const [method, path, body] of attempts) {
      const res = await server.rest(path, { method, token: appToken, ...(body ? { json: body } : {}) });
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal((await json(res)).error_code, 'WRONG_AUDIENCE', `${method} ${path}`);
    }
    assert.equal(await loginStatus('victim4@example.com', password), 200);
    assert.equal((await json(await server.rest('/api/sso/v1/apikeys', { token: victim.token }))).total, 0);
    assert.equal((await server.rest('/api/sso/v1/me', { token: victim.token })).status, 200);
    // The app can still check its token online, and still log the user out of its own session.
    const verified = await server.rest('/api/sso/v1/auth/verify-token', { method: 'POST', json: { token: appToken } });
    assert.equal(verified.status, 200);
    assert.equal((await json(verified)).aud, 'other-app');
  });

  test("gRPC: GetMe and CreateApiKey refused; Logout ends only the app's session", async () => {
    const victim = await userWith('victim5@example.com', []);
    const appToken = (await login('victim5@example.com', { audience: 'other-app' })).token;
    const auth = server.client(AuthService, { token: appToken, protocol: 'grpc' });
    await rpcRefused(auth.getMe({}), Code.Unauthenticated, 'WRONG_AUDIENCE');
    await rpcRefused(
      server.client(ApiKeyService, { token: appToken, protocol: 'grpc' }).createApiKey({ name: 'stolen' }),
      Code.Unauthenticated,
      'WRONG_AUDIENCE',
    );
    await auth.logout({});
    const check = await server.rest('/api/sso/v1/auth/verify-token', { method: 'POST', json: { token: appToken } });
    assert.equal(check.status, 401, 'the app session ended');
    assert.equal((await server.rest('/api/sso/v1/me', { token: victim.token })).status, 200, 'the SSO session lives on');
  });
});

describe('5. the access cookie is no credential for a cross-site request', () => {
  const cookie = (token: string) => `usso-access-token=${token}`;

  test("REST: a cross-site form POST with an administrator's cookie creates nobody", async () => {
    const form = new URLSearchParams({ identifier: 'csrf-admin@example.com', password, is_admin: 'true' }).toString();
    for (const headers of [
      { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' },
      { origin: server.url, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    ] as Record<string, string>[]) {
      const res = await server.rest('/api/sso/v1/users', {
        method: 'POST',
        headers: { ...headers, cookie: cookie(admin.token) },
        body: form,
      });
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.equal((await json(res)).error_code, 'CROSS_SITE_REQUEST');
    }
    // Multipart and text/plain bodies never reach a handler (the REST layer takes JSON and forms only).
    for (const type of ['multipart/form-data; boundary=x', 'text/plain']) {
      const res = await server.rest('/api/sso/v1/users', {
        method: 'POST',
        headers: { origin: 'https://evil.example', 'content-type': type, cookie: cookie(admin.token) },
        body: `--x\r\nContent-Disposition: form-data; name="identifier"\r\n\r\ncsrf-admin@example.com\r\n--x--\r\n`,
      });
      assert.ok([403, 415].includes(res.status), `${type}: ${res.status}`);
    }
    const jsonFromEvil = await server.rest('/api/sso/v1/users', {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', cookie: cookie(admin.token) },
      json: { identifier: 'csrf-admin@example.com', password, is_admin: true },
    });
    assert.equal(jsonFromEvil.status, 403);
    const found = await json(await server.rest('/api/sso/v1/users?identifier=csrf-admin', { token: admin.token }));
    assert.equal(found.total, 0);
  });

  test("Connect: a cookie call from a foreign origin is refused; from the server's own origin it works; bearer calls are unaffected", async () => {
    const call = (headers: Record<string, string>) =>
      fetch(`${server.url}/sso.auth.v1.AuthService/GetMe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'connect-protocol-version': '1', ...headers },
        body: '{}',
      });
    const evil = await call({ origin: 'https://evil.example', cookie: cookie(admin.token) });
    assert.equal(evil.status, 403);
    assert.equal((await json(evil)).code, 'permission_denied');
    assert.equal((await call({ origin: server.url, cookie: cookie(admin.token) })).status, 200);
    assert.equal((await call({ 'sec-fetch-site': 'same-origin', cookie: cookie(admin.token) })).status, 200);
    assert.equal((await call({ origin: 'https://evil.example', authorization: `Bearer ${admin.token}` })).status, 200);
    // Reading with the cookie (GET) stays possible: CORS keeps the answer from foreign pages.
    assert.equal((await server.rest('/api/sso/v1/me', { headers: { cookie: cookie(admin.token) } })).status, 200);
  });
});

describe("6. changing one's own password needs the current one", () => {
  test('REST: without or with a wrong current password the change is refused and no session ends', async () => {
    const owner = await userWith('owner6@example.com', []);
    const other = await login('owner6@example.com');
    const patch = (body: unknown) => server.rest(`/api/sso/v1/users/${owner.id}`, { method: 'PATCH', token: owner.token, json: body });
    const missing = await patch({ password: 'Hijacked123!' });
    assert.equal(missing.status, 400);
    assert.equal((await json(missing)).error_code, 'CURRENT_PASSWORD_REQUIRED');
    const wrong = await patch({ password: 'Hijacked123!', current_password: 'NotThePassword1' });
    assert.equal(wrong.status, 403);
    assert.equal((await json(wrong)).error_code, 'CURRENT_PASSWORD_INCORRECT');
    assert.equal(await loginStatus('owner6@example.com', password), 200);
    assert.equal((await server.rest('/api/sso/v1/me', { token: other.token })).status, 200, 'no session ended');
    const right = await patch({ password: 'Changed123!x', current_password: password });
    assert.equal(right.status, 200);
    assert.equal((await server.rest('/api/sso/v1/me', { token: other.token })).status, 401, 'the other session ended');
    assert.equal(await loginStatus('owner6@example.com', 'Changed123!x'), 200);
  });

  test("Connect: wrong current passwords count toward the account's lockout", async () => {
    const owner = await userWith('owner7@example.com', []);
    const directory = server.client(DirectoryService, { token: owner.token });
    const attempt = (current: string) =>
      directory.updateUser({ id: owner.id, password: 'Hijacked123!', currentPassword: current, updateMask: { paths: ['password'] } });
    for (let i = 0; i < server.config.loginMaxFailures; i++) {
      await rpcRefused(attempt(`Wrong${i}Password!`), Code.PermissionDenied, 'CURRENT_PASSWORD_INCORRECT');
    }
    await rpcRefused(attempt('Wrong-again-1!'), Code.ResourceExhausted, 'TOO_MANY_ATTEMPTS');
    // Locked: even the right password is not checked now, and the password is unchanged.
    await rpcRefused(attempt(password), Code.ResourceExhausted, 'TOO_MANY_ATTEMPTS');
    const events = await json(await server.rest('/api/sso/v1/audit-events?limit=100', { token: admin.token }));
    assert.ok(
      events.items.some((e: any) => e.type === 'password.change' && e.outcome === 'failure' && e.actor_id === owner.id),
      JSON.stringify(events.items.slice(0, 3)),
    );
  });
});

describe("7. a password set through the legacy PUT /users/{id} ends the user's sessions", () => {
  test('REST and Connect: access and refresh tokens of the user stop working', async () => {
    const legacyToken = await json(
      await server.rest('/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: 'admin@example.com', password }).toString(),
      }),
    );
    await userWith('legacy7@example.com', []);
    const victim = await login('legacy7@example.com');
    const listed = await json(await server.rest('/users/', { token: legacyToken.access_token }));
    const row = listed.find((u: any) => u.email === 'legacy7@example.com' || u.username === 'legacy7@example.com');
    assert.ok(row, JSON.stringify(listed));
    const put = await server.rest(`/users/${row.id}`, {
      method: 'PUT',
      token: legacyToken.access_token,
      json: { password: 'ResetByAdmin1!' },
    });
    assert.equal(put.status, 200, await put.clone().text());
    assert.equal((await server.rest('/api/sso/v1/me', { token: victim.token })).status, 401);
    assert.equal((await server.rest('/api/sso/v1/auth/refresh', { method: 'POST', json: { refresh_token: victim.refresh } })).status, 401);

    const again = await login('legacy7@example.com', { secret: 'ResetByAdmin1!' });
    await server
      .client(DirectoryService, { token: admin.token, protocol: 'grpc' })
      .updateLegacyUser({ userId: row.id, password: 'ResetAgain123!' });
    assert.equal((await server.rest('/api/sso/v1/me', { token: again.token })).status, 401);
    assert.equal(await loginStatus('legacy7@example.com', 'ResetAgain123!'), 200);
  });

  test('an administrator changing its own password through the legacy route proves the current one', async () => {
    const me = await json(await server.rest('/users/', { token: admin.token }));
    const row = me.find((u: any) => u.is_admin);
    const res = await server.rest(`/users/${row.id}`, { method: 'PUT', token: admin.token, json: { password: 'Hijacked123!' } });
    assert.equal(res.status, 400);
    assert.equal((await json(res)).error_code, 'CURRENT_PASSWORD_REQUIRED');
    assert.equal(await loginStatus('admin@example.com', password), 200);
  });
});
