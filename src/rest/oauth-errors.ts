import { ErrorFormat } from '../../gen/sso/options/v1/options_pb.js';
import type { RestInputError } from './errors.js';
import type { RestError } from './response-json.js';
import type { CompiledRoute } from './routes.js';

/** RFC 6749 section 5.2's error body. */
export interface OAuthErrorBody {
  error: string;
  error_description: string;
}

/** The error codes of RFC 6749 section 5.2; a reason that is one of them in upper case maps to it. */
const oauthCodes = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
]);

/** For reasons that are not OAuth's own: the OAuth code closest to the Connect code. */
const byConnectCode: Record<string, string> = {
  invalid_argument: 'invalid_request',
  failed_precondition: 'invalid_request',
  out_of_range: 'invalid_request',
  unauthenticated: 'invalid_client',
  permission_denied: 'unauthorized_client',
  resource_exhausted: 'temporarily_unavailable',
  unavailable: 'temporarily_unavailable',
};

export function usesOAuthErrors(route: CompiledRoute): boolean {
  return route.errorFormat === ErrorFormat.OAUTH;
}

/**
 * A REST error in OAuth's shape: `{"error", "error_description"}`, 401 for `invalid_client`
 * (the client may then retry with other credentials), 400 for the other OAuth codes, and the
 * original status for what is not the client's fault (`server_error`, `temporarily_unavailable`).
 */
export function oauthError(error: RestError): { status: number; body: OAuthErrorBody } {
  const reason = error.body.error_code.toLowerCase();
  const code = oauthCodes.has(reason) ? reason : (byConnectCode[error.body.code] ?? 'server_error');
  const status = code === 'invalid_client' ? 401 : oauthCodes.has(code) ? 400 : error.status;
  return { status, body: { error: code, error_description: error.body.message } };
}

/** A malformed request (body, content type, size) in OAuth's shape: always `invalid_request`. */
export function oauthInputError(e: RestInputError): OAuthErrorBody {
  return { error: 'invalid_request', error_description: e.message };
}
