// The Express example (examples/express): its protected routes accept a token the server issued
// and refuse a missing, tampered, forged or misdirected one; `/protected` verifies with
// jsonwebtoken + jwks-rsa exactly as the seed's snippet, `/protected-jose` with jose's
// createRemoteJWKSet. Both fetch the JWKS from the running server.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { createProtectedApp } from '../../examples/express/app.js';
import { startTestServer, type TestServer } from '../support/server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The seed's configuration: issuer http://localhost:8000, audience your-app.
const issuer = 'http://localhost:8000';
const audience = 'your-app';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const payloadOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

async function get(url: string, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json() };
}

for (const alg of ['ES256', 'RS256'] as const) {
  describe(`examples/express with ${alg} tokens`, () => {
    let sso: TestServer;
    let app: Server;
    let appUrl = '';
    let token = '';
    let userId = '';

    before(async () => {
      sso = await startTestServer({ issuer, allowedAudiences: [audience], jwtAlg: alg });
      const login = await sso.rest('/api/sso/v1/auth/login', {
        method: 'POST',
        json: { identifier: 'user@example.com', secret: 'SecurePassword123!', register: true, audience },
      });
      assert.equal(login.status, 200);
      const data = (await login.json()) as { access_token: string; user: { id: string } };
      token = data.access_token;
      userId = data.user.id;
      const protectedApp = createProtectedApp({ jwksUri: `${sso.url}/.well-known/jwks.json`, issuer, audience });
      app = await new Promise<Server>((resolve) => {
        const s = protectedApp.listen(0, '127.0.0.1', () => resolve(s));
      });
      appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    });
    after(async () => {
      app?.closeAllConnections();
      await new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)));
      await sso?.stop();
    });

    test('the token is what the snippet expects: alg, kid, iss, aud', () => {
      const header = decodeProtectedHeader(token);
      assert.equal(header.alg, alg);
      assert.equal(typeof header.kid, 'string');
      const claims = payloadOf(token);
      assert.equal(claims.iss, issuer);
      assert.equal(claims.aud, audience);
      assert.equal(claims.sub, userId);
    });

    for (const route of ['/protected', '/protected-jose']) {
      test(`${route}: a server-issued token is accepted`, async () => {
        const res = await get(appUrl + route, token);
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { message: 'Access granted', user_id: userId, roles: [] });
      });

      test(`${route}: no token → 401 "No token provided"`, async () => {
        const res = await get(appUrl + route);
        assert.equal(res.status, 401);
        assert.deepEqual(res.body, { error: 'No token provided' });
      });

      test(`${route}: a tampered token (claims changed, signature kept) → 401`, async () => {
        const [h, , s] = token.split('.');
        const forgedClaims = { ...payloadOf(token), roles: ['admin'], sub: '00000000-0000-4000-8000-000000000000' };
        const res = await get(appUrl + route, `${h}.${b64url(forgedClaims)}.${s}`);
        assert.equal(res.status, 401);
        assert.deepEqual(res.body, { error: 'Invalid token' });
      });

      test(`${route}: a damaged signature → 401`, async () => {
        const [h, p, s] = token.split('.');
        const flipped = Buffer.from(s!, 'base64url');
        flipped[10] = flipped[10]! ^ 0xff;
        const res = await get(appUrl + route, `${h}.${p}.${flipped.toString('base64url')}`);
        assert.equal(res.status, 401);
      });

      test(`${route}: a token signed by another key under the server's kid → 401`, async () => {
        const { kid } = decodeProtectedHeader(token);
        const { privateKey } = await generateKeyPair(alg);
        const forged = await new SignJWT(payloadOf(token)).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(privateKey);
        const res = await get(appUrl + route, forged);
        assert.equal(res.status, 401);
      });

      test(`${route}: an unknown kid → 401, and the app keeps serving`, async () => {
        const { privateKey } = await generateKeyPair(alg);
        const forged = await new SignJWT(payloadOf(token))
          .setProtectedHeader({ alg, kid: 'not-a-server-kid', typ: 'JWT' })
          .sign(privateKey);
        assert.equal((await get(appUrl + route, forged)).status, 401);
        assert.equal((await get(appUrl + route, token)).status, 200);
      });

      test(`${route}: a token for another audience → 401`, async () => {
        const login = await sso.rest('/api/sso/v1/auth/login', {
          method: 'POST',
          json: { identifier: 'user@example.com', secret: 'SecurePassword123!' },
        });
        const other = ((await login.json()) as { access_token: string }).access_token;
        assert.equal(payloadOf(other).aud, 'sso');
        assert.equal((await get(appUrl + route, other)).status, 401);
      });
    }
  });
}

describe('examples/express runs with one command (npx tsx examples/express/main.ts)', () => {
  let sso: TestServer;
  let child: ChildProcess | undefined;

  before(async () => {
    sso = await startTestServer({ issuer, allowedAudiences: [audience] });
  });
  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await sso?.stop();
  });

  test('it listens, and its /protected route accepts the server-issued token', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'examples/express/main.ts'], {
      cwd: root,
      env: { ...process.env, SSO_URL: sso.url, SSO_ISSUER: issuer, AUDIENCE: audience, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c;
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no "listening" line in 60 s: ${out} ${stderr}`)), 60_000);
      child!.stdout!.on('data', (c: Buffer) => {
        out += c;
        const m = /listening on (http:\/\/[^\s]+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child!.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code}: ${stderr}`));
      });
    });
    const login = await sso.rest('/api/sso/v1/auth/login', {
      method: 'POST',
      json: { identifier: 'user@example.com', secret: 'SecurePassword123!', register: true, audience },
    });
    const token = ((await login.json()) as { access_token: string }).access_token;
    const ok = await get(`${url}/protected`, token);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.message, 'Access granted');
    assert.equal((await get(`${url}/protected`)).status, 401);
  });
});
