// AgentService over REST and Connect: create/list/get/update/delete, the scope ceiling (an agent
// never holds more than whoever gave it its scopes, unless an administrator), deactivation and
// deletion taking effect at once for every credential of the agent, and its public keys.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { AgentService } from '../../gen/sso/agent/v1/agent_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let server: TestServer;
let admin: string;

async function json(res: Response): Promise<any> {
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

async function login(identifier: string, secret = 'Password123!x', register = true): Promise<string> {
  const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier, secret, register } });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as any).access_token;
}

/** A non-administrator holding exactly these direct scopes, and a fresh token carrying them. */
async function userWithScopes(identifier: string, scopes: string[]): Promise<string> {
  await login(identifier);
  await server.app.database.dataSource.query(
    `UPDATE users SET scopes = $2 WHERE id = (SELECT user_id FROM user_identifiers WHERE value = $1)`,
    [identifier, scopes],
  );
  return login(identifier, 'Password123!x', false);
}

async function createAgent(token: string, body: Record<string, unknown>): Promise<Response> {
  return server.rest('/api/sso/v1/agents', { method: 'POST', token, json: body });
}

async function agentKey(agentId: string): Promise<string> {
  const res = await server.rest('/api/sso/v1/apikeys', { method: 'POST', token: admin, json: { agent_id: agentId, name: 'k' } });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as any).key;
}

async function clientCredentials(agentId: string, key: string): Promise<string> {
  const res = await server.rest('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: agentId, client_secret: key }).toString(),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as any).access_token;
}

function reasonOf(e: unknown): string | undefined {
  return e instanceof ConnectError ? e.findDetails(ErrorInfoSchema)[0]?.reason : undefined;
}

before(async () => {
  server = await startTestServer();
  admin = await login('admin@example.com');
});
after(async () => {
  await server?.stop();
});

describe('create, read, update, delete', () => {
  let agent: any;

  test('create with every field; the answer is the agent', async () => {
    const res = await createAgent(admin, {
      name: '  Billing Bot ',
      scopes: ['read:users', 'read:users', 'update:invoices'],
      description: 'Nightly billing',
    });
    assert.equal(res.status, 200);
    agent = await json(res);
    assert.match(agent.id, UUID);
    assert.equal(agent.name, 'Billing Bot');
    assert.deepEqual(agent.scopes, ['read:users', 'update:invoices']);
    assert.equal(agent.description, 'Nightly billing');
    assert.equal(agent.is_active, true);
    assert.equal(agent.workspace_id, '');
  });

  test('create in a workspace; an unknown workspace is 404, a malformed id 400', async () => {
    const ws = await server.rest('/api/sso/v1/workspaces', { method: 'POST', token: admin, json: { name: 'Ops', slug: 'ops' } });
    assert.equal(ws.status, 200, await ws.clone().text());
    const workspaceId = (await json(ws)).id;
    const ok = await createAgent(admin, { name: 'Ops Bot', scopes: [], workspace_id: workspaceId });
    assert.equal(ok.status, 200);
    assert.equal((await json(ok)).workspace_id, workspaceId);
    const unknown = await createAgent(admin, { name: 'Ops Bot', workspace_id: '00000000-0000-4000-8000-000000000000' });
    assert.equal(unknown.status, 404);
    assert.equal((await json(unknown)).error_code, 'WORKSPACE_NOT_FOUND');
    const malformed = await createAgent(admin, { name: 'Ops Bot', workspace_id: 'ops' });
    assert.equal(malformed.status, 400);
    assert.equal((await json(malformed)).error_code, 'INVALID_ID');
  });

  test('bad input is a 400 that creates nothing', async () => {
    const before = (await json(await server.rest('/api/sso/v1/agents?limit=100', { token: admin }))).total;
    for (const [body, reason] of [
      [{ scopes: ['read:users'] }, 'MISSING_FIELD'],
      [{ name: '   ' }, 'INVALID_NAME'],
      [{ name: 'x', scopes: ['read users'] }, 'INVALID_SCOPE'],
      [{ name: 'x', scopes: 'read:users' }, 'INVALID_BODY'],
      [{ name: 'x', description: 'd'.repeat(2001) }, 'INVALID_ARGUMENT'],
    ] as const) {
      const res = await createAgent(admin, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal((await json(res)).error_code, reason, JSON.stringify(body));
    }
    assert.equal((await json(await server.rest('/api/sso/v1/agents?limit=100', { token: admin }))).total, before);
  });

  test('list pages with offset and limit', async () => {
    const all = await json(await server.rest('/api/sso/v1/agents', { token: admin }));
    assert.ok(all.total >= 2);
    assert.equal(all.offset, 0);
    assert.equal(all.limit, 10);
    assert.ok(all.items.some((a: any) => a.id === agent.id));
    const second = await json(await server.rest('/api/sso/v1/agents?offset=1&limit=1', { token: admin }));
    assert.equal(second.items.length, 1);
    assert.equal(second.items[0].id, all.items[1].id);
    assert.equal((await server.rest('/api/sso/v1/agents?limit=101', { token: admin })).status, 400);
  });

  test('get; unknown is 404, malformed 400', async () => {
    const res = await server.rest(`/api/sso/v1/agents/${agent.id}`, { token: admin });
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), agent);
    const unknown = await server.rest('/api/sso/v1/agents/00000000-0000-4000-8000-000000000000', { token: admin });
    assert.equal(unknown.status, 404);
    assert.equal((await json(unknown)).error_code, 'AGENT_NOT_FOUND');
    assert.equal((await server.rest('/api/sso/v1/agents/not-an-id', { token: admin })).status, 400);
  });

  test('PATCH changes only the fields sent', async () => {
    let res = await server.rest(`/api/sso/v1/agents/${agent.id}`, {
      method: 'PATCH',
      token: admin,
      json: { description: 'Hourly billing' },
    });
    assert.equal(res.status, 200);
    let body = await json(res);
    assert.equal(body.description, 'Hourly billing');
    assert.equal(body.name, 'Billing Bot');
    assert.deepEqual(body.scopes, ['read:users', 'update:invoices']);
    res = await server.rest(`/api/sso/v1/agents/${agent.id}`, { method: 'PATCH', token: admin, json: { scopes: [] } });
    body = await json(res);
    assert.deepEqual(body.scopes, [], 'an empty list sent is a change');
    assert.equal(body.description, 'Hourly billing');
    res = await server.rest(`/api/sso/v1/agents/${agent.id}`, {
      method: 'PATCH',
      token: admin,
      json: { scopes: ['read:users'], name: 'Billing' },
    });
    body = await json(res);
    assert.deepEqual(body.scopes, ['read:users']);
    assert.equal(body.name, 'Billing');
    assert.ok(Date.parse(body.updated_at) >= Date.parse(agent.updated_at));
    const unknown = await server.rest('/api/sso/v1/agents/00000000-0000-4000-8000-000000000000', {
      method: 'PATCH',
      token: admin,
      json: { name: 'x' },
    });
    assert.equal(unknown.status, 404);
  });

  test('over Connect: create, get, update (set fields only), list, delete', async () => {
    const agents = server.client(AgentService, { token: admin });
    const created = (await agents.createAgent({ name: 'RPC Bot', scopes: ['read:users'] })).agent!;
    assert.match(created.id, UUID);
    assert.equal((await agents.getAgent({ id: created.id })).agent?.name, 'RPC Bot');
    const updated = (await agents.updateAgent({ id: created.id, isActive: false })).agent!;
    assert.equal(updated.isActive, false);
    assert.deepEqual(updated.scopes, ['read:users'], 'an RPC without a mask leaves unset fields alone');
    assert.equal(updated.name, 'RPC Bot');
    assert.ok((await agents.listAgents({ limit: 100 })).items.some((a) => a.id === created.id));
    assert.equal((await agents.deleteAgent({ id: created.id })).success, true);
    await assert.rejects(agents.getAgent({ id: created.id }), (e) => reasonOf(e) === 'AGENT_NOT_FOUND');
  });

  test('delete: gone, with its keys; deleting again is 404', async () => {
    const created = await json(await createAgent(admin, { name: 'Short-lived', scopes: ['read:users'] }));
    await agentKey(created.id);
    const res = await server.rest(`/api/sso/v1/agents/${created.id}`, { method: 'DELETE', token: admin });
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { success: true });
    const [{ n }] = await server.app.database.dataSource.query('SELECT count(*)::int AS n FROM api_keys WHERE agent_id = $1', [created.id]);
    assert.equal(n, 0);
    assert.equal((await server.rest(`/api/sso/v1/agents/${created.id}`, { method: 'DELETE', token: admin })).status, 404);
  });
});

describe('who may', () => {
  let reader: string;
  let creator: string;

  before(async () => {
    reader = await userWithScopes('reader@example.com', ['read:users']);
    creator = await userWithScopes('creator@example.com', ['create:agents', 'update:agents', 'read:agents', 'read:users', 'read:posts']);
  });

  test('without create:agents / read:agents / delete:agents: 403', async () => {
    assert.equal((await createAgent(reader, { name: 'x' })).status, 403);
    assert.equal((await server.rest('/api/sso/v1/agents', { token: reader })).status, 403);
    assert.equal(
      (await server.rest('/api/sso/v1/agents/00000000-0000-4000-8000-000000000000', { method: 'DELETE', token: creator })).status,
      403,
    );
    assert.equal((await server.rest('/api/sso/v1/agents')).status, 401);
  });

  test("an agent's scopes never exceed its creator's", async () => {
    const ok = await createAgent(creator, { name: 'Within', scopes: ['read:users', 'read:posts'] });
    assert.equal(ok.status, 200);
    const beyond = await createAgent(creator, { name: 'Beyond', scopes: ['read:users', 'delete:users'] });
    assert.equal(beyond.status, 403);
    const body = await json(beyond);
    assert.equal(body.error_code, 'GRANT_EXCEEDS_CALLER');
    assert.match(body.message, /delete:users/);
    // A higher action on the ladder is more, not less.
    assert.equal((await createAgent(creator, { name: 'Higher', scopes: ['update:users'] })).status, 403);
  });

  test('nor can an update raise them past the updater', async () => {
    const agent = await json(await createAgent(creator, { name: 'Raise me', scopes: ['read:users'] }));
    const res = await server.rest(`/api/sso/v1/agents/${agent.id}`, { method: 'PATCH', token: creator, json: { scopes: ['*'] } });
    assert.equal(res.status, 403);
    assert.deepEqual((await json(await server.rest(`/api/sso/v1/agents/${agent.id}`, { token: admin }))).scopes, ['read:users']);
  });

  test('an administrator may grant any scope', async () => {
    const res = await createAgent(admin, { name: 'Owner bot', scopes: ['*', 'manage:everything'] });
    assert.equal(res.status, 200);
  });
});

describe('deactivation and deletion take effect at once', () => {
  test('a deactivated agent: its key and its token are refused on the next call; reactivated, both work again', async () => {
    const agent = await json(await createAgent(admin, { name: 'Toggle', scopes: ['read:agents'] }));
    const key = await agentKey(agent.id);
    const token = await clientCredentials(agent.id, key);
    const get = (headers: Record<string, string>) => server.rest(`/api/sso/v1/agents/${agent.id}`, { headers });
    assert.equal((await get({ 'x-api-key': key })).status, 200);
    assert.equal((await get({ authorization: `Bearer ${token}` })).status, 200);

    const off = await server.rest(`/api/sso/v1/agents/${agent.id}`, { method: 'PATCH', token: admin, json: { is_active: false } });
    assert.equal((await json(off)).is_active, false);
    const byKey = await get({ 'x-api-key': key });
    assert.equal(byKey.status, 401);
    assert.equal((await json(byKey)).error_code, 'INVALID_API_KEY');
    const byToken = await get({ authorization: `Bearer ${token}` });
    assert.equal(byToken.status, 401);
    assert.equal((await json(byToken)).error_code, 'AGENT_INACTIVE');
    const verify = await server.rest('/api/sso/v1/apikeys/verify', { method: 'POST', json: { api_key: key } });
    assert.equal(verify.status, 401);

    await server.rest(`/api/sso/v1/agents/${agent.id}`, { method: 'PATCH', token: admin, json: { is_active: true } });
    assert.equal((await get({ 'x-api-key': key })).status, 200);
    assert.equal((await get({ authorization: `Bearer ${token}` })).status, 200);
  });

  test('a deleted agent: its key and its token are refused on the next call', async () => {
    const agent = await json(await createAgent(admin, { name: 'Doomed', scopes: ['read:agents'] }));
    const key = await agentKey(agent.id);
    const token = await clientCredentials(agent.id, key);
    assert.equal((await server.rest('/api/sso/v1/agents', { headers: { 'x-api-key': key } })).status, 200);
    assert.equal((await server.rest(`/api/sso/v1/agents/${agent.id}`, { method: 'DELETE', token: admin })).status, 200);
    assert.equal((await server.rest('/api/sso/v1/agents', { headers: { 'x-api-key': key } })).status, 401);
    const byToken = await server.rest('/api/sso/v1/agents', { token });
    assert.equal(byToken.status, 401);
    assert.equal((await json(byToken)).error_code, 'INVALID_TOKEN');
  });

  test("narrowing an agent's scopes narrows its live key and token too", async () => {
    const agent = await json(await createAgent(admin, { name: 'Narrowed', scopes: ['read:agents', 'read:users'] }));
    const key = await agentKey(agent.id);
    const token = await clientCredentials(agent.id, key);
    assert.equal((await server.rest('/api/sso/v1/agents', { token })).status, 200);
    await server.rest(`/api/sso/v1/agents/${agent.id}`, { method: 'PATCH', token: admin, json: { scopes: ['read:users'] } });
    assert.equal((await server.rest('/api/sso/v1/agents', { token })).status, 403);
    assert.equal((await server.rest('/api/sso/v1/agents', { headers: { 'x-api-key': key } })).status, 403);
    assert.equal((await server.rest('/api/sso/v1/users', { headers: { 'x-api-key': key } })).status, 200);
  });
});

describe('public keys', () => {
  let agent: any;
  const pair = () => generateKeyPairSync('ed25519');

  before(async () => {
    agent = await json(await createAgent(admin, { name: 'Signer', scopes: ['read:users'] }));
  });

  test('register as a JWK, as PEM, as raw bytes; the kid is the RFC 7638 thumbprint', async () => {
    const asJwk = pair().publicKey.export({ format: 'jwk' }) as Record<string, string>;
    let res = await server.rest(`/api/sso/v1/agents/${agent.id}/keys`, {
      method: 'POST',
      token: admin,
      json: { jwk: asJwk, name: 'laptop' },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const key = await json(res);
    assert.equal(key.agent_id, agent.id);
    assert.equal(key.alg, 'EdDSA');
    assert.equal(key.name, 'laptop');
    assert.deepEqual(key.jwk, { kty: 'OKP', crv: 'Ed25519', x: asJwk.x });
    const { createHash } = await import('node:crypto');
    assert.equal(
      key.kid,
      createHash('sha256')
        .update(JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x: asJwk.x }))
        .digest('base64url'),
    );

    const pem = pair().publicKey.export({ format: 'pem', type: 'spki' }) as string;
    res = await server.rest(`/api/sso/v1/agents/${agent.id}/keys`, { method: 'POST', token: admin, json: { public_key: pem } });
    assert.equal(res.status, 200, await res.clone().text());
    const raw = (pair().publicKey.export({ format: 'jwk' }) as Record<string, string>).x!;
    res = await server.rest(`/api/sso/v1/agents/${agent.id}/keys`, { method: 'POST', token: admin, json: { public_key: raw } });
    assert.equal(res.status, 200);

    const list = await json(await server.rest(`/api/sso/v1/agents/${agent.id}/keys`, { token: admin }));
    assert.equal(list.items.length, 3);
    assert.ok(list.items.some((k: any) => k.kid === key.kid));

    const again = await server.rest(`/api/sso/v1/agents/${agent.id}/keys`, { method: 'POST', token: admin, json: { jwk: asJwk } });
    assert.equal(again.status, 409);
    assert.equal((await json(again)).error_code, 'AGENT_KEY_TAKEN');

    const del = await server.rest(`/api/sso/v1/agents/${agent.id}/keys/${key.kid}`, { method: 'DELETE', token: admin });
    assert.equal(del.status, 200);
    assert.equal((await server.rest(`/api/sso/v1/agents/${agent.id}/keys/${key.kid}`, { method: 'DELETE', token: admin })).status, 404);
    assert.equal((await json(await server.rest(`/api/sso/v1/agents/${agent.id}/keys`, { token: admin }))).items.length, 2);
  });

  test('over Connect: create, list and delete a key', async () => {
    const agents = server.client(AgentService, { token: admin });
    const jwk = pair().publicKey.export({ format: 'jwk' }) as Record<string, string>;
    const key = (await agents.createAgentKey({ agentId: agent.id, jwk, name: 'rpc' })).key!;
    assert.deepEqual(key.jwk, { kty: 'OKP', crv: 'Ed25519', x: jwk.x });
    assert.ok((await agents.listAgentKeys({ agentId: agent.id })).items.some((k) => k.kid === key.kid));
    assert.equal((await agents.deleteAgentKey({ agentId: agent.id, kid: key.kid })).success, true);
    await assert.rejects(agents.deleteAgentKey({ agentId: agent.id, kid: key.kid }), (e) => reasonOf(e) === 'AGENT_KEY_NOT_FOUND');
  });

  test('private keys, other curves and junk are refused with 400', async () => {
    const { privateKey } = pair();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' });
    for (const body of [
      { jwk: privateKey.export({ format: 'jwk' }) },
      { public_key: privateKey.export({ format: 'pem', type: 'pkcs8' }) },
      { public_key: rsa },
      { jwk: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) },
      { public_key: 'AAAA' },
      { public_key: 'not a key at all' },
      {},
    ]) {
      const res = await server.rest(`/api/sso/v1/agents/${agent.id}/keys`, { method: 'POST', token: admin, json: body });
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal((await json(res)).error_code, 'INVALID_PUBLIC_KEY');
    }
  });

  test('the agent manages its own keys; another agent may not', async () => {
    const ownKey = await agentKey(agent.id);
    const other = await json(await createAgent(admin, { name: 'Other', scopes: ['read:users'] }));
    const otherKey = await agentKey(other.id);
    const jwk = pair().publicKey.export({ format: 'jwk' });
    const own = await server.rest(`/api/sso/v1/agents/${agent.id}/keys`, {
      method: 'POST',
      headers: { 'x-api-key': ownKey },
      json: { jwk },
    });
    assert.equal(own.status, 200);
    assert.equal((await server.rest(`/api/sso/v1/agents/${agent.id}/keys`, { headers: { 'x-api-key': ownKey } })).status, 200);
    const foreign = await server.rest(`/api/sso/v1/agents/${agent.id}/keys`, {
      method: 'POST',
      headers: { 'x-api-key': otherKey },
      json: { jwk: pair().publicKey.export({ format: 'jwk' }) },
    });
    assert.equal(foreign.status, 403);
    assert.equal((await server.rest(`/api/sso/v1/agents/${agent.id}/keys`, { headers: { 'x-api-key': otherKey } })).status, 403);
    assert.equal((await server.rest('/api/sso/v1/agents/00000000-0000-4000-8000-000000000000/keys', { token: admin })).status, 404);
  });
});
