import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSigningKey, importSigningKey, importVerifyKey, type KeyLike } from '../../src/auth/signing-keys.js';
import { TokenError, newTokenId, remembersToken, signJwt, verifyJwt } from '../../src/auth/tokens.js';

// verifyJwt remembers signatures it has verified (src/auth/verified-tokens.ts). A remembered
// token must be refused exactly when a fresh verification would refuse it.

const ISSUER = 'https://sso.example.test';

async function setup() {
  const gen = await generateSigningKey('ES256');
  const signing = { kid: gen.kid, alg: 'ES256' as const, privateKey: await importSigningKey(gen.privateJwk, 'ES256') };
  const keys = new Map<string, KeyLike>([[gen.kid, await importVerifyKey(gen.publicJwk, 'ES256')]]);
  const opts = { resolveKey: async (kid: string) => keys.get(kid), issuer: ISSUER, algorithms: ['ES256' as const] };
  return { gen, signing, keys, opts };
}

function claims(extra: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, sub: 'user-1', aud: 'sso', iat: now, exp: now + 300, jti: newTokenId(), scopes: ['read:users'], ...extra };
}

const reason = (r: TokenError['reason']) => (e: unknown) => e instanceof TokenError && e.reason === r;

test('a remembered token is refused once its key is gone', async () => {
  const { gen, signing, keys, opts } = await setup();
  const token = await signJwt(claims(), signing);
  await verifyJwt(token, opts);
  await verifyJwt(token, opts);
  keys.delete(gen.kid);
  await assert.rejects(verifyJwt(token, opts), reason('unknown_key'));
});

test('a remembered token is verified again when its kid now names another key', async () => {
  const { gen, signing, keys, opts } = await setup();
  const token = await signJwt(claims(), signing);
  await verifyJwt(token, opts);
  const other = await generateSigningKey('ES256');
  keys.set(gen.kid, await importVerifyKey(other.publicJwk, 'ES256'));
  await assert.rejects(verifyJwt(token, opts), reason('invalid'));
});

test('a remembered token expires on time', async () => {
  const { signing, opts } = await setup();
  const token = await signJwt(claims({ exp: Math.floor(Date.now() / 1000) + 1 }), signing);
  await verifyJwt(token, opts);
  await new Promise((r) => setTimeout(r, 2100));
  await assert.rejects(verifyJwt(token, opts), reason('expired'));
});

test('other options (audience, token type, issuer) are checked as if never seen', async () => {
  const { signing, opts } = await setup();
  const token = await signJwt(claims(), signing);
  await verifyJwt(token, { ...opts, audience: 'sso' });
  await assert.rejects(verifyJwt(token, { ...opts, audience: 'other-app' }), (e) => e instanceof TokenError);
  await assert.rejects(verifyJwt(token, { ...opts, tokenType: 'refresh' }), (e) => e instanceof TokenError);
  await assert.rejects(verifyJwt(token, { ...opts, issuer: 'https://elsewhere.example' }), (e) => e instanceof TokenError);
  assert.equal((await verifyJwt(token, { ...opts, audience: 'sso' })).sub, 'user-1');
});

test('what a caller does to a returned payload does not reach the next caller', async () => {
  const { signing, opts } = await setup();
  const token = await signJwt(claims(), signing);
  const first = await verifyJwt(token, opts);
  (first.scopes as string[]).push('*');
  first.sub = 'someone-else';
  const second = await verifyJwt(token, opts);
  assert.deepEqual(second.scopes, ['read:users']);
  assert.equal(second.sub, 'user-1');
});

test('a resolver failure on a remembered token propagates unchanged', async () => {
  const { signing, opts } = await setup();
  const token = await signJwt(claims(), signing);
  await verifyJwt(token, opts);
  const outage = new Error('database down');
  await assert.rejects(
    verifyJwt(token, {
      ...opts,
      resolveKey: async () => {
        throw outage;
      },
    }),
    (e) => e === outage,
  );
});

test('a token with a tampered signature is never served from memory', async () => {
  const { signing, opts } = await setup();
  const token = await signJwt(claims(), signing);
  await verifyJwt(token, opts);
  const [h, p, sig] = token.split('.');
  const flipped = `${h}.${p}.${sig!.slice(0, -2)}${sig!.endsWith('AA') ? 'AB' : 'AA'}`;
  await assert.rejects(verifyJwt(flipped, opts), reason('invalid'));
});

test('a remembered token is refused under options that do not accept its alg (the header is checked again)', async () => {
  const { signing, opts } = await setup();
  const token = await signJwt(claims(), signing);
  await verifyJwt(token, opts);
  await assert.rejects(verifyJwt(token, { ...opts, algorithms: ['EdDSA'] }), reason('invalid'));
  assert.equal((await verifyJwt(token, opts)).sub, 'user-1');
});

test('a token verified with remember: false is checked in full and not kept; by default it is kept', async () => {
  const { signing, opts } = await setup();
  const once = await signJwt(claims(), signing);
  assert.equal((await verifyJwt(once, { ...opts, remember: false })).sub, 'user-1');
  assert.equal(remembersToken(once), false);
  // Not kept, so a later presentation is a full verification: a tampered copy is still refused.
  const tampered = `${once.slice(0, -2)}${once.endsWith('A') ? 'B' : 'A'}${once.slice(-1)}`;
  await assert.rejects(verifyJwt(tampered, { ...opts, remember: false }), reason('invalid'));
  const kept = await signJwt(claims(), signing);
  await verifyJwt(kept, opts);
  assert.equal(remembersToken(kept), true);
});
