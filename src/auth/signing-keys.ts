// Signing key material: generation, at-rest encryption of private keys, and
// import into runtime key objects.
//
// Private JWKs are only ever stored encrypted (see encryptPrivateKey); the
// public half is what goes into the JWKS document.
import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { openText, sealText, type SealPurpose } from './sealed-text.js';

export type { JWK } from 'jose';
export type SigningAlg = 'ES256' | 'RS256' | 'EdDSA';
export const SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'RS256', 'EdDSA'];

/**
 * A key jose can sign or verify with. jose v6 dropped its own `KeyLike` type;
 * this is the equivalent: a WebCrypto CryptoKey or a Node KeyObject.
 */
export type KeyLike = CryptoKey | KeyObject;

export interface GeneratedKey {
  kid: string;
  alg: SigningAlg;
  publicJwk: JWK;
  privateJwk: JWK;
}

export function isSigningAlg(value: unknown): value is SigningAlg {
  return typeof value === 'string' && (SIGNING_ALGS as readonly string[]).includes(value);
}

// Which JWK shape each algorithm needs, so a key stored under the wrong alg is
// refused at import instead of producing confusing signature failures later.
const KEY_SHAPE: Record<SigningAlg, { kty: string; crv?: string; publicMembers: string[] }> = {
  ES256: { kty: 'EC', crv: 'P-256', publicMembers: ['kty', 'crv', 'x', 'y'] },
  RS256: { kty: 'RSA', publicMembers: ['kty', 'n', 'e'] },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', publicMembers: ['kty', 'crv', 'x'] },
};

function assertAlg(alg: unknown): asserts alg is SigningAlg {
  if (!isSigningAlg(alg)) throw new Error(`unsupported signing algorithm: ${String(alg)}`);
}

function assertShape(jwk: JWK, alg: SigningAlg): void {
  const shape = KEY_SHAPE[alg];
  if (!jwk || typeof jwk !== 'object' || jwk.kty !== shape.kty || (shape.crv && jwk.crv !== shape.crv)) {
    throw new Error(`JWK is not a ${shape.kty}${shape.crv ? ` ${shape.crv}` : ''} key as ${alg} requires`);
  }
}

/**
 * Copies only the public members of a JWK. Built from an allow-list rather
 * than by deleting private members, so no future private field can leak.
 */
export function publicMembers(jwk: JWK, alg: SigningAlg): JWK {
  const out: Record<string, unknown> = {};
  for (const name of KEY_SHAPE[alg].publicMembers) {
    const value = (jwk as Record<string, unknown>)[name];
    if (typeof value !== 'string') throw new Error(`JWK is missing its "${name}" member`);
    out[name] = value;
  }
  return out as JWK;
}

export async function generateSigningKey(alg: SigningAlg): Promise<GeneratedKey> {
  assertAlg(alg);
  const options =
    alg === 'EdDSA'
      ? { extractable: true, crv: 'Ed25519' }
      : alg === 'RS256'
        ? { extractable: true, modulusLength: 2048 }
        : { extractable: true };
  const { privateKey } = await generateKeyPair(alg, options);
  const exported = await exportJWK(privateKey);
  const pub = publicMembers(exported, alg);
  // RFC 7638 thumbprint: stable, derived from the key itself, so the same key
  // always gets the same kid and kids never collide across keys.
  const kid = await calculateJwkThumbprint(pub, 'sha256');
  return {
    kid,
    alg,
    publicJwk: { ...pub, kid, alg, use: 'sig' },
    privateJwk: { ...exported, kid, alg, use: 'sig' },
  };
}

// ---- at-rest encryption of private JWKs ----------------------------------
// Sealed with the shared cipher (sealed-text.ts). The purpose strings are those every stored key
// was written with: changing them would make existing keys unreadable.

const SIGNING_KEY: SealPurpose = {
  noun: 'signing key',
  info: 'sso signing-key encryption v1',
  aad: 'sso-signing-key:v1',
};

export function encryptPrivateKey(privateJwk: JWK, secret: string): string {
  if (typeof secret !== 'string' || secret.length === 0) throw new Error('key encryption secret must be a non-empty string');
  if (!privateJwk || typeof privateJwk !== 'object' || typeof privateJwk.d !== 'string') {
    throw new Error('encryptPrivateKey expects a private JWK');
  }
  return sealText(JSON.stringify(privateJwk), secret, SIGNING_KEY);
}

export function decryptPrivateKey(blob: string, secret: string): JWK {
  const plaintext = openText(blob, secret, SIGNING_KEY);
  let jwk: unknown;
  try {
    jwk = JSON.parse(plaintext);
  } catch {
    jwk = undefined;
  }
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk) || typeof (jwk as JWK).d !== 'string') {
    throw new Error('decrypted signing key is not a private JWK');
  }
  return jwk as JWK;
}

// ---- import into runtime keys ---------------------------------------------
// Importing is comparatively expensive (RSA especially); callers cache the
// result per kid.

export async function importSigningKey(privateJwk: JWK, alg: SigningAlg): Promise<CryptoKey> {
  assertAlg(alg);
  assertShape(privateJwk, alg);
  if (typeof privateJwk.d !== 'string') throw new Error('importSigningKey expects a private JWK');
  // Drop key_ops/ext/use so stale metadata can't restrict or widen the key;
  // non-extractable so the private key can't be exported from the process.
  const { key_ops: _ops, ext: _ext, use: _use, ...jwk } = privateJwk;
  return importJWK({ ...jwk, alg }, alg, { extractable: false }) as Promise<CryptoKey>;
}

export async function importVerifyKey(publicJwk: JWK, alg: SigningAlg): Promise<CryptoKey> {
  assertAlg(alg);
  assertShape(publicJwk, alg);
  // Only public members are imported, even if a private JWK is passed in.
  return importJWK({ ...publicMembers(publicJwk, alg), alg }, alg) as Promise<CryptoKey>;
}
