// Access tokens as relying apps see them: exact header and claims, the audience rule, and
// verification through the JWKS with jose and with the seed's jsonwebtoken + jwks-rsa snippet.
// Forged, tampered and expired tokens are refused by those libraries and by the server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import jwt from 'jsonwebtoken';
import { signJwt } from '../../src/auth/index.js';
import { seedExpressVerifier } from '../support/seed-express-verifier.js';
import { startTestServer, type TestServer } from '../support/server.js';

const USER = { identifier: 'user@example.com', secret: 'SecurePassword123!' };
const CLAIM_KEYS = ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'token_type', 'session_id', 'roles', 'scopes', 'amr'];

function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  const part = token.split('.')[index]!;
  assert.match(part, /^[A-Za-z0-9_-]+$/, 'base64url without padding');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

function encodePart(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function login(server: TestServer, body: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: body });
  return { status: res.status, body: await res.json() };
}

async function registerAndLogin(server: TestServer, extra: Record<string, unknown> = {}): Promise<any> {
  const first = await login(server, { ...USER, register: true });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  if (Object.keys(extra).length === 0) return first.body;
  const r = await login(server, { ...USER, ...extra });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

const expressVerifier = seedExpressVerifier;

async function meStatus(server: TestServer, token: string): Promise<{ status: number; body: any }> {
  const res = await server.rest('/api/sso/v1/me', { token });
  return { status: res.status, body: await res.json() };
}

describe('access tokens (ES256, the default)', () => {
  let server: TestServer;
  let session: any;
  let header: Record<string, unknown>;
  let payload: Record<string, any>;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  let verifyExpress: ReturnType<typeof expressVerifier>;

  before(async () => {
    server = await startTestServer();
    session = await registerAndLogin(server);
    header = decodePart(session.access_token, 0);
    payload = decodePart(session.access_token, 1);
    jwks = createRemoteJWKSet(new URL(server.url + '/.well-known/jwks.json'));
    verifyExpress = expressVerifier(server.url + '/.well-known/jwks.json', 'sso', server.config.issuer);
  });
  after(async () => {
    await server?.stop();
  });

  test('header is exactly {alg: ES256, typ: JWT, kid}', async () => {
    assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid', 'typ']);
    assert.equal(header.alg, 'ES256');
    assert.equal(header.typ, 'JWT');
    assert.equal(typeof header.kid, 'string');
    const published = await (await fetch(server.url + '/.well-known/jwks.json')).json();
    const key = published.keys.find((k: any) => k.kid === header.kid);
    assert.ok(key, 'the kid is published');
    assert.equal(key.alg, 'ES256');
    assert.equal(key.use, 'sig');
    assert.equal(key.kty, 'EC');
    assert.equal(key.crv, 'P-256');
    assert.ok(!('d' in key), 'no private member in the JWKS');
  });

  test('payload has exactly the contract claims', () => {
    assert.deepEqual(Object.keys(payload).sort(), [...CLAIM_KEYS].sort());
    assert.equal(payload.iss, server.config.issuer);
    assert.equal(payload.sub, session.user.id);
    assert.equal(typeof payload.aud, 'string');
    assert.equal(payload.aud, 'sso');
    assert.equal(payload.token_type, 'access');
    assert.equal(payload.session_id, session.session_id);
    assert.ok(Array.isArray(payload.roles));
    assert.ok(Array.isArray(payload.scopes));
    assert.deepEqual(payload.amr, ['password']);
    for (const k of ['iat', 'nbf', 'exp']) assert.ok(Number.isInteger(payload[k]), k);
    assert.equal(payload.exp - payload.iat, 900);
    assert.ok(payload.nbf <= payload.iat);
    assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 60);
    assert.equal(typeof payload.jti, 'string');
    assert.ok(payload.jti.length >= 16);
  });

  test('the refresh token is a JWT too, token_type refresh, same key', () => {
    const h = decodePart(session.refresh_token, 0);
    const p = decodePart(session.refresh_token, 1);
    assert.equal(h.kid, header.kid);
    assert.equal(h.alg, 'ES256');
    assert.equal(p.token_type, 'refresh');
    assert.equal(p.session_id, session.session_id);
    assert.equal(p.sub, session.user.id);
    assert.notEqual(p.jti, payload.jti);
  });

  test('jose verifies it through the JWKS (issuer, audience)', async () => {
    const { payload: verified, protectedHeader } = await jwtVerify(session.access_token, jwks, {
      issuer: server.config.issuer,
      audience: 'sso',
    });
    assert.equal(verified.sub, session.user.id);
    assert.equal(protectedHeader.kid, header.kid);
    await assert.rejects(jwtVerify(session.access_token, jwks, { issuer: server.config.issuer, audience: 'your-app' }), {
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
    await assert.rejects(jwtVerify(session.access_token, jwks, { issuer: 'http://evil.example', audience: 'sso' }), {
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
  });

  test("jsonwebtoken + jwks-rsa verify it as the seed's Express snippet does", async () => {
    const { err, decoded } = await verifyExpress(session.access_token);
    assert.equal(err, null);
    assert.equal(decoded.sub, session.user.id);
    assert.deepEqual(decoded.roles, []);
    const wrongAud = await expressVerifier(server.url + '/.well-known/jwks.json', 'your-app', server.config.issuer)(session.access_token);
    assert.ok(wrongAud.err instanceof jwt.JsonWebTokenError);
    assert.match(wrongAud.err.message, /audience/);
  });

  test('a tampered token (payload changed) is rejected by jose, jsonwebtoken and the server', async () => {
    const [h, , s] = session.access_token.split('.');
    const forged = `${h}.${encodePart({ ...payload, roles: ['admin'], scopes: ['*'] })}.${s}`;
    await assert.rejects(jwtVerify(forged, jwks, { issuer: server.config.issuer, audience: 'sso' }), {
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
    const { err } = await verifyExpress(forged);
    assert.ok(err instanceof jwt.JsonWebTokenError);
    assert.match(err.message, /invalid signature/);
    const me = await meStatus(server, forged);
    assert.equal(me.status, 401);
    assert.equal(me.body.error_code, 'INVALID_TOKEN');
    const verify = await server.rest('/api/sso/v1/auth/verify-token', { method: 'POST', json: { token: forged } });
    assert.equal(verify.status, 401);
    assert.equal((await verify.json()).error_code, 'INVALID_TOKEN');
  });

  test('a token signed by a foreign ES256 key with the same kid is rejected by all three', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ ...payload })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: header.kid as string })
      .sign(privateKey);
    assert.equal(decodePart(forged, 0).kid, header.kid);
    await assert.rejects(jwtVerify(forged, jwks, { issuer: server.config.issuer, audience: 'sso' }), {
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
    const { err } = await verifyExpress(forged);
    assert.ok(err instanceof jwt.JsonWebTokenError);
    assert.match(err.message, /invalid signature/);
    const me = await meStatus(server, forged);
    assert.equal(me.status, 401);
    assert.equal(me.body.error_code, 'INVALID_TOKEN');
    // ... and one with an unknown kid too.
    const unknownKid = await new SignJWT({ ...payload })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'no-such-kid' })
      .sign(privateKey);
    assert.equal((await meStatus(server, unknownKid)).status, 401);
    // `alg: none` with the real claims.
    const none = `${encodePart({ alg: 'none', typ: 'JWT', kid: header.kid })}.${encodePart(payload)}.`;
    assert.equal((await meStatus(server, none)).status, 401);
    // The foreign public key is not what the JWKS serves.
    const published = await (await fetch(server.url + '/.well-known/jwks.json')).json();
    const foreignPublic = await exportJWK(publicKey);
    assert.ok(!published.keys.some((k: any) => k.x === foreignPublic.x));
  });

  test("an expired token signed with the server's own key: 401 TOKEN_EXPIRED on /me and on verify-token", async () => {
    const key = await server.app.keys.signingKey();
    assert.equal(key.kid, header.kid);
    const now = Math.floor(Date.now() / 1000);
    // Control: the same construction with a future exp is accepted, so the refusal below is the expiry.
    const good = await signJwt({ ...payload, jti: 'control-jti', iat: now, nbf: now, exp: now + 300 }, key);
    assert.equal((await meStatus(server, good)).status, 200);

    const expired = await signJwt({ ...payload, jti: 'expired-jti', iat: now - 3600, nbf: now - 3600, exp: now - 600 }, key);
    const me = await meStatus(server, expired);
    assert.equal(me.status, 401);
    assert.equal(me.body.code, 'unauthenticated');
    assert.equal(me.body.error_code, 'TOKEN_EXPIRED');
    const verify = await server.rest('/api/sso/v1/auth/verify-token', { method: 'POST', json: { token: expired } });
    assert.equal(verify.status, 401);
    assert.equal((await verify.json()).error_code, 'TOKEN_EXPIRED');
    await assert.rejects(jwtVerify(expired, jwks, { issuer: server.config.issuer, audience: 'sso' }), { code: 'ERR_JWT_EXPIRED' });
    const { err } = await verifyExpress(expired);
    assert.ok(err instanceof jwt.TokenExpiredError);
  });

  test('VerifyToken returns the claims (snake_case, exp a number) of a good token', async () => {
    const res = await server.rest('/api/sso/v1/auth/verify-token', { method: 'POST', json: { token: session.access_token } });
    assert.equal(res.status, 200);
    const claims = await res.json();
    assert.equal(claims.iss, payload.iss);
    assert.equal(claims.sub, payload.sub);
    assert.equal(claims.aud, 'sso');
    assert.equal(typeof claims.exp, 'number');
    assert.equal(claims.exp, payload.exp);
    assert.equal(claims.iat, payload.iat);
    assert.equal(claims.nbf, payload.nbf);
    assert.equal(claims.jti, payload.jti);
    assert.equal(claims.token_type, 'access');
    assert.equal(claims.session_id, session.session_id);
    assert.deepEqual(claims.roles, payload.roles);
    assert.deepEqual(claims.scopes, payload.scopes);
    assert.deepEqual(claims.amr, ['password']);
    assert.equal(claims.user_id, session.user.id);
    assert.equal(claims.is_admin, true);
    for (const k of ['tokenType', 'sessionId', 'isAdmin', 'userId']) assert.ok(!(k in claims), k);
  });

  test('VerifyToken: 401 for a bad token and 401 after logout', async () => {
    for (const token of ['garbage', 'a.b.c', session.refresh_token]) {
      const res = await server.rest('/api/sso/v1/auth/verify-token', { method: 'POST', json: { token } });
      assert.equal(res.status, 401, token);
      assert.equal((await res.json()).code, 'unauthenticated');
    }
    const other = await login(server, USER);
    assert.equal(other.status, 200);
    const ok = await server.rest('/api/sso/v1/auth/verify-token', { method: 'POST', json: { token: other.body.access_token } });
    assert.equal(ok.status, 200);
    const out = await server.rest('/api/sso/v1/auth/logout', { method: 'POST', token: other.body.access_token });
    assert.equal(out.status, 200);
    const res = await server.rest('/api/sso/v1/auth/verify-token', { method: 'POST', json: { token: other.body.access_token } });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error_code, 'SESSION_REVOKED');
    // Offline verifiers still accept it until exp: that is the contract.
    await jwtVerify(other.body.access_token, jwks, { issuer: server.config.issuer, audience: 'sso' });
  });

  test('an audience that is neither registered nor allowed is 400 INVALID_AUDIENCE', async () => {
    const r = await login(server, { ...USER, audience: 'your-app' });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'invalid_argument');
    assert.equal(r.body.error_code, 'INVALID_AUDIENCE');
    // Naming the default audience is fine.
    const d = await login(server, { ...USER, audience: 'sso' });
    assert.equal(d.status, 200);
    assert.equal(decodePart(d.body.access_token, 1).aud, 'sso');
  });

  test('workspace_id appears only when a workspace is selected: selecting one the user is not in is refused', async () => {
    const r = await login(server, { ...USER, workspace_id: '00000000-0000-4000-8000-000000000000' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error_code, 'NOT_A_WORKSPACE_MEMBER');
    const bad = await login(server, { ...USER, workspace_id: 'not-a-uuid' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'INVALID_ID');
    const none = await login(server, { ...USER, workspace_id: '' });
    assert.equal(none.status, 200);
    assert.ok(!('workspace_id' in decodePart(none.body.access_token, 1)));
  });
});

describe('a relying app configured as in the seed (audience "your-app", issuer http://localhost:8000)', () => {
  let server: TestServer;
  let session: any;

  before(async () => {
    server = await startTestServer({ allowedAudiences: ['your-app'], issuer: 'http://localhost:8000' });
    session = await registerAndLogin(server, { audience: 'your-app' });
  });
  after(async () => {
    await server?.stop();
  });

  test('the token\'s aud is the one string "your-app"', () => {
    const p = decodePart(session.access_token, 1);
    assert.equal(p.aud, 'your-app');
    assert.equal(p.iss, 'http://localhost:8000');
    assert.deepEqual(Object.keys(p).sort(), [...CLAIM_KEYS].sort());
  });

  test("the seed's Express snippet accepts it (audience your-app, issuer http://localhost:8000)", async () => {
    const verify = expressVerifier(server.url + '/.well-known/jwks.json', 'your-app', 'http://localhost:8000');
    const { err, decoded } = await verify(session.access_token);
    assert.equal(err, null);
    assert.equal(decoded.sub, session.user.id);
    assert.equal(decoded.aud, 'your-app');
    assert.ok(Array.isArray(decoded.roles));
  });

  test("jose accepts it; the SSO's own API refuses it (a token is for its audience only, issue 9)", async () => {
    const jwks = createRemoteJWKSet(new URL(server.url + '/.well-known/jwks.json'));
    const { payload } = await jwtVerify(session.access_token, jwks, { issuer: 'http://localhost:8000', audience: 'your-app' });
    assert.equal(payload.sub, session.user.id);
    const me = await meStatus(server, session.access_token);
    assert.equal(me.status, 401);
    assert.equal(me.body.error_code, 'WRONG_AUDIENCE');
    const verified = await server.rest('/api/sso/v1/auth/verify-token', { method: 'POST', json: { token: session.access_token } });
    assert.equal(verified.status, 200, 'the app can still check it online');
  });

  test("the refreshed token keeps the session's audience", async () => {
    const res = await server.rest('/api/sso/v1/auth/refresh', { method: 'POST', json: { refresh_token: session.refresh_token } });
    assert.equal(res.status, 200);
    assert.equal(decodePart((await res.json()).access_token, 1).aud, 'your-app');
  });
});

for (const alg of ['RS256', 'EdDSA'] as const) {
  describe(`a server configured with jwtAlg ${alg}`, () => {
    let server: TestServer;
    let session: any;

    before(async () => {
      server = await startTestServer({ jwtAlg: alg });
      session = await registerAndLogin(server);
    });
    after(async () => {
      await server?.stop();
    });

    test('login, JWKS, jose verification, /me and VerifyToken', async () => {
      const h = decodePart(session.access_token, 0);
      assert.deepEqual(h, { alg, typ: 'JWT', kid: h.kid });
      assert.equal(typeof h.kid, 'string');
      const published = await (await fetch(server.url + '/.well-known/jwks.json')).json();
      const key = published.keys.find((k: any) => k.kid === h.kid);
      assert.ok(key);
      assert.equal(key.alg, alg);
      assert.equal(key.use, 'sig');
      assert.equal(key.kty, alg === 'RS256' ? 'RSA' : 'OKP');
      assert.ok(!('d' in key));
      const discovery = await (await fetch(server.url + '/.well-known/openid-configuration')).json();
      assert.deepEqual(discovery.id_token_signing_alg_values_supported, [alg]);

      const jwks = createRemoteJWKSet(new URL(server.url + '/.well-known/jwks.json'));
      const { payload, protectedHeader } = await jwtVerify(session.access_token, jwks, { issuer: server.config.issuer, audience: 'sso' });
      assert.equal(protectedHeader.alg, alg);
      assert.equal(payload.sub, session.user.id);
      assert.deepEqual(Object.keys(payload).sort(), [...CLAIM_KEYS].sort());

      assert.equal((await meStatus(server, session.access_token)).status, 200);
      const v = await server.rest('/api/sso/v1/auth/verify-token', { method: 'POST', json: { token: session.access_token } });
      assert.equal(v.status, 200);
      assert.equal((await v.json()).sub, session.user.id);

      const r = await server.rest('/api/sso/v1/auth/refresh', { method: 'POST', json: { refresh_token: session.refresh_token } });
      assert.equal(r.status, 200);
      const refreshed = await r.json();
      assert.equal(decodePart(refreshed.access_token, 0).alg, alg);
      await jwtVerify(refreshed.access_token, jwks, { issuer: server.config.issuer, audience: 'sso' });

      // A tampered token fails here too.
      const [hh, , s] = session.access_token.split('.');
      const forged = `${hh}.${encodePart({ ...payload, sub: '00000000-0000-4000-8000-000000000000' })}.${s}`;
      await assert.rejects(jwtVerify(forged, jwks, { issuer: server.config.issuer, audience: 'sso' }), {
        code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      });
      assert.equal((await meStatus(server, forged)).status, 401);
    });

    if (alg === 'RS256') {
      test("the seed's Express snippet (jsonwebtoken + jwks-rsa, rsaPublicKey) accepts RS256 tokens", async () => {
        const { err, decoded } = await expressVerifier(
          server.url + '/.well-known/jwks.json',
          'sso',
          server.config.issuer,
        )(session.access_token);
        assert.equal(err, null);
        assert.equal(decoded.sub, session.user.id);
      });
    }
  });
}
