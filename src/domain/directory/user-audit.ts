import type { AuditLog } from '../audit.js';
import type { Actor } from './actor.js';

/**
 * Records that `actor` created, changed or deleted a user, under the user's (first) identifier:
 * the one audit event of the directory's and the legacy API's user changes alike.
 */
export function recordUserChange(
  audit: AuditLog,
  type: 'user.create' | 'user.update' | 'user.delete',
  actor: Actor,
  identifier: string | undefined,
  client: { ip: string; userAgent: string },
): Promise<void> {
  return audit.record({ type, outcome: 'success', actorId: actor.principal.id, identifier, ...client });
}
