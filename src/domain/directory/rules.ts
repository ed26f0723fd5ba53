import { AppError } from '../../errors/index.js';
import { isUuid } from '../paging.js';
import { hasScope, isValidScope } from '../scopes.js';
import type { Actor } from './actor.js';

const slugPattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * A workspace or role slug, normalized to lower case. A slug never looks like a UUID, because
 * GetWorkspace and GetRole take either.
 */
export function slugOf(raw: string): string {
  const slug = raw.trim().toLowerCase();
  if (!slugPattern.test(slug) || isUuid(slug))
    throw new AppError(
      'INVALID_SLUG',
      `"${raw.slice(0, 80)}" is not a valid slug: 1 to 64 lower-case letters, digits, "-" or "_", starting with a letter or digit.`,
    );
  return slug;
}

/** Role slugs as a caller sends them: normalized, each once. */
export function slugsOf(raw: readonly string[]): string[] {
  return [...new Set(raw.map(slugOf))];
}

/** A display name: trimmed, not empty, at most 200 characters. */
export function nameOf(raw: string): string {
  const name = raw.trim();
  if (name === '' || name.length > 200) throw new AppError('INVALID_NAME');
  return name;
}

/** Scopes as a caller sends them: each `action:resource` (or a bare action), each once. */
export function scopesOf(raw: readonly string[]): string[] {
  const scopes = raw.map((s) => s.trim());
  const bad = scopes.find((s) => !isValidScope(s));
  if (bad !== undefined) throw new AppError('INVALID_SCOPE', `"${bad.slice(0, 80)}" is not a valid scope (action:resource).`);
  return [...new Set(scopes)];
}

/**
 * Nobody but an administrator grants what it does not hold: a caller that may give roles or
 * scopes (to a user, a member, or a role) can only give scopes its own scopes cover. Without
 * this, `update:users` alone would let a caller give itself any scope.
 */
export function checkGrantable(actor: Actor, scopes: readonly string[]): void {
  if (actor.principal.isAdmin) return;
  const beyond = [...new Set(scopes)].filter((s) => !hasScope(actor.principal.scopes, s));
  if (beyond.length) {
    throw new AppError('GRANT_EXCEEDS_CALLER', `Only administrators may grant scopes they do not hold: ${beyond.slice(0, 10).join(', ')}.`);
  }
}
