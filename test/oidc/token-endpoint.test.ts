// The back channel of OpenID Connect over real sockets: the authorization_code grant at
// /oauth/token (client authentication, single-use codes bound to client, redirect URI and PKCE,
// replay revoking what the code issued, expiry), ID tokens, refresh for the client only,
// revocation (RFC 7009), introspection (RFC 7662) and UserInfo. Codes are issued here the way the
// authorization endpoint issues them (issueCode on the server's own database), so each rule is
// tested on its own; the browser flow end to end is in test/oidc/*browser*.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { sha256Hex } from '../../src/auth/index.js';
import { insertSession } from '../../src/db/repositories/sessions.js';
import { issueCode } from '../../src/domain/oidc/codes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let admin: string;
let user: { id: string; token: string };
const password = 'Password123!x';
const redirectUri = 'https://rp.example/callback';

interface TestClient {
  id: string;
  secret?: string;
  audience: string;
}
let confidential: TestClient;
let publicClient: TestClient;
let other: TestClient;

async function json(res: Response): Promise<any> {
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

const db = () => server.app.database.dataSource;

/** An app made through the API, then made an OpenID Connect client of the given type. */
async function makeClient(name: string, clientType: 'confidential' | 'public'): Promise<TestClient> {
  const res = await server.rest('/api/sso/v1/apps', {
    method: 'POST',
    token: admin,
    json: { name, redirect_uris: [redirectUri], client_type: clientType },
  });
  assert.equal(res.status, 200, await res.clone().text());
  const app = await json(res);
  // The secret as the app API shows it once; set here too so this file does not depend on that API's shape.
  const secret = clientType === 'confidential' ? randomBytes(32).toString('base64url') : undefined;
  await db().query('UPDATE apps SET client_type = $2, client_secret_hash = $3 WHERE id = $1', [
    app.id,
    clientType,
    secret ? sha256Hex(secret) : null,
  ]);
  await server.rest(`/api/sso/v1/apps/${app.id}/users/${user.id}`, { method: 'POST', token: admin, json: {} });
  return { id: app.id, secret, audience: app.audience };
}

/** A signed-in browser session, as the hosted page makes it. */
async function browserSession(): Promise<string> {
  const id = randomUUID();
  await insertSession(db(), {
    id,
    kind: 'browser',
    userId: user.id,
    refreshHash: sha256Hex(randomUUID()),
    audience: server.config.audience,
    workspaceId: null,
    amr: ['password'],
    userAgent: 'test',
    ip: '127.0.0.1',
    ttlSeconds: 3600,
  });
  return id;
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function code(client: TestClient, opts: { scopes?: string[]; challenge?: string; nonce?: string; session?: string } = {}) {
  return issueCode(db(), {
    clientId: client.id,
    redirectUri,
    codeChallenge: opts.challenge,
    nonce: opts.nonce,
    scopes: opts.scopes ?? ['openid', 'email', 'profile', 'offline_access'],
    userId: user.id,
    browserSessionId: opts.session ?? (await browserSession()),
  });
}

function form(body: Record<string, string>, basic?: TestClient): RequestInit {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic)
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic.id)}:${encodeURIComponent(basic.secret ?? '')}`).toString('base64')}`;
  return { method: 'POST', headers, body: new URLSearchParams(body).toString() };
}

const token = (body: Record<string, string>, basic?: TestClient) => server.rest('/oauth/token', form(body, basic));

async function exchange(client: TestClient, c: string, extra: Record<string, string> = {}) {
  return token({ grant_type: 'authorization_code', code: c, redirect_uri: redirectUri, ...extra }, client.secret ? client : undefined);
}

before(async () => {
  server = await startTestServer();
  admin = (
    await json(
      await server.rest('/api/sso/v1/auth/login', {
        method: 'POST',
        json: { identifier: 'admin@example.com', secret: password, register: true },
      }),
    )
  ).access_token;
  const made = await server.rest('/api/sso/v1/users', {
    method: 'POST',
    token: admin,
    json: { identifiers: [{ identifier: 'alice@example.com' }, { identifier: 'alice', type: 'username' }], password },
  });
  assert.equal(made.status, 200, await made.clone().text());
  const login = await json(
    await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier: 'alice@example.com', secret: password } }),
  );
  user = { id: login.user.id, token: login.access_token };
  confidential = await makeClient('Confidential RP', 'confidential');
  publicClient = await makeClient('Public RP', 'public');
  other = await makeClient('Other RP', 'confidential');
});
after(async () => {
  await server?.stop();
});

describe('authorization_code grant', () => {
  test('a confidential client gets an access token for its audience, an ID token for its id and a refresh token', async () => {
    const { verifier, challenge } = pkce();
    const res = await exchange(confidential, await code(confidential, { challenge, nonce: 'n-123' }), { code_verifier: verifier });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = await json(res);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.scope, 'openid email profile offline_access');
    assert.equal(typeof body.refresh_token, 'string');
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const id = await jwtVerify(body.id_token, jwks, { issuer: server.config.issuer, audience: confidential.id });
    assert.equal(id.payload.sub, user.id);
    assert.equal(id.payload.nonce, 'n-123');
    assert.equal(id.payload.email, 'alice@example.com');
    assert.equal(id.payload.preferred_username, 'alice');
    assert.deepEqual(id.payload.amr, ['pwd']);
    assert.equal(typeof id.payload.auth_time, 'number');
    assert.equal(typeof id.payload.sid, 'string');
    const access = await jwtVerify(body.access_token, jwks, { issuer: server.config.issuer, audience: confidential.audience });
    assert.equal(access.payload.token_type, 'access');
    assert.equal(access.payload.sub, user.id);
  });

  test('a public client with PKCE, by client_id alone; without openid no ID token, without offline_access no refresh token', async () => {
    const { verifier, challenge } = pkce();
    const res = await exchange(publicClient, await code(publicClient, { challenge, scopes: ['email'] }), {
      client_id: publicClient.id,
      code_verifier: verifier,
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = await json(res);
    assert.equal(body.id_token, undefined);
    assert.equal(body.refresh_token, undefined);
    assert.equal(body.scope, 'email');
  });

  test("refusals: wrong or missing verifier, wrong redirect URI, another client's code, unknown code, wrong secret", async () => {
    const { verifier, challenge } = pkce();
    const cases: [string, Promise<Response>][] = [
      ['wrong verifier', exchange(confidential, await code(confidential, { challenge }), { code_verifier: pkce().verifier })],
      ['missing verifier', exchange(confidential, await code(confidential, { challenge }))],
      ['verifier for a code without challenge', exchange(confidential, await code(confidential), { code_verifier: verifier })],
      [
        'wrong redirect_uri',
        token({ grant_type: 'authorization_code', code: await code(confidential), redirect_uri: 'https://rp.example/other' }, confidential),
      ],
      ["another client's code", exchange(other, await code(confidential))],
      ['unknown code', exchange(confidential, randomBytes(32).toString('base64url'))],
      ['public client without PKCE', exchange(publicClient, await code(publicClient), { client_id: publicClient.id })],
    ];
    for (const [name, pending] of cases) {
      const res = await pending;
      assert.equal(res.status, 400, name);
      assert.equal((await json(res)).error, 'invalid_grant', name);
    }
    const wrongSecret = await exchange({ ...confidential, secret: 'nope' }, await code(confidential, { challenge }), {
      code_verifier: verifier,
    });
    assert.equal(wrongSecret.status, 401);
    assert.equal((await json(wrongSecret)).error, 'invalid_client');
    const noSecret = await token({
      grant_type: 'authorization_code',
      code: await code(confidential),
      redirect_uri: redirectUri,
      client_id: confidential.id,
    });
    assert.equal(noSecret.status, 401);
  });

  test('a replayed code is refused and revokes what its first exchange issued', async () => {
    const c = await code(confidential);
    const first = await json(await exchange(confidential, c));
    assert.equal((await server.rest('/oidc/userinfo', { token: first.access_token })).status, 200);
    const again = await exchange(confidential, c);
    assert.equal(again.status, 400);
    assert.equal((await json(again)).error, 'invalid_grant');
    assert.equal((await server.rest('/oidc/userinfo', { token: first.access_token })).status, 401);
    const refresh = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, confidential);
    assert.equal(refresh.status, 400);
  });

  test('an expired code is refused', async () => {
    const c = await code(confidential);
    await db().query(`UPDATE oidc_codes SET expires_at = now() - interval '1 second' WHERE code_hash = $1`, [sha256Hex(c)]);
    const res = await exchange(confidential, c);
    assert.equal(res.status, 400);
    assert.equal((await json(res)).error, 'invalid_grant');
  });

  test('a code from an SSO session that has ended is refused', async () => {
    const session = await browserSession();
    const c = await code(confidential, { session });
    await server
      .client((await import('../../gen/sso/auth/v1/auth_service_pb.js')).AuthService, { token: user.token })
      .deleteSession({ id: session });
    assert.equal((await exchange(confidential, c)).status, 400);
  });
});

describe('refresh, revocation, introspection and UserInfo', () => {
  test("the refresh token rotates for its client only; another client or the API's /auth/refresh cannot use it", async () => {
    const first = await json(await exchange(confidential, await code(confidential)));
    const byOther = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, other);
    assert.equal(byOther.status, 400);
    const anonymous = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    assert.equal(anonymous.status, 401);
    const viaApi = await server.rest('/api/sso/v1/auth/refresh', { method: 'POST', json: { refresh_token: first.refresh_token } });
    assert.equal(viaApi.status, 401);
    const next = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, confidential);
    assert.equal(next.status, 200, await next.clone().text());
    const body = await json(next);
    assert.equal(body.scope, 'openid email profile offline_access');
    assert.notEqual(body.refresh_token, first.refresh_token);
    assert.equal(decodeJwt(body.access_token).aud, confidential.audience);
  });

  test("introspection: active for the client's own live token, inactive for others, after revocation, and for a retired refresh token", async () => {
    const issued = await json(await exchange(confidential, await code(confidential)));
    const introspect = (t: string, client: TestClient) => server.rest('/oauth/introspect', form({ token: t }, client));
    const active = await json(await introspect(issued.access_token, confidential));
    assert.equal(active.active, true);
    assert.equal(active.client_id, confidential.id);
    assert.equal(active.sub, user.id);
    assert.equal(active.token_type, 'access_token');
    assert.equal(active.username, 'alice@example.com');
    assert.equal(typeof active.exp, 'number');
    assert.deepEqual(await json(await introspect(issued.access_token, other)), { active: false });
    assert.deepEqual(await json(await introspect('not a token', confidential)), { active: false });
    assert.deepEqual(await json(await introspect(user.token, confidential)), { active: false }, "an API login is no client's");
    assert.equal((await json(await introspect(issued.refresh_token, confidential))).token_type, 'refresh_token');
    const publicAsks = await server.rest('/oauth/introspect', form({ token: issued.access_token, client_id: publicClient.id }));
    assert.equal(publicAsks.status, 401);

    const rotated = await json(await token({ grant_type: 'refresh_token', refresh_token: issued.refresh_token }, confidential));
    assert.deepEqual(await json(await introspect(issued.refresh_token, confidential)), { active: false });
    const revoke = await server.rest(
      '/oauth/revoke',
      form({ token: rotated.refresh_token, token_type_hint: 'refresh_token' }, confidential),
    );
    assert.equal(revoke.status, 200);
    assert.deepEqual(await json(await introspect(rotated.access_token, confidential)), { active: false });
    assert.equal((await server.rest('/oidc/userinfo', { token: rotated.access_token })).status, 401);
  });

  test("revocation: another client's token is left alone (and answered alike), a bad client is refused", async () => {
    const issued = await json(await exchange(confidential, await code(confidential)));
    const foreign = await server.rest('/oauth/revoke', form({ token: issued.access_token }, other));
    assert.equal(foreign.status, 200);
    assert.equal((await server.rest('/oidc/userinfo', { token: issued.access_token })).status, 200);
    const unknown = await server.rest('/oauth/revoke', form({ token: 'garbage' }, confidential));
    assert.equal(unknown.status, 200);
    const badClient = await server.rest('/oauth/revoke', form({ token: issued.access_token }, { ...confidential, secret: 'wrong' }));
    assert.equal(badClient.status, 401);
    assert.equal((await json(badClient)).error, 'invalid_client');
    assert.equal((await server.rest('/oauth/revoke', form({ token: issued.access_token }, confidential))).status, 200);
    assert.equal((await server.rest('/oidc/userinfo', { token: issued.access_token })).status, 401);
  });

  test('UserInfo releases what the scopes allow, on GET and POST; the app token is for nothing else at the SSO', async () => {
    const withEmail = await json(await exchange(confidential, await code(confidential, { scopes: ['openid', 'email'] })));
    const info = await json(await server.rest('/oidc/userinfo', { token: withEmail.access_token }));
    assert.deepEqual(info, { sub: user.id, email: 'alice@example.com', email_verified: false });
    const posted = await server.rest('/oidc/userinfo', { method: 'POST', token: withEmail.access_token, json: {} });
    assert.deepEqual(await json(posted), info);
    const onlyOpenid = await json(await exchange(confidential, await code(confidential, { scopes: ['openid'] })));
    assert.deepEqual(await json(await server.rest('/oidc/userinfo', { token: onlyOpenid.access_token })), { sub: user.id });
    assert.equal((await server.rest('/api/sso/v1/me', { token: withEmail.access_token })).status, 401);
    assert.equal((await server.rest('/oidc/userinfo')).status, 401);
  });
});

describe('discovery', () => {
  test('lists every endpoint and capability, and every endpoint answers', async () => {
    const doc = await json(await server.rest('/.well-known/openid-configuration'));
    assert.deepEqual(doc.response_types_supported, ['code']);
    assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
    assert.ok(doc.grant_types_supported.includes('authorization_code'));
    assert.equal(doc.authorization_response_iss_parameter_supported, true);
    for (const name of ['token_endpoint', 'userinfo_endpoint', 'revocation_endpoint', 'introspection_endpoint', 'jwks_uri']) {
      // The test server's issuer names port 0 (see test/support/server.ts): ask the real address.
      const res = await fetch(server.url + new URL(doc[name]).pathname, {
        method: name === 'jwks_uri' || name === 'userinfo_endpoint' ? 'GET' : 'POST',
      });
      assert.notEqual(res.status, 404, name);
      assert.ok(res.status < 500, name);
    }
  });
});
