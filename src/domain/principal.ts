/** Who is calling: established once per call by the authentication interceptor. */
export interface Principal {
  kind: 'user' | 'agent';
  /** The user's or agent's id (the token's `sub`). */
  id: string;
  isAdmin: boolean;
  scopes: string[];
  roles: string[];
  /** How the caller proved itself. */
  via: 'access_token' | 'api_key';
  sessionId?: string;
  workspaceId?: string;
  apiKeyId?: string;
  /** The access token's `aud` (absent for API keys): the service's own API takes only its own. */
  audience?: string;
}
