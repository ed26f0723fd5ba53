import type { DataSource } from 'typeorm';
import { sessionStanding } from '../../db/repositories/sessions.js';
import { AppError } from '../../errors/index.js';
import type { Authenticator } from '../../interceptors/authentication.js';
import type { Principal } from '../principal.js';
import type { AccessClaims, Tokens } from '../tokens.js';

/**
 * Turns credentials into principals. An access token must verify and its session must still be
 * live and its user active: logout and revocation take effect at once for everything the server
 * checks. Roles and scopes come from the token; the administrator flag from the database.
 */
export class CredentialChecker implements Authenticator {
  constructor(
    private readonly ds: DataSource,
    private readonly tokens: Tokens,
    private readonly apiKeys: (key: string) => Promise<Principal> = async () => { throw new AppError('INVALID_API_KEY'); },
  ) {}

  /** Verifies an access token fully; returns its claims and standing. */
  async checkAccessToken(token: string): Promise<{ claims: AccessClaims; isAdmin: boolean }> {
    const claims = await this.tokens.verifyAccess(token);
    if (!claims.session_id) throw new AppError('INVALID_TOKEN');
    const standing = await sessionStanding(this.ds, claims.session_id, claims.sub);
    if (!standing || !standing.live) throw new AppError('SESSION_REVOKED');
    if (!standing.isActive) throw new AppError('USER_INACTIVE');
    return { claims, isAdmin: standing.isAdmin };
  }

  async fromAccessToken(token: string): Promise<Principal> {
    const { claims, isAdmin } = await this.checkAccessToken(token);
    return {
      kind: 'user',
      id: claims.sub,
      isAdmin,
      scopes: Array.isArray(claims.scopes) ? claims.scopes : [],
      roles: Array.isArray(claims.roles) ? claims.roles : [],
      via: 'access_token',
      sessionId: claims.session_id,
      ...(claims.workspace_id ? { workspaceId: claims.workspace_id } : {}),
    };
  }

  fromApiKey(key: string): Promise<Principal> {
    return this.apiKeys(key);
  }
}
