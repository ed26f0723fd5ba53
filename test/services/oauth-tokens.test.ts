// Tokens for machines: the OAuth 2.0 token endpoint (client credentials for agents, refresh for
// users) driven by raw form posts and by a real OAuth client (openid-client), and USSO's agent
// login with an assertion signed by the agent's own Ed25519 key.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { createRemoteJWKSet, jwtVerify, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { AgentService } from '../../gen/sso/agent/v1/agent_service_pb.js';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { DirectoryService } from '../../gen/sso/directory/v1/directory_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let issuer: string;
let admin: string;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function json(res: Response): Promise<any> {
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

async function newAgent(scopes: string[]): Promise<any> {
  const res = await server.rest('/api/sso/v1/agents', { method: 'POST', token: admin, json: { name: 'Machine', scopes } });
  assert.equal(res.status, 200);
  return res.json();
}

async function newKey(body: Record<string, unknown>, token = admin): Promise<string> {
  const res = await server.rest('/api/sso/v1/apikeys', { method: 'POST', token, json: body });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as any).key;
}

function tokenRequest(params: Record<string, string>, headers: Record<string, string> = {}, path = '/oauth/token'): Promise<Response> {
  return server.rest(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  });
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

before(async () => {
  // openid-client checks that discovery's issuer is the URL it was given: serve at the issuer.
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  server = await startTestServer({ port, issuer });
  const res = await server.rest('/api/sso/v1/auth/login', {
    method: 'POST',
    json: { identifier: 'admin@example.com', secret: 'Password123!x', register: true },
  });
  admin = ((await res.json()) as any).access_token;
});
after(async () => {
  await server?.stop();
});

describe('discovery', () => {
  test('openid-configuration names the token endpoint, its grants and client authentication methods', async () => {
    const doc = await json(await fetch(`${server.url}/.well-known/openid-configuration`));
    assert.equal(doc.token_endpoint, `${issuer}/oauth/token`);
    assert.ok(doc.grant_types_supported.includes('client_credentials'));
    assert.ok(doc.grant_types_supported.includes('refresh_token'));
    // 'none': public OpenID Connect clients (PKCE instead of a secret; issue 11).
    assert.deepEqual(doc.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'none']);
  });
});

describe('client credentials', () => {
  let agent: any;
  let key: string;

  before(async () => {
    agent = await newAgent(['read:users', 'read:agents']);
    key = await newKey({ agent_id: agent.id, name: 'oauth' });
  });

  test('the right secret in the body: an access JWT whose sub is the agent', async () => {
    const res = await tokenRequest({ grant_type: 'client_credentials', client_id: agent.id, client_secret: key });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = await json(res);
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 900);
    assert.deepEqual(body.scope.split(' ').sort(), ['read:agents', 'read:users']);
    const { payload, protectedHeader } = await jwtVerify(
      body.access_token,
      createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`)),
      { issuer, audience: 'sso' },
    );
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.sub, agent.id);
    assert.equal(payload.token_type, 'access');
    assert.deepEqual((payload.scopes as string[]).sort(), ['read:agents', 'read:users']);
    assert.equal(payload.session_id, undefined);
    // The token works as the agent, within its scopes, on every protocol.
    assert.equal((await server.rest('/api/sso/v1/users', { token: body.access_token })).status, 200);
    assert.equal(
      (await server.rest('/api/sso/v1/users', { method: 'POST', token: body.access_token, json: { identifier: 'x@example.com' } })).status,
      403,
    );
    for (const protocol of ['connect', 'grpc'] as const) {
      await server.client(DirectoryService, { protocol, token: body.access_token }).listUsers({});
    }
    const claims = await json(await server.rest('/api/sso/v1/auth/verify-token', { method: 'POST', json: { token: body.access_token } }));
    assert.equal(claims.agent_id, agent.id);
    assert.equal(claims.user_id, '');
  });

  test('HTTP Basic, and the /api/sso/v1/oauth/token alias', async () => {
    const res = await tokenRequest(
      { grant_type: 'client_credentials' },
      { authorization: basic(agent.id, key) },
      '/api/sso/v1/oauth/token',
    );
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(typeof (await json(res)).access_token, 'string');
  });

  test("`scope` narrows the agent's scopes; asking for more is invalid_scope", async () => {
    const narrow = await json(
      await tokenRequest({ grant_type: 'client_credentials', client_id: agent.id, client_secret: key, scope: 'read:users' }),
    );
    assert.equal(narrow.scope, 'read:users');
    assert.equal((await server.rest('/api/sso/v1/agents', { token: narrow.access_token })).status, 403);
    const res = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: agent.id,
      client_secret: key,
      scope: 'read:users delete:users',
    });
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.error, 'invalid_scope');
    assert.match(body.error_description, /delete:users/);
  });

  test('a narrowed token cannot mint a key wider than itself', async () => {
    const narrow = await json(
      await tokenRequest({ grant_type: 'client_credentials', client_id: agent.id, client_secret: key, scope: 'read:users' }),
    );
    const wide = await server.rest('/api/sso/v1/apikeys', {
      method: 'POST',
      token: narrow.access_token,
      json: { name: 'all of the agent' },
    });
    assert.equal(wide.status, 403);
    assert.equal((await json(wide)).error_code, 'GRANT_EXCEEDS_CALLER');
    const own = await server.rest('/api/sso/v1/apikeys', {
      method: 'POST',
      token: narrow.access_token,
      json: { name: 'own', scopes: ['read:users'] },
    });
    assert.equal(own.status, 200);
    assert.equal((await json(own)).agent_id, agent.id);
  });

  test('a key with fewer scopes than its agent mints no more than the key holds', async () => {
    const narrowKey = await newKey({ agent_id: agent.id, name: 'narrow', scopes: ['read:users'] });
    const body = await json(await tokenRequest({ grant_type: 'client_credentials', client_id: agent.id, client_secret: narrowKey }));
    assert.equal(body.scope, 'read:users');
    const more = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: agent.id,
      client_secret: narrowKey,
      scope: 'read:agents',
    });
    assert.equal((await json(more)).error, 'invalid_scope');
  });

  test("a wrong secret, someone else's key, an unknown client: 401 invalid_client, in OAuth's JSON", async () => {
    const other = await newAgent(['read:users']);
    const otherKey = await newKey({ agent_id: other.id, name: 'other' });
    const userKey = await newKey({ name: 'admin own' });
    const cases: Record<string, string>[] = [
      { client_id: agent.id, client_secret: key.slice(0, -2) + (key.endsWith('AA') ? 'BB' : 'AA') },
      { client_id: agent.id, client_secret: otherKey },
      { client_id: agent.id, client_secret: userKey },
      { client_id: agent.id, client_secret: 'secret' },
      { client_id: '00000000-0000-4000-8000-000000000000', client_secret: key },
      { client_id: 'not-a-uuid', client_secret: key },
      { client_id: agent.id },
      {},
    ];
    for (const params of cases) {
      const res = await tokenRequest({ grant_type: 'client_credentials', ...params });
      assert.equal(res.status, 401, JSON.stringify(params));
      const body = await json(res);
      assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
      assert.equal(body.error, 'invalid_client');
    }
    const viaBasic = await tokenRequest({ grant_type: 'client_credentials' }, { authorization: basic(agent.id, 'wrong') });
    assert.equal(viaBasic.status, 401);
    assert.match(viaBasic.headers.get('www-authenticate') ?? '', /^Basic/);
  });

  test('a revoked key and a deactivated agent are refused at once', async () => {
    const revocable = await newKey({ agent_id: agent.id, name: 'revocable' });
    const ok = await tokenRequest({ grant_type: 'client_credentials', client_id: agent.id, client_secret: revocable });
    assert.equal(ok.status, 200);
    const list = await json(await server.rest(`/api/sso/v1/apikeys?agent_id=${agent.id}&limit=100`, { token: admin }));
    const id = list.items.find((k: any) => revocable.startsWith(k.prefix)).id;
    await server.rest(`/api/sso/v1/apikeys/${id}`, { method: 'DELETE', token: admin });
    const revoked = await tokenRequest({ grant_type: 'client_credentials', client_id: agent.id, client_secret: revocable });
    assert.equal(revoked.status, 401);
    assert.equal((await json(revoked)).error, 'invalid_client');

    const token = (await json(ok)).access_token;
    await server.rest(`/api/sso/v1/agents/${agent.id}`, { method: 'PATCH', token: admin, json: { is_active: false } });
    const inactive = await tokenRequest({ grant_type: 'client_credentials', client_id: agent.id, client_secret: key });
    assert.equal(inactive.status, 401);
    assert.equal((await json(inactive)).error, 'invalid_client');
    assert.equal((await server.rest('/api/sso/v1/users', { token })).status, 401, 'tokens it already has stop working too');
    await server.rest(`/api/sso/v1/agents/${agent.id}`, { method: 'PATCH', token: admin, json: { is_active: true } });
    assert.equal((await tokenRequest({ grant_type: 'client_credentials', client_id: agent.id, client_secret: key })).status, 200);
  });

  test('each grant and each refusal is an audit event of the agent', async () => {
    const audited = await newAgent(['read:users']);
    const auditedKey = await newKey({ agent_id: audited.id, name: 'audited' });
    await tokenRequest({ grant_type: 'client_credentials', client_id: audited.id, client_secret: auditedKey });
    await tokenRequest({ grant_type: 'client_credentials', client_id: audited.id, client_secret: 'wrong' });
    const events = await json(await server.rest(`/api/sso/v1/audit-events?actor_id=${audited.id}`, { token: admin }));
    assert.deepEqual(events.items.map((e: any) => [e.type, e.outcome, e.reason]).sort(), [
      ['client_credentials', 'failure', 'INVALID_CLIENT'],
      ['client_credentials', 'success', ''],
    ]);
  });

  test('malformed requests: 400 invalid_request or unsupported_grant_type, never a 500', async () => {
    let res = await tokenRequest({ client_id: agent.id, client_secret: key });
    assert.equal(res.status, 400);
    assert.equal((await json(res)).error, 'invalid_request');
    res = await tokenRequest({ grant_type: 'password', username: 'a', password: 'b' });
    assert.equal(res.status, 400);
    assert.equal((await json(res)).error, 'unsupported_grant_type');
    res = await tokenRequest({ grant_type: 'client_credentials', client_secret: key }, { authorization: basic(agent.id, key) });
    assert.equal((await json(res)).error, 'invalid_request', 'two client authentication methods at once');
    res = await server.rest('/oauth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":' });
    assert.equal(res.status, 400);
    assert.equal((await json(res)).error, 'invalid_request');
    res = await server.rest('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'grant_type=client_credentials',
    });
    assert.equal((await json(res)).error, 'invalid_request');
    res = await tokenRequest({ grant_type: 'client_credentials', client_id: agent.id, client_secret: key, scope: 'not a:valid:scope!' });
    assert.equal(res.status, 400);
    res = await tokenRequest({ grant_type: 'client_credentials', client_id: agent.id, client_secret: key, audience: 'unknown-app' });
    assert.equal(res.status, 400);
    assert.equal((await json(res)).error, 'invalid_request');
  });

  test('over Connect the same RPC answers Connect errors with their reason', async () => {
    const auth = server.client(AuthService);
    const ok = await auth.issueToken({ grantType: 'client_credentials', clientId: agent.id, clientSecret: key });
    assert.equal(ok.tokenType, 'Bearer');
    assert.equal(ok.refreshToken, undefined);
    await assert.rejects(auth.issueToken({ grantType: 'client_credentials', clientId: agent.id, clientSecret: 'x' }), (e: unknown) => {
      assert.ok(e instanceof ConnectError);
      assert.equal(e.code, Code.Unauthenticated);
      assert.equal(e.findDetails(ErrorInfoSchema)[0]?.reason, 'INVALID_CLIENT');
      return true;
    });
  });
});

describe('openid-client', () => {
  let agent: any;
  let key: string;
  let config: oidc.Configuration;

  before(async () => {
    agent = await newAgent(['read:users']);
    key = await newKey({ agent_id: agent.id, name: 'openid-client' });
    config = await oidc.discovery(new URL(issuer), agent.id, key, undefined, { execute: [oidc.allowInsecureRequests] });
  });

  test('discovers the server and runs the client-credentials grant (client_secret_post)', async () => {
    assert.equal(config.serverMetadata().token_endpoint, `${issuer}/oauth/token`);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'read:users' });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, 'read:users');
    assert.ok(tokens.expiresIn()! > 800);
    assert.equal((await server.rest('/api/sso/v1/users', { token: tokens.access_token })).status, 200);
  });

  test('the same with client_secret_basic', async () => {
    const basicConfig = await oidc.discovery(new URL(issuer), agent.id, {}, oidc.ClientSecretBasic(key), {
      execute: [oidc.allowInsecureRequests],
    });
    const tokens = await oidc.clientCredentialsGrant(basicConfig);
    assert.equal(tokens.scope, 'read:users');
  });

  test("a wrong secret surfaces as OAuth's invalid_client", async () => {
    const wrong = await oidc.discovery(new URL(issuer), agent.id, `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    await assert.rejects(oidc.clientCredentialsGrant(wrong), (e: any) => {
      assert.equal(e.error, 'invalid_client');
      assert.equal(e.status, 401);
      return true;
    });
  });

  test('a user refreshes through the same endpoint (refresh_token grant)', async () => {
    const login = await json(
      await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier: 'admin@example.com', secret: 'Password123!x' } }),
    );
    const userClient = await oidc.discovery(new URL(issuer), 'sso-user', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    const tokens = await oidc.refreshTokenGrant(userClient, login.refresh_token);
    assert.equal(typeof tokens.access_token, 'string');
    assert.equal(typeof tokens.refresh_token, 'string');
    assert.notEqual(tokens.refresh_token, login.refresh_token);
    assert.equal((await server.rest('/api/sso/v1/me', { token: tokens.access_token })).status, 200);
    // The old refresh token is retired: presenting it again is an invalid grant (and revokes the session).
    const reuse = await tokenRequest({ grant_type: 'refresh_token', refresh_token: login.refresh_token });
    assert.equal(reuse.status, 400);
    assert.equal((await json(reuse)).error, 'invalid_grant');
    const missing = await tokenRequest({ grant_type: 'refresh_token' });
    assert.equal((await json(missing)).error, 'invalid_request');
    const junk = await tokenRequest({ grant_type: 'refresh_token', refresh_token: 'junk' });
    assert.equal((await json(junk)).error, 'invalid_grant');
  });
});

describe('agent login with a signed assertion (POST /api/sso/v1/agents/auth)', () => {
  let agent: any;
  let privateKey: KeyObject;
  let kid: string;

  async function assertion(claims: Record<string, unknown> = {}, opts: { key?: KeyObject; kid?: string } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: agent.id, aud: 'sso', iat: now, nbf: now, exp: now + 120, jti: randomUUID(), ...claims } as any)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: opts.kid ?? kid })
      .sign(opts.key ?? privateKey);
  }

  const agentAuth = (jwt?: string, body: Record<string, unknown> = {}) =>
    server.rest('/api/sso/v1/agents/auth', { method: 'POST', json: body, ...(jwt ? { token: jwt } : {}) });

  before(async () => {
    agent = await newAgent(['read:users', 'read:agents']);
    const pair = generateKeyPairSync('ed25519');
    privateKey = pair.privateKey;
    const res = await server.rest(`/api/sso/v1/agents/${agent.id}/keys`, {
      method: 'POST',
      token: admin,
      json: { jwk: pair.publicKey.export({ format: 'jwk' }), name: 'ci' },
    });
    assert.equal(res.status, 200);
    kid = (await json(res)).kid;
  });

  test('a good assertion: the login response shape, with tokens.access for the agent', async () => {
    const res = await agentAuth(await assertion());
    assert.equal(res.status, 200, await res.clone().text());
    const body = await json(res);
    assert.equal(typeof body.tokens.access, 'string');
    assert.equal(body.access_token, body.tokens.access);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 900);
    assert.equal(body.agent.id, agent.id);
    assert.equal(body.scope, 'read:users read:agents');
    const { payload } = await jwtVerify(body.tokens.access, createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`)), { issuer });
    assert.equal(payload.sub, agent.id);
    assert.deepEqual(payload.amr, ['private_key_jwt']);
    assert.equal((await server.rest('/api/sso/v1/users', { token: body.tokens.access })).status, 200);
    const keys = await json(await server.rest(`/api/sso/v1/agents/${agent.id}/keys`, { token: admin }));
    assert.ok(keys.items[0].last_used_at);
  });

  test("USSO's `scopes` claim narrows the token; more than the agent holds is refused", async () => {
    const narrow = await json(await agentAuth(await assertion({ scopes: ['read:users'] })));
    assert.equal(narrow.scope, 'read:users');
    assert.equal((await server.rest('/api/sso/v1/agents', { token: narrow.tokens.access })).status, 403);
    const res = await agentAuth(await assertion({ scopes: ['delete:users'] }));
    assert.equal(res.status, 400);
    assert.equal((await json(res)).error_code, 'INVALID_SCOPE');
  });

  test('an expired assertion is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await agentAuth(await assertion({ iat: now - 600, nbf: now - 600, exp: now - 60 }));
    assert.equal(res.status, 401);
    assert.equal((await json(res)).error_code, 'TOKEN_EXPIRED');
  });

  test('a replayed assertion is refused the second time', async () => {
    const jwt = await assertion();
    assert.equal((await agentAuth(jwt)).status, 200);
    const again = await agentAuth(jwt);
    assert.equal(again.status, 401);
    assert.equal((await json(again)).error_code, 'ASSERTION_REPLAYED');
  });

  test('an assertion signed by a foreign key is refused, even naming the registered kid', async () => {
    const foreign = generateKeyPairSync('ed25519').privateKey;
    for (const jwt of [await assertion({}, { key: foreign }), await assertion({}, { key: foreign, kid: 'unknown-kid' })]) {
      const res = await agentAuth(jwt);
      assert.equal(res.status, 401);
      assert.equal((await json(res)).error_code, 'INVALID_ASSERTION');
    }
  });

  test('a long-lived, jti-less, mis-addressed or other-agent assertion is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const other = await newAgent(['read:users']);
    for (const claims of [{ exp: now + 3600 }, { jti: undefined }, { aud: 'someone-else' }, { iss: other.id }, { sub: other.id }]) {
      const res = await agentAuth(await assertion(claims));
      assert.equal(res.status, 401, JSON.stringify(claims));
      assert.equal((await json(res)).error_code, 'INVALID_ASSERTION', JSON.stringify(claims));
    }
    assert.equal((await agentAuth()).status, 401);
    assert.equal((await agentAuth('not-a-jwt')).status, 401);
  });

  test('the assertion may come in the body; over Connect too', async () => {
    assert.equal((await agentAuth(undefined, { assertion: await assertion() })).status, 200);
    const res = await server.client(AgentService, { token: await assertion() }).authenticateAgent({});
    assert.equal(res.agent?.id, agent.id);
    assert.ok(res.tokens?.access);
  });

  test('agent logins are audit events', async () => {
    const before = (await json(await server.rest(`/api/sso/v1/audit-events?actor_id=${agent.id}&limit=100`, { token: admin }))).items;
    assert.ok(before.some((e: any) => e.type === 'agent_login' && e.outcome === 'success'));
    assert.ok(before.some((e: any) => e.type === 'agent_login' && e.outcome === 'failure' && e.reason === 'ASSERTION_REPLAYED'));
  });

  test('a deactivated agent cannot log in; a removed key signs nothing', async () => {
    await server.rest(`/api/sso/v1/agents/${agent.id}`, { method: 'PATCH', token: admin, json: { is_active: false } });
    const res = await agentAuth(await assertion());
    assert.equal(res.status, 401);
    assert.equal((await json(res)).error_code, 'AGENT_INACTIVE');
    await server.rest(`/api/sso/v1/agents/${agent.id}`, { method: 'PATCH', token: admin, json: { is_active: true } });
    assert.equal((await agentAuth(await assertion())).status, 200);
    await server.rest(`/api/sso/v1/agents/${agent.id}/keys/${kid}`, { method: 'DELETE', token: admin });
    assert.equal((await agentAuth(await assertion())).status, 401);
  });
});
