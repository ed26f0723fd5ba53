// At-rest encryption of secrets the server must read back (private signing keys, TOTP secrets):
// the one AES-256-GCM cipher of the code base, keyed from the key-encryption secret
// (SSO_KEY_SECRET).
//
// Format: v1.<salt>.<iv>.<tag>.<ciphertext>, all base64url. The AES key is
// HKDF-SHA256(secret, salt, info) with a fresh random salt per blob, so blobs never share a key
// and the secret is never used directly as a key. `info` and the additional authenticated data
// bind a blob to its purpose (and, where the caller says so, to its owner): a TOTP secret cannot
// be passed off as a signing key, nor one user's secret as another's.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** What a blob is for: HKDF info and additional authenticated data, fixed per purpose and version. */
export interface SealPurpose {
  /** Names the thing in error messages, e.g. `signing key`. */
  noun: string;
  info: string;
  aad: string;
}

const BLOB_VERSION = 'v1';
const SALT_BYTES = 16;
const IV_BYTES = 12; // GCM standard nonce size
const TAG_BYTES = 16; // full-length tag; shorter tags are refused on open
const B64URL = /^[A-Za-z0-9_-]+$/;

function deriveKey(secret: string, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), salt, info, 32));
}

function assertSecret(secret: unknown): asserts secret is string {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new Error('key encryption secret must be a non-empty string');
  }
}

export function sealText(plaintext: string, secret: string, purpose: SealPurpose): string {
  assertSecret(secret);
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secret, salt, purpose.info), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(purpose.aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [BLOB_VERSION, ...[salt, iv, tag, ciphertext].map((p) => p.toString('base64url'))].join('.');
}

export function openText(blob: string, secret: string, purpose: SealPurpose): string {
  assertSecret(secret);
  const parts = typeof blob === 'string' ? blob.split('.') : [];
  if (parts.length !== 5 || parts[0] !== BLOB_VERSION || !parts.slice(1).every((p) => B64URL.test(p))) {
    throw new Error(`encrypted ${purpose.noun} is malformed or has an unknown format version`);
  }
  const [salt, iv, tag, ciphertext] = parts.slice(1).map((p) => Buffer.from(p, 'base64url'));
  if (!salt || !iv || !tag || !ciphertext || salt.length !== SALT_BYTES || iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new Error(`encrypted ${purpose.noun} is malformed`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(secret, salt, purpose.info), iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(purpose.aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch (cause) {
    // GCM cannot tell a wrong secret from tampering; say both.
    throw new Error(`could not decrypt ${purpose.noun}: wrong key secret (SSO_KEY_SECRET) or corrupted/tampered data`, { cause });
  }
}
