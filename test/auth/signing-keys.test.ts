import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  decryptPrivateKey,
  encryptPrivateKey,
  generateSigningKey,
  importSigningKey,
  importVerifyKey,
  type SigningAlg,
} from '../../src/auth/signing-keys.js';

const SECRET = 'x'.repeat(40);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

// Independent RFC 7638 thumbprint, to check the kid without reusing jose.
function thumbprint(jwk: Record<string, unknown>, members: string[]): string {
  const canonical = JSON.stringify(Object.fromEntries([...members].sort().map((m) => [m, jwk[m]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

const EXPECTED: Record<SigningAlg, { kty: string; members: string[]; crv?: string }> = {
  ES256: { kty: 'EC', crv: 'P-256', members: ['crv', 'kty', 'x', 'y'] },
  RS256: { kty: 'RSA', members: ['e', 'kty', 'n'] },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', members: ['crv', 'kty', 'x'] },
};

for (const alg of Object.keys(EXPECTED) as SigningAlg[]) {
  test(`generateSigningKey(${alg}) returns well-formed JWKs`, async () => {
    const key = await generateSigningKey(alg);
    const want = EXPECTED[alg];
    assert.equal(key.alg, alg);
    assert.equal(key.publicJwk.kty, want.kty);
    if (want.crv) assert.equal(key.publicJwk.crv, want.crv);
    // Public JWK: exactly the public members plus kid/alg/use.
    assert.deepEqual(Object.keys(key.publicJwk).sort(), [...want.members, 'alg', 'kid', 'use'].sort());
    assert.equal(key.publicJwk.kid, key.kid);
    assert.equal(key.publicJwk.alg, alg);
    assert.equal(key.publicJwk.use, 'sig');
    for (const m of PRIVATE_MEMBERS) assert.equal(m in key.publicJwk, false, `public JWK has ${m}`);
    assert.equal(typeof key.privateJwk.d, 'string');
    assert.equal(key.privateJwk.kid, key.kid);
    assert.equal(key.kid, thumbprint(key.publicJwk as Record<string, unknown>, want.members));
    if (alg === 'RS256') {
      assert.equal(Buffer.from(key.publicJwk.n!, 'base64url').length * 8, 2048);
      assert.equal(key.publicJwk.e, 'AQAB');
    }
    // Both halves import.
    const priv = await importSigningKey(key.privateJwk, alg);
    const pub = await importVerifyKey(key.publicJwk, alg);
    assert.equal(priv.type, 'private');
    assert.equal(priv.extractable, false);
    assert.equal(pub.type, 'public');
  });
}

test('kids differ between keys', async () => {
  const a = await generateSigningKey('ES256');
  const b = await generateSigningKey('ES256');
  assert.notEqual(a.kid, b.kid);
});

test('importVerifyKey only uses public members even when given a private JWK', async () => {
  const key = await generateSigningKey('ES256');
  const pub = await importVerifyKey(key.privateJwk, 'ES256');
  assert.equal(pub.type, 'public');
});

test('import refuses a key of the wrong type for the alg', async () => {
  const ec = await generateSigningKey('ES256');
  await assert.rejects(importVerifyKey(ec.publicJwk, 'RS256'), /RSA/);
  await assert.rejects(importSigningKey(ec.privateJwk, 'EdDSA'), /OKP/);
  await assert.rejects(importSigningKey(ec.publicJwk, 'ES256'), /private/);
  await assert.rejects(importVerifyKey(ec.publicJwk, 'HS256' as SigningAlg), /unsupported/);
});

test('encrypt/decrypt round trip', async () => {
  for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
    const key = await generateSigningKey(alg);
    const blob = encryptPrivateKey(key.privateJwk, SECRET);
    const parts = blob.split('.');
    assert.equal(parts.length, 5);
    assert.equal(parts[0], 'v1');
    for (const p of parts.slice(1)) assert.match(p, /^[A-Za-z0-9_-]+$/);
    assert.equal(blob.includes(key.privateJwk.d!), false);
    assert.deepEqual(decryptPrivateKey(blob, SECRET), key.privateJwk);
  }
});

test('each encryption uses fresh salt and iv', async () => {
  const key = await generateSigningKey('EdDSA');
  const a = encryptPrivateKey(key.privateJwk, SECRET).split('.');
  const b = encryptPrivateKey(key.privateJwk, SECRET).split('.');
  assert.notEqual(a[1], b[1]);
  assert.notEqual(a[2], b[2]);
  assert.notEqual(a[4], b[4]);
});

test('wrong secret throws a clear error that does not contain the secret', async () => {
  const key = await generateSigningKey('ES256');
  const blob = encryptPrivateKey(key.privateJwk, SECRET);
  const wrong = 'y'.repeat(40);
  assert.throws(
    () => decryptPrivateKey(blob, wrong),
    (err: Error) => {
      assert.match(err.message, /could not decrypt signing key/);
      assert.equal(err.message.includes(wrong), false);
      assert.equal(err.message.includes(SECRET), false);
      return true;
    },
  );
});

test('tampered or malformed blobs throw', async () => {
  const key = await generateSigningKey('ES256');
  const blob = encryptPrivateKey(key.privateJwk, SECRET);
  const parts = blob.split('.');
  const flip = (s: string) => {
    const buf = Buffer.from(s, 'base64url');
    buf.writeUInt8(buf.readUInt8(0) ^ 1, 0);
    return buf.toString('base64url');
  };
  for (const i of [1, 2, 3, 4]) {
    const tampered = parts.map((p, j) => (j === i ? flip(p) : p)).join('.');
    assert.throws(() => decryptPrivateKey(tampered, SECRET), Error, `tampering part ${i} was not detected`);
  }
  // Truncated tag must not be accepted (GCM would otherwise allow short tags).
  const shortTag = parts.map((p, j) => (j === 3 ? Buffer.from(p, 'base64url').subarray(0, 4).toString('base64url') : p)).join('.');
  assert.throws(() => decryptPrivateKey(shortTag, SECRET), /malformed/);
  assert.throws(() => decryptPrivateKey(`v2.${parts.slice(1).join('.')}`, SECRET), /format version/);
  assert.throws(() => decryptPrivateKey('garbage', SECRET), /malformed/);
  assert.throws(() => decryptPrivateKey('', SECRET), /malformed/);
  assert.throws(() => decryptPrivateKey(blob, ''), /secret/);
});
