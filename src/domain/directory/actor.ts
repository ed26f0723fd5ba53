import type { Permission } from '../access/permissions.js';
import type { Principal } from '../principal.js';

/**
 * The caller as the Directory's rules see it: who it is, and whether it holds a permission
 * (administrators hold every one). The service builds it from the authorization interceptor's
 * rule, so "holds" has one definition.
 */
export interface Actor {
  principal: Principal;
  may(permission: Permission): boolean;
}

/** Whether the caller is this very user (an agent never is). */
export function isSelf(actor: Actor, userId: string): boolean {
  return actor.principal.kind === 'user' && actor.principal.id === userId;
}
