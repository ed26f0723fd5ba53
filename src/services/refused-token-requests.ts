import type { UnaryRequest } from '@connectrpc/connect';
import { AuthService, type IssueTokenRequest } from '../../gen/sso/auth/v1/auth_service_pb.js';
import type { AuditLog } from '../domain/audit.js';
import { clientCredentialsOf } from '../domain/oauth/client-credentials.js';
import { recordClientCredentialsAttempt } from '../domain/oauth/token-attempts.js';
import type { AppError } from '../errors/index.js';
import { callInfoKey } from '../interceptors/call-context.js';
import type { RefusalObserver } from '../interceptors/validation.js';

/**
 * A client_credentials request refused by input validation (a NUL in client_id, an oversized
 * secret) never reaches the token endpoint, yet it is a failed machine sign-in: record it as the
 * endpoint records its own failures.
 */
export function auditRefusedTokenRequests(audit: AuditLog): RefusalObserver {
  return async (req: UnaryRequest, refusal: AppError) => {
    if (req.method !== AuthService.method.issueToken) return;
    const message = req.message as IssueTokenRequest;
    if (message.grantType !== 'client_credentials') return;
    let clientId = message.clientId;
    try {
      clientId = clientCredentialsOf(req.header.get('authorization'), message).id;
    } catch {
      // Malformed Basic credentials: the form's client_id is all there is to record.
    }
    await recordClientCredentialsAttempt(audit, {
      clientId,
      outcome: 'failure',
      reason: refusal.reason,
      from: req.contextValues.get(callInfoKey),
    });
  };
}
