// Secrets handed out once for a login's second step: recovery codes and mfa tokens. Both are
// random enough that a SHA-256 of them is all that is stored (nothing to brute-force).
import { randomBytes, randomInt } from 'node:crypto';

// No 0/O, 1/I/L: a code is read off paper and typed by hand.
const RECOVERY_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const RECOVERY_LENGTH = 16; // 16 symbols of 31: about 79 bits

/** A recovery code such as `ABCD-EFGH-JKMN-PQRS`. */
export function newRecoveryCode(): string {
  let raw = '';
  for (let i = 0; i < RECOVERY_LENGTH; i++) raw += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
  return raw.match(/.{4}/g)!.join('-');
}

/**
 * The form a recovery code is hashed in: upper case, without the dashes and spaces a person may
 * or may not type. Undefined for anything that cannot be a code (no hash lookup for it).
 */
export function normalizeRecoveryCode(code: string): string | undefined {
  const raw = code.replace(/[\s-]/g, '').toUpperCase();
  return raw.length === RECOVERY_LENGTH && [...raw].every((c) => RECOVERY_ALPHABET.includes(c)) ? raw : undefined;
}

/** A login's mfa_token: 256 random bits. */
export function newMfaToken(): string {
  return `mfa_${randomBytes(32).toString('base64url')}`;
}
