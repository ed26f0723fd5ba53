import type { PasswordHasher } from '../../auth/index.js';
import { findUserById } from '../../db/repositories/users.js';
import type { Db } from '../../db/repositories/sql.js';
import { AppError } from '../../errors/index.js';
import type { AuditLog } from '../audit.js';
import type { LoginGuard } from '../auth/login-guard.js';
import { isSelf, type Actor } from './actor.js';

export interface PasswordProofDeps {
  db: Db;
  passwords: PasswordHasher;
  guard: LoginGuard;
  audit: AuditLog;
}

/**
 * A sensitive change to one's own account (a new password) needs proof beyond the access token:
 * the current password. Without it a token stolen for fifteen minutes would become a permanent
 * takeover (and would sign the owner out everywhere). The check is a password attempt like a
 * login's: counted by the account's lockout before bcrypt runs, and audited, so a stolen token
 * cannot be used to guess the password either. An API key never proves it: a key is a narrower
 * credential than its owner. Someone changing another user's password is held by the rule of who
 * may act on whom instead. Runs outside any transaction (bcrypt is slow).
 */
export async function proveOwnPassword(
  d: PasswordProofDeps,
  actor: Actor,
  userId: string,
  current: string | undefined,
  client: { ip: string; userAgent: string },
): Promise<void> {
  if (!isSelf(actor, userId)) return;
  if (actor.principal.via === 'api_key') {
    throw new AppError('PERMISSION_DENIED', "An API key cannot change its owner's password; sign in to do that.");
  }
  if (current === undefined || current === '') throw new AppError('CURRENT_PASSWORD_REQUIRED');
  const user = await findUserById(d.db, userId);
  if (!user) throw new AppError('USER_NOT_FOUND');
  const attempt = { identifier: user.identifiers[0]?.value ?? userId, userId, ip: client.ip };
  await d.guard.admit(attempt);
  const { ok } = await d.passwords.verify(current, user.passwordHash);
  if (!ok) {
    await d.audit.record({
      type: 'password.change',
      outcome: 'failure',
      actorId: userId,
      identifier: attempt.identifier,
      reason: 'CURRENT_PASSWORD_INCORRECT',
      ...client,
    });
    throw new AppError('CURRENT_PASSWORD_INCORRECT');
  }
  await d.guard.succeeded(attempt);
}
