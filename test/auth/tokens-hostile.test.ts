// Hostile tokens validly signed by a known key (or almost): each must fail with the same reason
// as when verification went through jose (these expectations were taken from that version), so
// the node:crypto verification keeps every check jose made and in the same order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, KeyObject, sign, webcrypto } from 'node:crypto';
import { generateSigningKey, importSigningKey, importVerifyKey, type KeyLike, type SigningAlg } from '../../src/auth/signing-keys.js';
import { TokenError, verifyJwt, type VerifyJwtOptions } from '../../src/auth/tokens.js';

const ISSUER = 'https://sso.example.test';
const ALGS: SigningAlg[] = ['ES256', 'RS256', 'EdDSA'];

const b64 = (bytes: string | Buffer) => Buffer.from(bytes).toString('base64url');
const json = (value: unknown) => b64(JSON.stringify(value));

async function keyPair(alg: SigningAlg) {
  const gen = await generateSigningKey(alg);
  const privateKey = KeyObject.from((await importSigningKey(gen.privateJwk, alg)) as webcrypto.CryptoKey);
  const publicKey = await importVerifyKey(gen.publicJwk, alg);
  return { gen, kid: gen.kid, alg, privateKey, publicKey };
}
type Pair = Awaited<ReturnType<typeof keyPair>>;

/** `header.payload.signature` over exactly these segments, signed as the alg says. */
function signSegments(pair: Pair, headerSegment: string, payloadSegment: string, alg: SigningAlg = pair.alg): string {
  const input = Buffer.from(`${headerSegment}.${payloadSegment}`, 'latin1');
  const signature =
    alg === 'EdDSA'
      ? sign(null, input, pair.privateKey)
      : sign('sha256', input, alg === 'ES256' ? { key: pair.privateKey, dsaEncoding: 'ieee-p1363' } : pair.privateKey);
  return `${headerSegment}.${payloadSegment}.${b64(signature)}`;
}

function claims(extra: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, sub: 'user-1', aud: 'app-1', iat: now, nbf: now, exp: now + 300, ...extra };
}

function options(pair: Pair, extra: Partial<VerifyJwtOptions> = {}): VerifyJwtOptions {
  return { resolveKey: async (kid) => (kid === pair.kid ? pair.publicKey : undefined), issuer: ISSUER, algorithms: ALGS, ...extra };
}

async function reasonOf(token: string, opts: VerifyJwtOptions): Promise<string> {
  try {
    await verifyJwt(token, opts);
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof TokenError, `expected a TokenError, got ${String(err)}`);
    assert.match(err.message, /^token /);
    return err.reason;
  }
}

test('critical header parameters: only b64 is understood, and a JWT must not use an unencoded payload', async () => {
  const es = await keyPair('ES256');
  const header = (extra: Record<string, unknown>) => json({ alg: 'ES256', typ: 'JWT', kid: es.kid, ...extra });
  const body = json(claims());
  const cases: [Record<string, unknown>, string][] = [
    [{ crit: ['exp'] }, 'invalid'],
    [{ crit: ['b64', 'exp'], b64: true }, 'invalid'],
    [{ crit: ['exp', 'b64'] }, 'invalid'],
    [{ crit: ['b64'] }, 'malformed'],
    [{ crit: ['b64'], b64: 'false' }, 'malformed'],
    [{ crit: ['b64'], b64: false }, 'malformed'],
    [{ crit: ['b64'], b64: true }, 'ok'],
    [{ crit: ['b64', 'b64'], b64: true }, 'ok'],
    [{ crit: [] }, 'malformed'],
    [{ crit: 'b64', b64: true }, 'malformed'],
    [{ crit: [''] }, 'malformed'],
    [{ crit: [1] }, 'malformed'],
    [{ crit: null }, 'malformed'],
    // Without crit, b64 is an unknown parameter and ignored.
    [{ b64: false }, 'ok'],
  ];
  for (const [extra, reason] of cases) {
    assert.equal(await reasonOf(signSegments(es, header(extra), body), options(es)), reason, JSON.stringify(extra));
  }
  // Header checks come first: an alg outside the list is invalid even with a bad crit.
  assert.equal(await reasonOf(signSegments(es, json({ alg: 'HS256', kid: es.kid, crit: [] }), body), options(es)), 'invalid');
});

test('headers that are not a JSON object, or not well-formed UTF-8, are malformed; a leading BOM is not', async () => {
  const es = await keyPair('ES256');
  const body = json(claims());
  const headerJson = JSON.stringify({ alg: 'ES256', kid: es.kid });
  const cases: [string, string][] = [
    [json([{ alg: 'ES256', kid: es.kid }]), 'malformed'],
    [json('ES256'), 'malformed'],
    [json(null), 'malformed'],
    [b64('{"alg":"ES256",'), 'malformed'],
    [b64(Buffer.concat([Buffer.from(headerJson.slice(0, -1)), Buffer.from(',"x":"\xff"}', 'latin1')])), 'malformed'],
    // jose decoded with TextDecoder, which drops a byte order mark.
    [b64(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(headerJson)])), 'ok'],
    [json({ alg: 'ES256', kid: es.kid }).slice(0, 21), 'malformed'],
    [json({ kid: es.kid }), 'invalid'],
    [json({ alg: 'none', kid: es.kid }), 'invalid'],
    [json({ alg: 'ES256', kid: 7 }), 'invalid'],
    [json({ alg: 'ES256', kid: '' }), 'invalid'],
  ];
  for (const [header, reason] of cases) {
    assert.equal(await reasonOf(signSegments(es, header, body), options(es)), reason, Buffer.from(header, 'base64url').toString('latin1'));
  }
});

test('a payload that is not a JSON object is malformed, even validly signed', async () => {
  const es = await keyPair('ES256');
  const header = json({ alg: 'ES256', typ: 'JWT', kid: es.kid });
  for (const payload of [
    json([claims()]),
    json('claims'),
    json(42),
    json(null),
    b64('{"exp":'),
    b64(Buffer.from([0x7b, 0xff, 0x7d])),
    'AAAAA',
  ]) {
    assert.equal(await reasonOf(signSegments(es, header, payload), options(es)), 'malformed', payload);
  }
});

test('claims of the wrong type are invalid; claims are checked in a fixed order', async () => {
  const es = await keyPair('ES256');
  const now = Math.floor(Date.now() / 1000);
  const header = json({ alg: 'ES256', typ: 'JWT', kid: es.kid });
  const typed = { tokenType: 'access' };
  const cases: [Record<string, unknown>, Partial<VerifyJwtOptions>, string][] = [
    [claims({ exp: String(now + 300) }), {}, 'invalid'],
    [claims({ exp: null }), {}, 'invalid'],
    [claims({ exp: [now + 300] }), {}, 'invalid'],
    [claims({ nbf: String(now) }), {}, 'invalid'],
    [claims({ iat: String(now) }), {}, 'invalid'],
    [claims({ iat: null }), {}, 'invalid'],
    // An expired token whose nbf is of the wrong type: nbf is looked at first.
    [claims({ nbf: 'x', exp: now - 100 }), {}, 'invalid'],
    [claims({ exp: now - 100 }), {}, 'expired'],
    [claims({ exp: now - 100, iss: 'https://evil.test' }), {}, 'invalid'],
    // Missing claims: iss, then aud, then token_type, then exp.
    [claims({ exp: undefined, token_type: undefined }), typed, 'wrong_type'],
    [claims({ iss: undefined, token_type: undefined }), typed, 'invalid'],
    [claims({ aud: undefined, token_type: undefined }), { ...typed, audience: 'app-1' }, 'invalid'],
    [claims({ token_type: null }), typed, 'wrong_type'],
    [claims({ token_type: 'refresh', exp: now - 100 }), typed, 'expired'],
    [claims({ token_type: 'access' }), typed, 'ok'],
    [claims({ iss: [ISSUER] }), {}, 'invalid'],
    // aud as an array: any one of the accepted audiences.
    [claims({ aud: ['other', 'app-1'] }), { audience: 'app-1' }, 'ok'],
    [claims({ aud: ['other', 'app-1'] }), { audience: ['app-2', 'app-1'] }, 'ok'],
    [claims({ aud: ['other'] }), { audience: 'app-1' }, 'invalid'],
    [claims({ aud: [] }), { audience: 'app-1' }, 'invalid'],
    [claims({ aud: 1 }), { audience: 'app-1' }, 'invalid'],
    [claims({ aud: ['app-1'] }), { audience: [] }, 'invalid'],
    [claims({ aud: 'app-1' }), { audience: 'APP-1' }, 'invalid'],
    // Clock tolerance works both ways; a negative one is refused.
    [claims({ nbf: now + 30 }), { clockToleranceSec: 60 }, 'ok'],
    [claims({ exp: now - 30 }), { clockToleranceSec: 60 }, 'ok'],
    [claims({ exp: now }), {}, 'expired'],
    [claims({ nbf: now + 1 }), {}, 'invalid'],
    [claims(), { clockToleranceSec: -1 }, 'invalid'],
    [claims(), { now: Number.NaN }, 'invalid'],
    [claims({ exp: now + 300 }), { now: (now + 400) * 1000 }, 'expired'],
  ];
  for (const [payload, extra, reason] of cases) {
    const token = signSegments(es, header, json(payload));
    assert.equal(await reasonOf(token, options(es, extra)), reason, `${JSON.stringify(payload)} ${JSON.stringify(extra)}`);
  }
});

test('signatures of the wrong length or encoding are refused; the key is looked up first', async () => {
  for (const alg of ALGS) {
    const pair = await keyPair(alg);
    const good = signSegments(pair, json({ alg, typ: 'JWT', kid: pair.kid }), json(claims()));
    const [h, p, s] = good.split('.') as [string, string, string];
    const raw = Buffer.from(s, 'base64url');
    const cases: [string, string][] = [
      [s, 'ok'],
      [b64(raw.subarray(0, raw.length - 1)), 'invalid'],
      [b64(Buffer.concat([raw, Buffer.from([0])])), 'invalid'],
      [b64(Buffer.alloc(raw.length)), 'invalid'],
      ['', 'invalid'],
      ['AAAA', 'invalid'],
      // Five characters decode to no whole byte: not base64url.
      [`${s}A`.slice(0, Math.floor(s.length / 4) * 4 + 1), 'malformed'],
    ];
    for (const [signature, reason] of cases) {
      assert.equal(await reasonOf(`${h}.${p}.${signature}`, options(pair)), reason, `${alg} ${signature.length}`);
    }
    const unknown = { ...options(pair), resolveKey: async () => undefined };
    assert.equal(await reasonOf(`${h}.${p}.AAAAA`, unknown), 'unknown_key');
  }
});

test('a key that does not fit the alg, or is not a public verification key, is invalid', async () => {
  const es = await keyPair('ES256');
  const rs = await keyPair('RS256');
  const ed = await keyPair('EdDSA');
  const token = signSegments(es, json({ alg: 'ES256', typ: 'JWT', kid: es.kid }), json(claims()));
  const withKey = (key: unknown) => ({ ...options(es), resolveKey: async () => key as KeyLike });
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
  const usageless = await webcrypto.subtle.importKey('jwk', { ...es.gen.publicJwk }, { name: 'ECDSA', namedCurve: 'P-256' }, true, []);
  const cases: [string, unknown, string][] = [
    ['the CryptoKey', es.publicKey, 'ok'],
    ['a KeyObject of it', KeyObject.from(es.publicKey as webcrypto.CryptoKey), 'ok'],
    ['an RSA key', rs.publicKey, 'invalid'],
    ['an Ed25519 key', ed.publicKey, 'invalid'],
    ['an Ed25519 KeyObject', KeyObject.from(ed.publicKey as webcrypto.CryptoKey), 'invalid'],
    ['a P-384 KeyObject', p384, 'invalid'],
    ['the private KeyObject', es.privateKey, 'invalid'],
    ['a public key without the verify usage', usageless, 'invalid'],
    ['a string', 'not a key', 'invalid'],
    // Outside the resolver's contract (a CryptoKey or a KeyObject); jose would have imported it.
    ['a JWK', { ...es.gen.publicJwk }, 'invalid'],
  ];
  for (const [name, key, reason] of cases) assert.equal(await reasonOf(token, withKey(key)), reason, name);

  // RS256: a key of fewer than 2048 bits, or one bound to another hash, is refused.
  const rsToken = signSegments(rs, json({ alg: 'RS256', typ: 'JWT', kid: rs.kid }), json(claims()));
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const smallToken = signSegments({ ...rs, privateKey: small.privateKey }, json({ alg: 'RS256', typ: 'JWT', kid: rs.kid }), json(claims()));
  const sha384 = await webcrypto.subtle.importKey(
    'jwk',
    { ...rs.gen.publicJwk, alg: 'RS384' },
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' },
    true,
    ['verify'],
  );
  const rsWith = (key: unknown) => ({ ...options(rs), resolveKey: async () => key as KeyLike });
  assert.equal(await reasonOf(rsToken, rsWith(rs.publicKey)), 'ok');
  assert.equal(await reasonOf(rsToken, rsWith(createPublicKey(rs.privateKey))), 'ok');
  assert.equal(await reasonOf(rsToken, rsWith(sha384)), 'invalid');
  assert.equal(await reasonOf(smallToken, rsWith(small.publicKey)), 'invalid');
});

test('a token signed under one alg and presented under another is invalid', async () => {
  const ed = await keyPair('EdDSA');
  const body = json(claims());
  // An EdDSA signature relabelled ES256 (same length as an ES256 one) under the Ed25519 key's kid.
  const relabelled = signSegments(ed, json({ alg: 'ES256', kid: ed.kid }), body, 'EdDSA');
  assert.equal(await reasonOf(relabelled, options(ed)), 'invalid');
});
