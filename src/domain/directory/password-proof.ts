import type { PasswordHasher } from '../../auth/index.js';
import { findUserById } from '../../db/repositories/users.js';
import type { Db } from '../../db/repositories/sql.js';
import { AppError } from '../../errors/index.js';
import type { Actor } from './actor.js';
import { isSelf } from './actor.js';

/**
 * A sensitive change to one's own account (a new password) needs proof beyond the access token:
 * the current password. Without it a token stolen for fifteen minutes would become a permanent
 * takeover (and would sign the owner out everywhere). An API key never proves it: a key is a
 * narrower credential than its owner. Someone changing another user's password is held by the
 * rule of who may act on whom instead. Runs outside any transaction (bcrypt is slow).
 */
export async function proveOwnPassword(db: Db, passwords: PasswordHasher, actor: Actor, userId: string, current: string | undefined): Promise<void> {
  if (!isSelf(actor, userId)) return;
  if (actor.principal.via === 'api_key') {
    throw new AppError('PERMISSION_DENIED', 'An API key cannot change its owner\'s password; sign in to do that.');
  }
  if (current === undefined || current === '') throw new AppError('CURRENT_PASSWORD_REQUIRED');
  const user = await findUserById(db, userId);
  const { ok } = await passwords.verify(current, user?.passwordHash);
  if (!ok) throw new AppError('CURRENT_PASSWORD_INCORRECT');
}
