import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactVerify, importJWK } from 'jose';
import { signCompact } from '../../src/auth/jws-sign.js';
import { generateSigningKey, importSigningKey, importVerifyKey, type SigningAlg } from '../../src/auth/signing-keys.js';

const ALGS: SigningAlg[] = ['ES256', 'RS256', 'EdDSA'];

// Signing goes through node:crypto (src/auth/jws-sign.ts); what it makes must be a JWS any
// library accepts: checked here with jose's own verification, which is independent of it.
for (const alg of ALGS) {
  test(`${alg}: jose verifies the signature; header and payload are exactly what was given`, async () => {
    const key = await generateSigningKey(alg);
    const header = { alg, typ: 'JWT', kid: key.kid };
    const payload = { sub: 'ü-ñ', n: 1, list: ['a', 'b'] };
    const token = await signCompact(header, payload, alg, await importSigningKey(key.privateJwk, alg));
    const verified = await compactVerify(token, await importVerifyKey(key.publicJwk, alg));
    assert.deepEqual(verified.protectedHeader, header);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(verified.payload)), payload);
    // A signature over other bytes does not verify (jose checks what it was given, not a cache).
    const [h, , s] = token.split('.');
    const other = Buffer.from(JSON.stringify({ ...payload, n: 2 })).toString('base64url');
    await assert.rejects(compactVerify(`${h}.${other}.${s}`, await importVerifyKey(key.publicJwk, alg)));
  });
}

test('a key of another algorithm, or a public key, is refused before anything is signed', async () => {
  const ec = await generateSigningKey('ES256');
  const ed = await generateSigningKey('EdDSA');
  const edPrivate = await importSigningKey(ed.privateJwk, 'EdDSA');
  await assert.rejects(signCompact({ alg: 'ES256' }, {}, 'ES256', edPrivate), /not a private ES256 key/);
  await assert.rejects(signCompact({ alg: 'RS256' }, {}, 'RS256', edPrivate), /not a private RS256 key/);
  const ecPublic = await importJWK({ ...ec.publicJwk, alg: 'ES256' }, 'ES256');
  await assert.rejects(signCompact({ alg: 'ES256' }, {}, 'ES256', ecPublic as CryptoKey), /not a private ES256 key/);
});
