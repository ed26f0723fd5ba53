// Secrets we hand out once and only store hashed: API keys, refresh-token ids.
//
// These are high-entropy random values, so a plain SHA-256 is enough (no
// bcrypt needed: there is nothing to brute-force), and it lets us look them
// up and compare them cheaply on every request.
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

const HEX = /^[0-9a-fA-F]+$/;

/**
 * Constant-time comparison of two hex digests. Returns false (never throws)
 * for different lengths, empty strings or non-hex input: Buffer.from(x, 'hex')
 * silently drops invalid characters, so decoding unchecked input could make two
 * different strings compare equal.
 */
export function safeEqualHex(a: string, b: string): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  if (a.length !== b.length || a.length === 0 || !HEX.test(a) || !HEX.test(b)) return false;
  return timingSafeEqual(Buffer.from(a.toLowerCase(), 'latin1'), Buffer.from(b.toLowerCase(), 'latin1'));
}

// ---- API keys --------------------------------------------------------------
//
// Format: sso_<kind>_<id>_<secret>
//   kind   lowercase letters/digits, no underscore (it is the separator)
//   id     12 random lowercase alphanumerics: a public, indexed lookup id
//   secret base64url of 32 random bytes (256 bits): the actual credential
// The id lets the server find the row without scanning; the stored hash of
// the whole plaintext is then compared in constant time.

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 12;
const SECRET_BYTES = 32;
const KIND = /^[a-z][a-z0-9]{0,15}$/;
const API_KEY = /^sso_([a-z][a-z0-9]{0,15})_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

function randomId(): string {
  let id = '';
  // randomInt is unbiased, unlike `byte % 36`.
  for (let i = 0; i < ID_LENGTH; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

export function generateApiKey(kind: string): {
  id: string;
  secret: string;
  plaintext: string;
  hash: string;
  displayPrefix: string;
} {
  if (typeof kind !== 'string' || !KIND.test(kind)) {
    throw new Error('API key kind must be 1-16 lowercase letters/digits starting with a letter');
  }
  const id = randomId();
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const displayPrefix = `sso_${kind}_${id}`;
  const plaintext = `${displayPrefix}_${secret}`;
  return { id, secret, plaintext, hash: sha256Hex(plaintext), displayPrefix };
}

/** Parses the public parts of an API key; null for anything not exactly in our format. */
export function parseApiKey(plaintext: string): { kind: string; id: string } | null {
  if (typeof plaintext !== 'string' || plaintext.length > 128) return null;
  const m = API_KEY.exec(plaintext);
  const [, kind, id, secret] = m ?? [];
  if (kind === undefined || id === undefined || secret === undefined) return null;
  // Require the canonical encoding of exactly 32 bytes (43 chars can carry
  // stray low bits in the last character).
  if (Buffer.from(secret, 'base64url').toString('base64url') !== secret) return null;
  return { kind, id };
}
