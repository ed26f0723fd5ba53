// ApiKeyService: keys for agents and for the calling user, shown once and stored only as a hash;
// their scopes bounded by the owner's (and by the caller's); revocation, expiry and owner
// deactivation taking effect on the very next call; POST /apikeys/verify for every kind of key.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { toJsonString } from '@bufbuild/protobuf';
import { ApiKeyService, GetApiKeyResponseSchema } from '../../gen/sso/apikey/v1/api_key_service_pb.js';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let admin: string;
let adminId: string;

async function json(res: Response): Promise<any> {
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

async function login(identifier: string, register = true): Promise<{ token: string; id: string }> {
  const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier, secret: 'Password123!x', register } });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as any;
  return { token: body.access_token, id: body.user.id };
}

async function userWithScopes(identifier: string, scopes: string[]): Promise<{ token: string; id: string }> {
  const { id } = await login(identifier);
  await sql('UPDATE users SET scopes = $2 WHERE id = $1', [id, scopes]);
  return login(identifier, false);
}

function sql(text: string, params: unknown[] = []): Promise<any[]> {
  return server.app.database.dataSource.query(text, params);
}

async function createKey(token: string, body: Record<string, unknown>): Promise<Response> {
  return server.rest('/api/sso/v1/apikeys', { method: 'POST', token, json: body });
}

async function newKey(token: string, body: Record<string, unknown>): Promise<any> {
  const res = await createKey(token, body);
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

async function newAgent(scopes: string[]): Promise<any> {
  const res = await server.rest('/api/sso/v1/agents', { method: 'POST', token: admin, json: { name: 'Agent', scopes } });
  assert.equal(res.status, 200);
  return res.json();
}

const verify = (apiKey: unknown, headers: Record<string, string> = {}) =>
  server.rest('/api/sso/v1/apikeys/verify', { method: 'POST', json: { api_key: apiKey }, headers });
const me = (key: string) => server.rest('/api/sso/v1/me', { headers: { 'x-api-key': key } });

before(async () => {
  server = await startTestServer();
  ({ token: admin, id: adminId } = await login('admin@example.com'));
});
after(async () => {
  await server?.stop();
});

describe('the plaintext is shown once, never stored', () => {
  test('the key: a recognizable prefix, 256 random bits, distinct every time', async () => {
    const agent = await newAgent(['read:users']);
    const a = await newKey(admin, { agent_id: agent.id, name: 'a' });
    const b = await newKey(admin, { agent_id: agent.id, name: 'b' });
    for (const k of [a, b]) {
      const m = /^sso_agent_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/.exec(k.key);
      assert.ok(m, k.key);
      assert.equal(Buffer.from(m[2]!, 'base64url').length, 32);
      assert.equal(k.prefix, `sso_agent_${m[1]}`);
    }
    assert.notEqual(a.key, b.key);
    assert.notEqual(a.prefix, b.prefix);
  });

  test('get, list and revoke show prefix, name, owner, scopes, expiry and last use, never the secret', async () => {
    const created = await newKey(admin, { name: 'once', expires_in_days: 30 });
    const secret = created.key.slice(created.prefix.length + 1); // base64url: it may itself contain "_"
    assert.equal(secret.length, 43);
    const get = await json(await server.rest(`/api/sso/v1/apikeys/${created.id}`, { token: admin }));
    assert.deepEqual(
      Object.keys(get).sort(),
      ['agent_id', 'created_at', 'id', 'name', 'prefix', 'scopes', 'user_id'].concat(['expires_at']).sort(),
    );
    assert.equal(get.prefix, created.prefix);
    assert.equal(get.user_id, adminId);
    assert.equal(get.name, 'once');
    const list = await server.rest('/api/sso/v1/apikeys?limit=100', { token: admin });
    const rpc = await server.client(ApiKeyService, { token: admin }).getApiKey({ id: created.id });
    const revoked = await server.rest(`/api/sso/v1/apikeys/${created.id}`, { method: 'DELETE', token: admin });
    for (const text of [JSON.stringify(get), await list.text(), toJsonString(GetApiKeyResponseSchema, rpc), await revoked.text()]) {
      assert.ok(!text.includes(secret), 'the secret never shows again');
      assert.ok(!text.includes(created.key));
      assert.ok(!/"(key|api_key|apiKey)":"sso_/.test(text));
    }
  });

  test('the database holds only the SHA-256 of the key and its display prefix', async () => {
    const created = await newKey(admin, { name: 'hashed' });
    const [row] = await sql('SELECT * FROM api_keys WHERE id = $1', [created.id]);
    assert.equal(row.key_hash, createHash('sha256').update(created.key).digest('hex'));
    assert.equal(row.prefix, created.prefix);
    const secret = created.key.slice(created.prefix.length + 1); // base64url: it may itself contain "_"
    assert.equal(secret.length, 43);
    for (const value of Object.values(row)) assert.ok(!String(value).includes(secret));
  });
});

describe('a key authenticates as its owner, limited to its scopes', () => {
  test("a user's own key acts as the user on REST, Connect and gRPC", async () => {
    const user = await userWithScopes('keyuser@example.com', ['read:users', 'read:agents']);
    const key = await newKey(user.token, { name: 'cli' });
    assert.equal(key.user_id, user.id);
    assert.equal(key.agent_id, '');
    assert.deepEqual(key.scopes, ['read:agents', 'read:users'], "without scopes it takes its owner's");
    const res = await me(key.key);
    assert.equal(res.status, 200);
    assert.equal((await json(res)).id, user.id);
    for (const protocol of ['connect', 'grpc', 'grpc-web'] as const) {
      const got = await server.client(AuthService, { protocol, apiKey: key.key }).getMe({});
      assert.equal(got.user?.id, user.id);
    }
  });

  test("the scopes asked for must be within the owner's; the key then holds only them", async () => {
    const user = await userWithScopes('narrow@example.com', ['read:users', 'read:agents']);
    const beyond = await createKey(user.token, { name: 'too much', scopes: ['read:users', 'delete:users'] });
    assert.equal(beyond.status, 400);
    const body = await json(beyond);
    assert.equal(body.error_code, 'SCOPES_EXCEED_OWNER');
    assert.match(body.message, /delete:users/);
    const key = await newKey(user.token, { name: 'narrow', scopes: ['read:users'] });
    assert.deepEqual(key.scopes, ['read:users']);
    assert.equal((await server.rest('/api/sso/v1/agents', { token: user.token })).status, 200);
    assert.equal((await server.rest('/api/sso/v1/agents', { headers: { 'x-api-key': key.key } })).status, 403);
    assert.equal((await server.rest('/api/sso/v1/users', { headers: { 'x-api-key': key.key } })).status, 200);
    // A narrowed key cannot mint a wider one.
    const wider = await server.rest('/api/sso/v1/apikeys', {
      method: 'POST',
      headers: { 'x-api-key': key.key },
      json: { name: 'wider', scopes: ['read:agents'] },
    });
    assert.equal(wider.status, 403);
    const same = await server.rest('/api/sso/v1/apikeys', { method: 'POST', headers: { 'x-api-key': key.key }, json: { name: 'same' } });
    assert.equal(same.status, 403, "its default (the owner's scopes) is more than the key holds");
  });

  test("a key for an agent: within the agent's scopes, and never past what a non-administrator creator holds", async () => {
    const agent = await newAgent(['read:users', 'read:agents']);
    const beyond = await createKey(admin, { agent_id: agent.id, name: 'x', scopes: ['delete:users'] });
    assert.equal(beyond.status, 400);
    assert.equal((await json(beyond)).error_code, 'SCOPES_EXCEED_OWNER');

    // A key for an agent is a credential to act as it: only a caller holding everything the agent
    // holds may make one, however narrow the key (issue 9: who may act on whom).
    const keyMaker = await userWithScopes('keymaker@example.com', ['create:apikeys', 'read:users']);
    const narrower = await createKey(keyMaker.token, { agent_id: agent.id, name: 'ok', scopes: ['read:users'] });
    assert.equal(narrower.status, 403);
    assert.equal((await json(narrower)).error_code, 'TARGET_EXCEEDS_CALLER');
    const wide = await createKey(keyMaker.token, { agent_id: agent.id, name: 'all of the agent' });
    assert.equal(wide.status, 403);
    assert.equal((await json(wide)).error_code, 'TARGET_EXCEEDS_CALLER');
    const fullMaker = await userWithScopes('fullmaker@example.com', ['create:apikeys', 'read:users', 'read:agents']);
    assert.deepEqual((await newKey(fullMaker.token, { agent_id: agent.id, name: 'ok', scopes: ['read:users'] })).scopes, ['read:users']);
    assert.deepEqual((await newKey(fullMaker.token, { agent_id: agent.id, name: 'all of the agent' })).scopes, [
      'read:users',
      'read:agents',
    ]);

    const plain = await userWithScopes('plain@example.com', ['read:users']);
    const denied = await createKey(plain.token, { agent_id: agent.id, name: 'x', scopes: ['read:users'] });
    assert.equal(denied.status, 403);
    const unknown = await createKey(admin, { agent_id: '00000000-0000-4000-8000-000000000000', name: 'x' });
    assert.equal(unknown.status, 404);
    assert.equal((await json(unknown)).error_code, 'AGENT_NOT_FOUND');
  });

  test("an administrator's key: unrestricted by default (it is an administrator's credential), restricted when scopes are given", async () => {
    const full = await newKey(admin, { name: 'root' });
    assert.deepEqual(full.scopes, ['*']);
    assert.equal((await server.rest('/users/', { headers: { 'x-api-key': full.key } })).status, 200, 'the admin-only legacy surface');
    const claims = await json(await verify(full.key));
    assert.equal(claims.is_admin, true);

    const limited = await newKey(admin, { name: 'reader', scopes: ['read:users'] });
    assert.equal((await server.rest('/api/sso/v1/users', { headers: { 'x-api-key': limited.key } })).status, 200);
    assert.equal((await server.rest('/users/', { headers: { 'x-api-key': limited.key } })).status, 403);
    assert.equal(
      (await server.rest('/api/sso/v1/agents', { method: 'POST', headers: { 'x-api-key': limited.key }, json: { name: 'x' } })).status,
      403,
    );
    assert.equal((await json(await verify(limited.key))).is_admin, false);
  });

  test('a key never grants more than its owner holds now', async () => {
    const user = await userWithScopes('shrinking@example.com', ['read:users', 'read:agents']);
    const key = await newKey(user.token, { name: 'k' });
    assert.equal((await server.rest('/api/sso/v1/agents', { headers: { 'x-api-key': key.key } })).status, 200);
    await sql('UPDATE users SET scopes = $2 WHERE id = $1', [user.id, ['read:users']]);
    assert.equal((await server.rest('/api/sso/v1/agents', { headers: { 'x-api-key': key.key } })).status, 403);
    assert.deepEqual((await json(await verify(key.key))).scopes, ['read:users']);
  });

  test('last_used_at is recorded, without the secret', async () => {
    const key = await newKey(admin, { name: 'used' });
    assert.equal((await json(await server.rest(`/api/sso/v1/apikeys/${key.id}`, { token: admin }))).last_used_at, undefined);
    assert.equal((await me(key.key)).status, 200);
    let lastUsed: string | undefined;
    for (let i = 0; i < 50 && !lastUsed; i++) {
      lastUsed = (await json(await server.rest(`/api/sso/v1/apikeys/${key.id}`, { token: admin }))).last_used_at;
      if (!lastUsed) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(lastUsed && Math.abs(Date.parse(lastUsed) - Date.now()) < 60_000, String(lastUsed));
  });
});

describe('revocation, expiry and deactivation hold at once', () => {
  test('revoke: the next call with the key is 401 on every protocol; revoking again says so', async () => {
    const key = await newKey(admin, { name: 'to revoke' });
    assert.equal((await me(key.key)).status, 200);
    const res = await server.rest(`/api/sso/v1/apikeys/${key.id}`, { method: 'DELETE', token: admin });
    assert.equal(res.status, 200);
    const body = await json(res);
    assert.equal(body.success, true);
    assert.equal(body.api_key.id, key.id);
    assert.ok(body.api_key.revoked_at);
    const after = await me(key.key);
    assert.equal(after.status, 401);
    assert.equal((await json(after)).error_code, 'INVALID_API_KEY');
    for (const protocol of ['connect', 'grpc'] as const) {
      await assert.rejects(
        server.client(AuthService, { protocol, apiKey: key.key }).getMe({}),
        (e) => e instanceof ConnectError && e.code === Code.Unauthenticated,
      );
    }
    assert.equal((await verify(key.key)).status, 401);
    assert.equal((await json(await server.rest(`/api/sso/v1/apikeys/${key.id}`, { method: 'DELETE', token: admin }))).success, false);
    // Listed only when asked for; still readable for audit.
    const live = await json(await server.rest('/api/sso/v1/apikeys?limit=100', { token: admin }));
    assert.ok(!live.items.some((k: any) => k.id === key.id));
    const all = await json(await server.rest('/api/sso/v1/apikeys?limit=100&include_revoked=true', { token: admin }));
    assert.ok(all.items.some((k: any) => k.id === key.id && k.revoked_at));
  });

  test('a revocation written by another instance (straight to the shared database) holds on the next call: nothing is cached', async () => {
    const key = await newKey(admin, { name: 'elsewhere' });
    assert.equal((await me(key.key)).status, 200);
    assert.equal((await verify(key.key)).status, 200);
    await sql('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [key.id]);
    assert.equal((await me(key.key)).status, 401);
    assert.equal((await verify(key.key)).status, 401);
  });

  test('expiry: expires_in_days sets expires_at; once past it the key is refused', async () => {
    const key = await newKey(admin, { name: 'month', expires_in_days: 30 });
    const expiresAt = Date.parse(key.expires_at);
    assert.ok(Math.abs(expiresAt - (Date.now() + 30 * 86400_000)) < 120_000, key.expires_at);
    const claims = await json(await verify(key.key));
    assert.equal(claims.exp, Math.floor(expiresAt / 1000));
    assert.equal((await me(key.key)).status, 200);
    await sql(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [key.id]);
    assert.equal((await me(key.key)).status, 401);
    assert.equal((await verify(key.key)).status, 401);
    for (const days of [-1, 3651]) {
      const res = await createKey(admin, { name: 'bad', expires_in_days: days });
      assert.equal(res.status, 400, String(days));
    }
  });

  test("a deactivated owner's keys are refused at once, and work again on reactivation; a deleted owner's are gone", async () => {
    const user = await userWithScopes('owner@example.com', ['read:users']);
    const key = await newKey(user.token, { name: 'k' });
    assert.equal((await me(key.key)).status, 200);
    await sql('UPDATE users SET is_active = false WHERE id = $1', [user.id]);
    assert.equal((await me(key.key)).status, 401);
    assert.equal((await verify(key.key)).status, 401);
    await sql('UPDATE users SET is_active = true WHERE id = $1', [user.id]);
    assert.equal((await me(key.key)).status, 200);
    await sql('DELETE FROM users WHERE id = $1', [user.id]);
    assert.equal((await me(key.key)).status, 401);
    assert.equal((await sql('SELECT 1 FROM api_keys WHERE id = $1', [key.id])).length, 0);
  });
});

describe('POST /api/sso/v1/apikeys/verify', () => {
  test('a valid agent key: its principal as claims, with no caller credentials', async () => {
    const agent = await newAgent(['read:users']);
    const key = await newKey(admin, { agent_id: agent.id, name: 'sdk' });
    const res = await verify(key.key);
    assert.equal(res.status, 200);
    const claims = await json(res);
    assert.equal(claims.sub, agent.id);
    assert.equal(claims.agent_id, agent.id);
    assert.equal(claims.user_id, '');
    // The USSO SDK's UserData refuses any other token_type than access, refresh, secure, one_time
    // or temporary; a key is used as an access token is, and amr says it was a key.
    assert.equal(claims.token_type, 'access');
    assert.deepEqual(claims.amr, ['api_key']);
    assert.deepEqual(claims.scopes, ['read:users']);
    assert.deepEqual(claims.roles, []);
    assert.equal(claims.jti, key.id);
    assert.equal(claims.exp, 0, 'a key that never expires');
    assert.equal(claims.is_admin, false);
    assert.equal(typeof claims.iss, 'string');
  });

  test('a valid user key: the user as claims', async () => {
    const user = await userWithScopes('claims@example.com', ['read:users']);
    const key = await newKey(user.token, { name: 'k' });
    const claims = await json(await verify(key.key));
    assert.equal(claims.sub, user.id);
    assert.equal(claims.user_id, user.id);
    assert.equal(claims.agent_id, '');
    assert.deepEqual(claims.scopes, ['read:users']);
    assert.equal(claims.token_type, 'access', 'a user key is an access credential too');
    assert.ok(Array.isArray(claims.roles));
  });

  test('over Connect and gRPC too', async () => {
    const key = await newKey(admin, { name: 'rpc' });
    for (const protocol of ['connect', 'grpc'] as const) {
      const res = await server.client(ApiKeyService, { protocol }).verifyApiKey({ apiKey: key.key });
      assert.equal(res.claims?.sub, adminId);
      assert.equal(res.claims?.tokenType, 'access');
      assert.deepEqual(res.claims?.amr, ['api_key']);
    }
  });

  test('a stale or bad credential sent along does not matter (the call is public)', async () => {
    const key = await newKey(admin, { name: 'public' });
    assert.equal((await verify(key.key, { authorization: 'Bearer sso_agent_aaaaaaaaaaaa_' + 'A'.repeat(43) })).status, 200);
  });

  test('malformed, random, foreign-kind and wrong-secret keys: 401, never 500', async () => {
    const real = await newKey(admin, { name: 'real' });
    const [, , id] = real.key.split('_');
    const random = () => randomBytes(32).toString('base64url');
    const cases: unknown[] = [
      'abc',
      'sso_agent_short_x',
      `sso_agent_${'a'.repeat(12)}_${random()}`,
      `sso_user_${id}_${random()}`,
      `sso_agent_${id}_${random()}`,
      `sso_app_${id}_${random()}`,
      real.key + 'x',
      real.key.toUpperCase(),
      'x'.repeat(4000),
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln',
      "sso_user_' OR 1=1 --",
    ];
    for (const apiKey of cases) {
      const res = await verify(apiKey);
      assert.equal(res.status, 401, String(apiKey).slice(0, 60));
      assert.equal((await json(res)).error_code, 'INVALID_API_KEY');
    }
    for (const body of [{}, { api_key: '' }]) {
      const res = await server.rest('/api/sso/v1/apikeys/verify', { method: 'POST', json: body });
      assert.equal(res.status, 400);
    }
    assert.equal((await server.rest('/api/sso/v1/apikeys/verify', { method: 'POST', json: { api_key: 42 } })).status, 400);
  });
});

describe('who sees and revokes which keys', () => {
  let alice: { token: string; id: string };
  let bob: { token: string; id: string };
  let aliceKey: any;

  before(async () => {
    alice = await userWithScopes('alice@example.com', ['read:users']);
    bob = await userWithScopes('bob@example.com', ['read:users']);
    aliceKey = await newKey(alice.token, { name: 'alice' });
    await newKey(bob.token, { name: 'bob' });
  });

  test("a user lists only their own keys; with read:apikeys (an administrator) anyone's", async () => {
    const own = await json(await server.rest('/api/sso/v1/apikeys', { token: alice.token }));
    assert.deepEqual(
      own.items.map((k: any) => k.user_id),
      [alice.id],
    );
    assert.equal(own.total, 1);
    assert.equal((await server.rest(`/api/sso/v1/apikeys?user_id=${bob.id}`, { token: alice.token })).status, 403);
    const byAdmin = await json(await server.rest(`/api/sso/v1/apikeys?user_id=${bob.id}`, { token: admin }));
    assert.deepEqual(
      byAdmin.items.map((k: any) => k.user_id),
      [bob.id],
    );
    const agent = await newAgent(['read:users']);
    const agentKey = await newKey(admin, { agent_id: agent.id, name: 'a' });
    const byAgent = await json(await server.rest(`/api/sso/v1/apikeys?agent_id=${agent.id}`, { token: admin }));
    assert.deepEqual(
      byAgent.items.map((k: any) => k.id),
      [agentKey.id],
    );
    // The agent sees its own keys with its own key.
    const mine = await json(await server.rest('/api/sso/v1/apikeys', { headers: { 'x-api-key': agentKey.key } }));
    assert.deepEqual(
      mine.items.map((k: any) => k.id),
      [agentKey.id],
    );
  });

  test("others' keys look absent: get and revoke are 404 and change nothing", async () => {
    assert.equal((await server.rest(`/api/sso/v1/apikeys/${aliceKey.id}`, { token: bob.token })).status, 404);
    assert.equal((await server.rest(`/api/sso/v1/apikeys/${aliceKey.id}`, { method: 'DELETE', token: bob.token })).status, 404);
    assert.equal((await me(aliceKey.key)).status, 200);
    assert.equal((await server.rest(`/api/sso/v1/apikeys/${aliceKey.id}`, { token: alice.token })).status, 200);
    assert.equal((await server.rest('/api/sso/v1/apikeys/not-a-uuid', { token: alice.token })).status, 400);
    assert.equal((await server.rest('/api/sso/v1/apikeys/00000000-0000-4000-8000-000000000000', { token: admin })).status, 404);
  });

  test('the owner revokes their own key', async () => {
    const res = await server.rest(`/api/sso/v1/apikeys/${aliceKey.id}`, { method: 'DELETE', token: alice.token });
    assert.equal((await json(res)).success, true);
    assert.equal((await me(aliceKey.key)).status, 401);
  });

  test('over gRPC: create, list, get, delete', async () => {
    const keys = server.client(ApiKeyService, { protocol: 'grpc', token: alice.token });
    const created = await keys.createApiKey({ name: 'grpc', scopes: ['read:users'], expiresInDays: 1 });
    assert.equal(created.key, created.apiKey);
    assert.ok(created.expiresAt);
    assert.equal((await me(created.key)).status, 200);
    assert.ok((await keys.listApiKeys({})).items.some((k) => k.id === created.id));
    assert.equal((await keys.getApiKey({ id: created.id })).apiKey?.prefix, created.prefix);
    const deleted = await keys.deleteApiKey({ id: created.id });
    assert.equal(deleted.success, true);
    assert.ok(deleted.apiKey?.revokedAt);
    assert.equal((await me(created.key)).status, 401);
    await assert.rejects(keys.getApiKey({ id: 'nope' }), (e) => e instanceof ConnectError && e.code === Code.InvalidArgument);
  });

  test('creating needs a name; unauthenticated creation is 401', async () => {
    assert.equal((await createKey(admin, { scopes: [] })).status, 400);
    assert.equal((await server.rest('/api/sso/v1/apikeys', { method: 'POST', json: { name: 'x' } })).status, 401);
  });
});
