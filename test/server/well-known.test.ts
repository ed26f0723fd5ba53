import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, test } from 'node:test';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { startTestServer, type TestServer } from '../support/server.js';

const issuer = 'https://sso.example.test';
/** Members only a private key has (EC/OKP `d`; RSA `d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`; symmetric `k`). */
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

let server: TestServer;
let accessToken: string;

before(async () => {
  // A public issuer that differs from the listening address, as behind a proxy.
  server = await startTestServer({ issuer });
  const res = await server.rest('/api/sso/v1/auth/login', {
    method: 'POST',
    json: { identifier: 'jwks@example.com', secret: 'jwks-password-1', register: true },
  });
  assert.equal(res.status, 200);
  accessToken = ((await res.json()) as { access_token: string }).access_token;
});

after(async () => {
  await server?.stop();
});

async function jwks(path = '/.well-known/jwks.json'): Promise<{ keys: JWK[] }> {
  const res = await fetch(server.url + path);
  assert.equal(res.status, 200, path);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return res.json() as Promise<{ keys: JWK[] }>;
}

test('JWKS: every key has kid, alg, use "sig" and only public members', async () => {
  const { keys } = await jwks();
  assert.ok(keys.length >= 1);
  for (const key of keys) {
    assert.equal(typeof key.kid, 'string');
    assert.ok(key.kid!.length > 0);
    assert.equal(key.alg, 'ES256');
    assert.equal(key.use, 'sig');
    assert.equal(key.kty, 'EC');
    assert.equal(key.crv, 'P-256');
    for (const member of privateMembers) assert.equal(member in key, false, `JWKS key ${key.kid} exposes "${member}"`);
    // It really is a usable public key.
    const imported = await importJWK(key, key.alg);
    assert.equal((imported as CryptoKey).type, 'public');
  }
  assert.equal(new Set(keys.map((k) => k.kid)).size, keys.length, 'kids are unique');
});

test('JWKS ignores the query string (?domain=)', async () => {
  const plain = await jwks();
  assert.deepEqual(await jwks('/.well-known/jwks.json?domain=x'), plain);
  assert.deepEqual(await jwks('/.well-known/jwks.json?domain=app.example.com&x=1'), plain);
});

test('JWKS is cacheable only briefly, so rotations are seen in time', async () => {
  const res = await fetch(`${server.url}/.well-known/jwks.json`);
  const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
  assert.ok(maxAge > 0 && maxAge <= 300, `cache-control: ${res.headers.get('cache-control')}`);
});

test('JWKS over HTTP/2', async () => {
  const session = http2.connect(server.url);
  try {
    const text = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ':method': 'GET', ':path': '/.well-known/jwks.json?domain=x' });
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve(Buffer.concat(chunks).toString()));
      stream.on('error', reject);
    });
    assert.deepEqual(JSON.parse(text), await jwks());
  } finally {
    session.close();
  }
});

test('an issued token names a published kid and verifies against the JWKS (jose)', async () => {
  const header = decodeProtectedHeader(accessToken);
  assert.equal(header.alg, 'ES256');
  assert.equal(header.typ, 'JWT');
  const { keys } = await jwks();
  assert.ok(
    keys.some((k) => k.kid === header.kid),
    `kid ${header.kid} not in the JWKS`,
  );
  const { payload } = await jwtVerify(accessToken, createLocalJWKSet({ keys }), { issuer, audience: 'sso' });
  assert.equal(payload.iss, issuer);
  assert.equal(typeof payload.aud, 'string');
  // Fetched remotely too, as relying apps do (from the listening address: the issuer is only a name here).
  const remote = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
  await jwtVerify(accessToken, remote, { issuer, audience: 'sso' });
});

test('OpenID discovery: issuer, jwks_uri, token_endpoint and the real algorithm', async () => {
  const res = await fetch(`${server.url}/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const doc = (await res.json()) as Record<string, unknown>;
  assert.equal(doc.issuer, issuer);
  assert.equal(doc.jwks_uri, `${issuer}/.well-known/jwks.json`);
  assert.equal(typeof doc.token_endpoint, 'string', 'openid-client and oauth4webapi read token_endpoint');
  assert.ok(String(doc.token_endpoint).startsWith(`${issuer}/`), String(doc.token_endpoint));
  assert.deepEqual(doc.id_token_signing_alg_values_supported, ['ES256']);
  for (const name of ['response_types_supported', 'subject_types_supported']) {
    assert.ok(Array.isArray(doc[name]) && (doc[name] as unknown[]).length > 0, `${name} is required by OpenID discovery`);
  }
  // The token endpoint it names exists and speaks OAuth (RFC 6749 5.2), not a 404 or a 5xx.
  const tokenPath = new URL(String(doc.token_endpoint)).pathname;
  const postForm = (body: string) =>
    fetch(server.url + tokenPath, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
  const noGrant = await postForm('client_id=nobody&client_secret=wrong');
  assert.equal(noGrant.status, 400, await noGrant.clone().text());
  assert.equal(((await noGrant.json()) as { error: string }).error, 'invalid_request');
  const badClient = await postForm('grant_type=client_credentials&client_id=nobody&client_secret=wrong');
  assert.equal(badClient.status, 401, await badClient.clone().text());
  assert.equal(((await badClient.json()) as { error: string }).error, 'invalid_client');
});

test('discovery ignores the query string too', async () => {
  const a = await (await fetch(`${server.url}/.well-known/openid-configuration`)).json();
  const b = await (await fetch(`${server.url}/.well-known/openid-configuration?x=1`)).json();
  assert.deepEqual(b, a);
});
