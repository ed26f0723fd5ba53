/** Who is calling: established once per call by the authentication interceptor. */
export interface Principal {
  kind: 'user' | 'agent';
  /** The user's or agent's id (the token's `sub`). */
  id: string;
  isAdmin: boolean;
  scopes: string[];
  roles: string[];
  /**
   * How the caller proved itself: an access token, an API key, or the SSO session cookie of a
   * user on the SSO's own pages (src/oidc/account.ts, which only manages the user's own factors).
   */
  via: 'access_token' | 'api_key' | 'sso_session';
  sessionId?: string;
  workspaceId?: string;
  apiKeyId?: string;
  /** The access token's `aud` (absent for API keys): the service's own API takes only its own. */
  audience?: string;
}
