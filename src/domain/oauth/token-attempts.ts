import type { AuditLog } from '../audit.js';
import type { Client } from '../auth/auth-flows.js';
import { isUuid } from '../paging.js';

/**
 * A machine sign-in (client_credentials) is a security event, like a person's: each success and
 * each failure is recorded the same way, whether the token endpoint refused it or the input
 * boundary did before it (a malformed client_id is a probe all the same).
 */
export function recordClientCredentialsAttempt(
  audit: AuditLog,
  attempt: { clientId: string; outcome: 'success' | 'failure'; reason?: string; from: Client },
): Promise<void> {
  const { clientId, outcome, reason, from } = attempt;
  return audit.record({
    type: 'client_credentials',
    outcome,
    reason,
    actorId: isUuid(clientId) ? clientId.toLowerCase() : null,
    identifier: clientId.slice(0, 200) || null,
    ip: from.ip,
    userAgent: from.userAgent,
  });
}
