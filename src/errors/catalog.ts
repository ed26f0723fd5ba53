import { Code } from '@connectrpc/connect';

/**
 * Every reason the service gives for refusing a call, with its Connect code and the message a
 * caller sees. Callers branch on the reason (`error_code` over REST, `ErrorInfo.reason` over RPC),
 * so reasons never change meaning once published.
 */
export const catalog = {
  // Input
  INVALID_ARGUMENT: { code: Code.InvalidArgument, message: 'The request is invalid.' },
  MISSING_FIELD: { code: Code.InvalidArgument, message: 'A required field is missing.' },
  INVALID_IDENTIFIER: { code: Code.InvalidArgument, message: 'The identifier is not a valid e-mail address, phone number or username.' },
  WEAK_PASSWORD: { code: Code.InvalidArgument, message: 'The password must be 8 to 72 bytes long.' },
  INVALID_AUDIENCE: { code: Code.InvalidArgument, message: 'The audience is not a registered or allowed audience.' },
  INVALID_PAGINATION: { code: Code.InvalidArgument, message: 'offset must be 0 or more and limit from 1 to 100.' },
  INVALID_ID: { code: Code.InvalidArgument, message: 'The id is not a valid UUID.' },
  INVALID_SLUG: {
    code: Code.InvalidArgument,
    message: 'A slug is 1 to 64 lower-case letters, digits, "-" or "_", starting with a letter or digit.',
  },
  INVALID_NAME: { code: Code.InvalidArgument, message: 'The name must not be empty (at most 200 characters).' },
  INVALID_SCOPE: { code: Code.InvalidArgument, message: 'A scope has the form action:resource.' },
  UNKNOWN_ROLE: { code: Code.InvalidArgument, message: 'No role has that slug.' },
  // Credentials
  UNAUTHENTICATED: { code: Code.Unauthenticated, message: 'Authentication is required.' },
  INVALID_CREDENTIALS: { code: Code.Unauthenticated, message: 'Invalid identifier or password.' },
  INVALID_TOKEN: { code: Code.Unauthenticated, message: 'The token is invalid.' },
  WRONG_AUDIENCE: {
    code: Code.Unauthenticated,
    message: 'The token was issued for another audience (an app); this API accepts only its own tokens.',
  },
  TOKEN_EXPIRED: { code: Code.Unauthenticated, message: 'The token has expired.' },
  SESSION_REVOKED: { code: Code.Unauthenticated, message: 'The session has ended.' },
  REFRESH_TOKEN_REUSED: { code: Code.Unauthenticated, message: 'The refresh token was already used; the session has been revoked.' },
  INVALID_API_KEY: { code: Code.Unauthenticated, message: 'The API key is invalid, expired or revoked.' },
  METRICS_TOKEN_REQUIRED: {
    code: Code.Unauthenticated,
    message: 'Metrics are served only with "Authorization: Bearer <SSO_METRICS_TOKEN>".',
  },
  USER_INACTIVE: { code: Code.PermissionDenied, message: 'The user account is inactive.' },
  // Authorization
  PERMISSION_DENIED: { code: Code.PermissionDenied, message: 'The caller lacks the permission this call needs.' },
  ADMIN_REQUIRED: { code: Code.PermissionDenied, message: 'Only administrators may do this.' },
  ACCESS_NOT_DECLARED: { code: Code.PermissionDenied, message: 'This call declares no access rule and is denied.' },
  REGISTRATION_DISABLED: { code: Code.PermissionDenied, message: 'Registration is disabled.' },
  NOT_A_WORKSPACE_MEMBER: { code: Code.PermissionDenied, message: 'The user is not a member of that workspace.' },
  GRANT_EXCEEDS_CALLER: { code: Code.PermissionDenied, message: 'Only administrators may grant scopes they do not hold themselves.' },
  TARGET_EXCEEDS_CALLER: {
    code: Code.PermissionDenied,
    message: 'Only administrators may act on a principal that holds grants the caller does not hold.',
  },
  CROSS_SITE_REQUEST: {
    code: Code.PermissionDenied,
    message: 'A call authenticated by cookie must come from an allowed origin and must not carry a form body.',
  },
  CURRENT_PASSWORD_REQUIRED: {
    code: Code.InvalidArgument,
    message: 'Changing your own password needs your current password (current_password).',
  },
  CURRENT_PASSWORD_INCORRECT: { code: Code.PermissionDenied, message: 'The current password is not correct.' },
  KEY_OUTLIVES_PARENT: { code: Code.InvalidArgument, message: 'A key made with an API key cannot outlive it.' },
  // Second factors
  MFA_REQUIRED: {
    code: Code.Unauthenticated,
    message:
      'This account signs in with a second factor: log in with POST /api/sso/v1/auth/login (Login), then complete it with POST /api/sso/v1/auth/mfa (CompleteLogin).',
  },
  INVALID_MFA_TOKEN: { code: Code.Unauthenticated, message: 'The mfa_token is invalid, expired or already used: log in again.' },
  INVALID_SECOND_FACTOR: {
    code: Code.Unauthenticated,
    message: 'The second factor is not valid (a wrong or already used code, or a passkey that did not verify).',
  },
  SECOND_FACTOR_MISSING: {
    code: Code.InvalidArgument,
    message:
      'Give exactly one second factor: totp_code, recovery_code or passkey_assertion (after mfa_enrollment_required: totp_code or passkey_registration).',
  },
  TOTP_ALREADY_ENROLLED: {
    code: Code.AlreadyExists,
    message: 'A TOTP authenticator is already enrolled: remove it first to enrol another.',
  },
  TOTP_NOT_PENDING: { code: Code.FailedPrecondition, message: 'No TOTP enrolment is waiting for a first code: start one first.' },
  INVALID_PASSKEY: {
    code: Code.InvalidArgument,
    message: 'The passkey registration did not verify (challenge, origin or relying party did not match, or the challenge expired).',
  },
  PASSKEY_TAKEN: { code: Code.AlreadyExists, message: 'That passkey is already registered.' },
  PASSKEY_NOT_FOUND: { code: Code.NotFound, message: 'Passkey not found.' },
  FACTOR_PROOF_REQUIRED: {
    code: Code.InvalidArgument,
    message: 'This needs proof of a current factor: proof.totp_code, proof.recovery_code or proof.password.',
  },
  FACTOR_PROOF_INCORRECT: { code: Code.PermissionDenied, message: 'The proof of a current factor is not correct.' },
  // Throttling
  TOO_MANY_ATTEMPTS: { code: Code.ResourceExhausted, message: 'Too many failed attempts; try again later.' },
  // Existence
  NOT_FOUND: { code: Code.NotFound, message: 'Not found.' },
  USER_NOT_FOUND: { code: Code.NotFound, message: 'User not found.' },
  SESSION_NOT_FOUND: { code: Code.NotFound, message: 'Session not found.' },
  WORKSPACE_NOT_FOUND: { code: Code.NotFound, message: 'Workspace not found.' },
  ROLE_NOT_FOUND: { code: Code.NotFound, message: 'Role not found.' },
  MEMBER_NOT_FOUND: { code: Code.NotFound, message: 'The user is not a member of that workspace.' },
  APP_NOT_FOUND: { code: Code.NotFound, message: 'App not found.' },
  APP_NOT_ASSIGNED: { code: Code.PermissionDenied, message: 'User not authorized for this application.' },
  IDENTIFIER_TAKEN: { code: Code.AlreadyExists, message: 'That identifier is already in use.' },
  WORKSPACE_SLUG_TAKEN: { code: Code.AlreadyExists, message: 'That workspace slug is already in use.' },
  ROLE_SLUG_TAKEN: { code: Code.AlreadyExists, message: 'That role slug is already in use in its workspace (or among global roles).' },
  ALREADY_MEMBER: { code: Code.AlreadyExists, message: 'The user is already a member of that workspace.' },
  LAST_ADMIN: { code: Code.FailedPrecondition, message: 'The last active administrator cannot be removed, deactivated or demoted.' },
  AUDIENCE_TAKEN: { code: Code.AlreadyExists, message: 'That audience is already used by another app.' },
  NOT_A_CONFIDENTIAL_CLIENT: {
    code: Code.FailedPrecondition,
    message: 'This app is a public client: it has no client secret to rotate (set client_type to "confidential" to give it one).',
  },
  // Machines: agents, API keys, OAuth (the OAuth reasons are RFC 6749's error codes in upper case)
  SCOPES_EXCEED_OWNER: { code: Code.InvalidArgument, message: "A key's scopes must be within its owner's." },
  AGENT_NOT_FOUND: { code: Code.NotFound, message: 'Agent not found.' },
  AGENT_INACTIVE: { code: Code.Unauthenticated, message: 'The agent is deactivated.' },
  API_KEY_NOT_FOUND: { code: Code.NotFound, message: 'API key not found.' },
  AGENT_KEY_NOT_FOUND: { code: Code.NotFound, message: 'Agent key not found.' },
  AGENT_KEY_TAKEN: { code: Code.AlreadyExists, message: 'That public key is already registered.' },
  INVALID_PUBLIC_KEY: { code: Code.InvalidArgument, message: 'The public key is not an Ed25519 public key.' },
  INVALID_ASSERTION: { code: Code.Unauthenticated, message: 'The agent assertion is invalid.' },
  ASSERTION_REPLAYED: { code: Code.Unauthenticated, message: 'The agent assertion was already used.' },
  INVALID_CLIENT: { code: Code.Unauthenticated, message: 'Client authentication failed.' },
  INVALID_GRANT: { code: Code.InvalidArgument, message: 'The grant is invalid, expired or revoked.' },
  UNSUPPORTED_GRANT_TYPE: { code: Code.InvalidArgument, message: 'The grant type is not supported.' },
  // Not yet available
  NOT_IMPLEMENTED: { code: Code.Unimplemented, message: 'This call is not implemented yet.' },
  // Everything unforeseen
  INTERNAL: { code: Code.Internal, message: 'Internal error.' },
} as const satisfies Record<string, { code: Code; message: string }>;

export type Reason = keyof typeof catalog;
