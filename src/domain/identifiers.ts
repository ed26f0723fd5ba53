import type { IdentifierType } from '../db/repositories/users.js';
import { AppError } from '../errors/index.js';

export type { IdentifierType };

const emailPattern = /^[^\s@]{1,64}@[^\s@]{1,253}\.[^\s@.]{2,}$/;
const phonePattern = /^\+?[0-9][0-9 ().-]{5,20}$/;
const usernamePattern = /^[a-z0-9][a-z0-9_.-]{1,63}$/i;

/**
 * Detects what kind of identifier a string is and normalizes it, so that `Alice@Example.com`
 * and `alice@example.com` are one identifier: e-mail addresses and usernames in lower case,
 * phone numbers as `+` and digits.
 */
export function parseIdentifier(raw: string, type?: string): { type: IdentifierType; value: string } {
  const text = raw.trim();
  const detected: IdentifierType | undefined = type
    ? ['email', 'phone', 'username'].includes(type)
      ? (type as IdentifierType)
      : undefined
    : text.includes('@')
      ? 'email'
      : phonePattern.test(text) && /\d{6,}/.test(text.replace(/\D/g, ''))
        ? 'phone'
        : 'username';
  if (!detected) throw new AppError('INVALID_IDENTIFIER', `Unknown identifier type "${type}".`);
  if (detected === 'email' && emailPattern.test(text)) return { type: 'email', value: text.toLowerCase() };
  if (detected === 'phone' && phonePattern.test(text)) {
    const digits = text.replace(/\D/g, '');
    if (digits.length >= 6 && digits.length <= 15) return { type: 'phone', value: `+${digits}` };
  }
  if (detected === 'username' && usernamePattern.test(text)) return { type: 'username', value: text.toLowerCase() };
  throw new AppError('INVALID_IDENTIFIER');
}

/** Every reading of a login name, so a legacy "username" also finds a user by e-mail address. */
export function identifierCandidates(raw: string): { type: IdentifierType; value: string }[] {
  const out: { type: IdentifierType; value: string }[] = [];
  for (const type of ['username', 'email', 'phone'] as const) {
    try {
      out.push(parseIdentifier(raw, type));
    } catch {
      /* not of this type */
    }
  }
  return out;
}
