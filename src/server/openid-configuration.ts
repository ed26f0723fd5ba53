import { MFA_ACR } from '../domain/factors/amr.js';
import { knownOidcScopes } from '../domain/oidc/clients.js';

/**
 * OpenID Provider metadata (OpenID Connect Discovery 1.0, RFC 8414): every endpoint and
 * capability as they truly are, since relying parties configure themselves from it. Only the
 * authorization code flow (no implicit or hybrid), PKCE with S256 only, the issuer in every
 * authorization response (RFC 9207).
 */
export function openidConfiguration(issuer: string, algorithms: string[]): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oidc/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    userinfo_endpoint: `${issuer}/oidc/userinfo`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    end_session_endpoint: `${issuer}/oidc/logout`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    scopes_supported: [...knownOidcScopes],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    code_challenge_methods_supported: ['S256'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: algorithms,
    // Agents' client_credentials use an API key as the secret; OpenID Connect clients theirs, or
    // none at all for a public client (PKCE instead).
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    prompt_values_supported: ['none', 'login'],
    // Stated after a sign-in with two factors (see domain/factors/amr.ts); acr_values is not read.
    acr_values_supported: [MFA_ACR],
    claims_supported: [
      'iss',
      'sub',
      'aud',
      'azp',
      'iat',
      'exp',
      'auth_time',
      'nonce',
      'amr',
      'acr',
      'sid',
      'email',
      'email_verified',
      'name',
      'preferred_username',
      'phone_number',
      'phone_number_verified',
      'updated_at',
      // Access tokens (the contract's claims).
      'nbf',
      'jti',
      'token_type',
      'session_id',
      'workspace_id',
      'roles',
      'scopes',
    ],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    authorization_response_iss_parameter_supported: true,
    frontchannel_logout_supported: false,
    backchannel_logout_supported: false,
  };
}
