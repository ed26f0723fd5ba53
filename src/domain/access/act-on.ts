import { AppError } from '../../errors/index.js';
import { scopesNotCovered } from '../scopes.js';
import type { Principal } from '../principal.js';

/**
 * What a principal that an actor wants to act on holds: for a user, the administrator flag and
 * every scope it can reach (direct scopes, global roles and the roles of every workspace it
 * belongs to, since it may select any of them at login); for an agent, its scopes.
 */
export interface TargetGrants {
  kind: 'user' | 'agent';
  id: string;
  isAdmin: boolean;
  scopes: readonly string[];
}

/**
 * The one rule of who may act on whom. Acting on a principal (changing, deactivating or deleting
 * it, setting its password, registering or removing its keys, making keys for it, revoking its
 * sessions or keys) hands the actor, at least for a while, what that principal holds, or takes
 * it away from its owner. So:
 *   - an administrator may act on anyone;
 *   - only an administrator may act on an administrator;
 *   - anyone else may act on a principal only when its own scopes cover every scope the target
 *     holds: `update:users` alone cannot take over a user holding `delete:users`, and
 *     `update:agents` cannot re-key an agent holding `*`.
 * A principal acting on itself holds what it holds, so the rule passes it (what it may change
 * about itself is decided by the rule of each change).
 */
export function checkMayActOn(principal: Principal, target: TargetGrants): void {
  if (principal.isAdmin) return;
  if (principal.kind === target.kind && principal.id === target.id) return;
  if (target.isAdmin) throw new AppError('ADMIN_REQUIRED', 'Only administrators may act on an administrator.');
  const beyond = scopesNotCovered(principal.scopes, target.scopes);
  if (beyond.length > 0) {
    throw new AppError(
      'TARGET_EXCEEDS_CALLER',
      `Only administrators may act on a principal holding what the caller does not: ${beyond.slice(0, 10).join(', ')}.`,
    );
  }
}
