import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSigningKey, importSigningKey, importVerifyKey, type KeyLike, type SigningAlg } from '../../src/auth/signing-keys.js';
import { TokenError, looksLikeJwt, newTokenId, signJwt, verifyJwt } from '../../src/auth/tokens.js';

const ISSUER = 'https://sso.example.test';
const ALGS: SigningAlg[] = ['ES256', 'RS256', 'EdDSA'];

async function setup(alg: SigningAlg) {
  const gen = await generateSigningKey(alg);
  const privateKey = await importSigningKey(gen.privateJwk, alg);
  const publicKey = await importVerifyKey(gen.publicJwk, alg);
  const keys = new Map<string, KeyLike>([[gen.kid, publicKey]]);
  const signing = { kid: gen.kid, alg, privateKey };
  const verifyOpts = {
    resolveKey: async (kid: string) => keys.get(kid),
    issuer: ISSUER,
    algorithms: ALGS,
  };
  return { gen, signing, publicKey, keys, verifyOpts };
}

function claims(extra: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, sub: 'user-1', aud: 'app-1', iat: now, nbf: now, exp: now + 300, jti: newTokenId(), ...extra };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const decodePart = (token: string, i: number) => JSON.parse(Buffer.from(token.split('.')[i] ?? '', 'base64url').toString());

async function rejectsWith(p: Promise<unknown>, reason: TokenError['reason']) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof TokenError, `expected TokenError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    return true;
  });
}

for (const alg of ALGS) {
  test(`sign/verify round trip with ${alg}`, async () => {
    const { gen, signing, verifyOpts } = await setup(alg);
    const payload = claims({ token_type: 'access', scope: 'openid' });
    const token = await signJwt(payload, signing);
    assert.deepEqual(decodePart(token, 0), { alg, typ: 'JWT', kid: gen.kid });
    // Nothing added, nothing removed.
    assert.deepEqual(decodePart(token, 1), payload);
    const verified = await verifyJwt(token, { ...verifyOpts, audience: 'app-1', tokenType: 'access' });
    assert.deepEqual(verified, payload);
  });
}

test('header keys are exactly alg, typ, kid', async () => {
  const { signing } = await setup('ES256');
  const token = await signJwt({ exp: 1 }, signing);
  assert.deepEqual(Object.keys(decodePart(token, 0)), ['alg', 'typ', 'kid']);
});

test('resolveKey receives the kid and alg from the header', async () => {
  const { gen, signing, publicKey, verifyOpts } = await setup('EdDSA');
  const seen: Array<[string, string]> = [];
  const token = await signJwt(claims(), signing);
  await verifyJwt(token, {
    ...verifyOpts,
    resolveKey: async (kid, alg) => {
      seen.push([kid, alg]);
      return publicKey;
    },
  });
  assert.deepEqual(seen, [[gen.kid, 'EdDSA']]);
});

test('expired tokens are rejected as expired; clock tolerance applies', async () => {
  const { signing, verifyOpts } = await setup('ES256');
  const now = Math.floor(Date.now() / 1000);
  const token = await signJwt(claims({ iat: now - 100, nbf: now - 100, exp: now - 30 }), signing);
  await rejectsWith(verifyJwt(token, verifyOpts), 'expired');
  await assert.doesNotReject(verifyJwt(token, { ...verifyOpts, clockToleranceSec: 60 }));
});

test('not-yet-valid and exp-less tokens are rejected', async () => {
  const { signing, verifyOpts } = await setup('ES256');
  const now = Math.floor(Date.now() / 1000);
  await rejectsWith(verifyJwt(await signJwt(claims({ nbf: now + 600 }), signing), verifyOpts), 'invalid');
  const { exp: _exp, ...noExp } = claims();
  await rejectsWith(verifyJwt(await signJwt(noExp, signing), verifyOpts), 'invalid');
});

test('wrong issuer and wrong audience are rejected', async () => {
  const { signing, verifyOpts } = await setup('ES256');
  const token = await signJwt(claims(), signing);
  await rejectsWith(verifyJwt(token, { ...verifyOpts, issuer: 'https://evil.test' }), 'invalid');
  await rejectsWith(verifyJwt(token, { ...verifyOpts, audience: 'app-2' }), 'invalid');
  await assert.doesNotReject(verifyJwt(token, { ...verifyOpts, audience: ['app-2', 'app-1'] }));
  const noAud = await signJwt(claims({ aud: undefined }), signing);
  await rejectsWith(verifyJwt(noAud, { ...verifyOpts, audience: 'app-1' }), 'invalid');
});

test('wrong or missing token_type is wrong_type', async () => {
  const { signing, verifyOpts } = await setup('ES256');
  const refresh = await signJwt(claims({ token_type: 'refresh' }), signing);
  await rejectsWith(verifyJwt(refresh, { ...verifyOpts, tokenType: 'access' }), 'wrong_type');
  const untyped = await signJwt(claims(), signing);
  await rejectsWith(verifyJwt(untyped, { ...verifyOpts, tokenType: 'access' }), 'wrong_type');
  // No tokenType option: token_type is not checked.
  await assert.doesNotReject(verifyJwt(refresh, verifyOpts));
});

test('unknown kid is unknown_key', async () => {
  const a = await setup('ES256');
  const b = await setup('ES256');
  const token = await signJwt(claims(), b.signing);
  await rejectsWith(verifyJwt(token, a.verifyOpts), 'unknown_key');
});

test('a token signed by another key under a known kid is invalid', async () => {
  const a = await setup('ES256');
  const b = await setup('ES256');
  const forged = await signJwt(claims(), { ...b.signing, kid: a.gen.kid });
  await rejectsWith(verifyJwt(forged, a.verifyOpts), 'invalid');
});

test('a key of another type under the token kid is invalid (no alg confusion)', async () => {
  const ec = await setup('ES256');
  const rsa = await setup('RS256');
  const token = await signJwt(claims(), ec.signing);
  await rejectsWith(verifyJwt(token, { ...ec.verifyOpts, resolveKey: async () => rsa.publicKey }), 'invalid');
});

test('alg none is rejected', async () => {
  const { gen, verifyOpts } = await setup('ES256');
  const none = `${b64({ alg: 'none', typ: 'JWT', kid: gen.kid })}.${b64(claims())}.`;
  assert.equal(looksLikeJwt(none), true);
  await rejectsWith(verifyJwt(none, verifyOpts), 'invalid');
  // Even with a bogus signature attached.
  await rejectsWith(verifyJwt(`${none}AAAA`, verifyOpts), 'invalid');
});

test('an algorithm outside the allow-list is rejected', async () => {
  const { signing, verifyOpts } = await setup('RS256');
  const token = await signJwt(claims(), signing);
  await rejectsWith(verifyJwt(token, { ...verifyOpts, algorithms: ['ES256'] }), 'invalid');
});

test('a token without kid is rejected', async () => {
  const { signing, verifyOpts } = await setup('ES256');
  const token = await signJwt(claims(), signing);
  const [, payload, sig] = token.split('.');
  await rejectsWith(verifyJwt(`${b64({ alg: 'ES256', typ: 'JWT' })}.${payload}.${sig}`, verifyOpts), 'invalid');
});

test('a modified payload is rejected', async () => {
  const { signing, verifyOpts } = await setup('EdDSA');
  const token = await signJwt(claims({ sub: 'user-1' }), signing);
  const [h, , s] = token.split('.');
  await rejectsWith(verifyJwt(`${h}.${b64(claims({ sub: 'admin' }))}.${s}`, verifyOpts), 'invalid');
});

test('garbage is malformed and messages hide jose internals', async () => {
  const { verifyOpts } = await setup('ES256');
  for (const garbage of [
    '',
    'garbage',
    'a.b',
    'a.b.c',
    '...',
    'sso_key_abc_def',
    `${b64([1])}.${b64({})}.AA`,
    `${b64({ alg: 'ES256', kid: 'k' })}.%%%.AA`,
  ]) {
    await assert.rejects(verifyJwt(garbage, verifyOpts), (err: unknown) => {
      assert.ok(err instanceof TokenError, `${garbage}: ${String(err)}`);
      assert.ok(['malformed', 'invalid', 'unknown_key'].includes(err.reason), `${garbage}: ${err.reason}`);
      assert.match(err.message, /^token /);
      return true;
    });
  }
  await rejectsWith(verifyJwt('garbage', verifyOpts), 'malformed');
  await rejectsWith(verifyJwt('a.b.c', verifyOpts), 'malformed');
});

test('jose errors are kept as cause only', async () => {
  const { signing, verifyOpts } = await setup('ES256');
  const now = Math.floor(Date.now() / 1000);
  const token = await signJwt(claims({ exp: now - 10 }), signing);
  const err = await verifyJwt(token, verifyOpts).catch((e: unknown) => e);
  assert.ok(err instanceof TokenError);
  assert.equal(err.message, 'token has expired');
  assert.ok(err.cause instanceof Error);
});

test('resolver failures propagate unchanged (an outage is not a bad token)', async () => {
  const { signing, verifyOpts } = await setup('ES256');
  const token = await signJwt(claims(), signing);
  const boom = new Error('database unavailable');
  await assert.rejects(
    verifyJwt(token, {
      ...verifyOpts,
      resolveKey: async () => {
        throw boom;
      },
    }),
    (e) => e === boom,
  );
});

test('looksLikeJwt tells JWTs from API keys and junk', async () => {
  const { signing } = await setup('ES256');
  assert.equal(looksLikeJwt(await signJwt(claims(), signing)), true);
  assert.equal(looksLikeJwt('sso_svc_abcdefghijkl_' + 'A'.repeat(43)), false);
  assert.equal(looksLikeJwt(''), false);
  assert.equal(looksLikeJwt('a.b.c'), false);
  assert.equal(looksLikeJwt(`${b64({ typ: 'JWT' })}.${b64({})}.sig`), false); // no alg
  assert.equal(looksLikeJwt(`${b64(['alg'])}.${b64({})}.sig`), false); // not an object
  assert.equal(looksLikeJwt(`${b64({ alg: 'ES256' })}.${b64({})}`), false); // two segments
  assert.equal(looksLikeJwt(`${b64({ alg: 'ES256' })}.${b64({})}.sig.extra`), false);
  assert.equal(looksLikeJwt(`${b64({ alg: 'ES256' })}.${b64({})}.sig`), true);
});

test('newTokenId is 128 bits of base64url and unique', () => {
  const ids = new Set(Array.from({ length: 1000 }, newTokenId));
  assert.equal(ids.size, 1000);
  for (const id of ids) {
    assert.match(id, /^[A-Za-z0-9_-]+$/);
    assert.ok(Buffer.from(id, 'base64url').length >= 16);
  }
});
