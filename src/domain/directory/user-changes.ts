import { activeAdminExists, lockAdminGuard, setUserRoles, updateUserFields } from '../../db/repositories/directory-users.js';
import { revokeOtherSessions } from '../../db/repositories/sessions.js';
import type { Db } from '../../db/repositories/sql.js';
import { AppError } from '../../errors/index.js';
import { isSelf, type Actor } from './actor.js';
import { grantableRoleIds } from './roles.js';

/** What an update changes; a field left undefined was not sent and stays as it is. */
export interface UserChanges {
  roles?: string[];
  scopes?: string[];
  isActive?: boolean;
  isAdmin?: boolean;
  /** Already hashed (never inside a transaction). */
  passwordHash?: string;
}

/**
 * Applies changes to a user whose row the transaction has locked. Roles are set by slug (global
 * roles), and the administrator flag is never touched by roles. Refuses to leave the system
 * without an active administrator. A new password, by whichever route it comes, ends every other
 * session of the user: whoever knew the old one is signed out (the caller keeps its own session
 * when it changed its own password).
 */
export async function applyUserChanges(
  tx: Db,
  actor: Actor,
  user: { id: string; isAdmin: boolean; isActive: boolean },
  changes: UserChanges,
): Promise<void> {
  if (changes.roles !== undefined) await setUserRoles(tx, user.id, await grantableRoleIds(tx, actor, changes.roles, null));
  await updateUserFields(tx, user.id, {
    isActive: changes.isActive,
    isAdmin: changes.isAdmin,
    scopes: changes.scopes,
    passwordHash: changes.passwordHash,
  });
  if (user.isAdmin && user.isActive && (changes.isAdmin === false || changes.isActive === false)) await ensureAdminRemains(tx);
  if (changes.passwordHash !== undefined) {
    await revokeOtherSessions(tx, user.id, isSelf(actor, user.id) ? (actor.principal.sessionId ?? null) : null, 'password_changed');
  }
}

/**
 * Called after a change that may have removed an active administrator, inside its transaction.
 * The advisory lock makes such changes take turns, so two administrators demoting each other at
 * once cannot both succeed.
 */
export async function ensureAdminRemains(tx: Db): Promise<void> {
  await lockAdminGuard(tx);
  if (!(await activeAdminExists(tx))) throw new AppError('LAST_ADMIN');
}
