// Signing key material: generation, at-rest encryption of private keys, and
// import into runtime key objects.
//
// Private JWKs are only ever stored encrypted (see encryptPrivateKey); the
// public half is what goes into the JWKS document.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { CryptoKey, JWK } from 'jose';

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
    alg === 'EdDSA' ? { extractable: true, crv: 'Ed25519' }
    : alg === 'RS256' ? { extractable: true, modulusLength: 2048 }
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
//
// Format: v1.<salt>.<iv>.<tag>.<ciphertext>, all base64url.
// The AES key is HKDF-SHA256(secret, salt) with a fresh random salt per blob,
// so blobs never share a key and the secret is never used directly as a key.

const BLOB_VERSION = 'v1';
const HKDF_INFO = 'sso signing-key encryption v1';
const SALT_BYTES = 16;
const IV_BYTES = 12; // GCM standard nonce size
const TAG_BYTES = 16; // full-length tag; shorter tags are refused on decrypt
// Binds the ciphertext to its purpose and format version.
const AAD = Buffer.from(`sso-signing-key:${BLOB_VERSION}`, 'utf8');
const B64URL = /^[A-Za-z0-9_-]+$/;

function deriveKey(secret: string, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), salt, HKDF_INFO, 32));
}

function assertSecret(secret: unknown): asserts secret is string {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new Error('key encryption secret must be a non-empty string');
  }
}

export function encryptPrivateKey(privateJwk: JWK, secret: string): string {
  assertSecret(secret);
  if (!privateJwk || typeof privateJwk !== 'object' || typeof privateJwk.d !== 'string') {
    throw new Error('encryptPrivateKey expects a private JWK');
  }
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secret, salt), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(AAD);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(privateJwk), 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [BLOB_VERSION, salt, iv, tag, ciphertext]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

export function decryptPrivateKey(blob: string, secret: string): JWK {
  assertSecret(secret);
  const parts = typeof blob === 'string' ? blob.split('.') : [];
  if (parts.length !== 5 || parts[0] !== BLOB_VERSION || !parts.slice(1).every((p) => B64URL.test(p))) {
    throw new Error('encrypted signing key is malformed or has an unknown format version');
  }
  const [salt, iv, tag, ciphertext] = parts.slice(1).map((p) => Buffer.from(p, 'base64url'));
  if (
    !salt || !iv || !tag || !ciphertext ||
    salt.length !== SALT_BYTES || iv.length !== IV_BYTES || tag.length !== TAG_BYTES
  ) {
    throw new Error('encrypted signing key is malformed');
  }
  let plaintext: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(secret, salt), iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(AAD);
    decipher.setAuthTag(tag);
    plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch (cause) {
    // GCM cannot tell a wrong secret from tampering; say both.
    throw new Error(
      'could not decrypt signing key: wrong key secret (SSO_KEY_SECRET) or corrupted/tampered data',
      { cause },
    );
  }
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
