import type { DataSource } from 'typeorm';
import { agentStanding } from '../../db/repositories/agents.js';
import { sessionStanding } from '../../db/repositories/sessions.js';
import { AppError } from '../../errors/index.js';
import { intersectScopes } from '../scopes.js';
import { isUuid } from '../paging.js';
import type { Principal } from '../principal.js';
import type { AccessClaims, Tokens } from '../tokens.js';
import { cachedStanding, standingCacheOf } from './standing-cache.js';

/** Turns a presented credential into a principal, or throws an AppError saying why not. */
export interface Authenticator {
  /** The audience of the service's own tokens: the only one its API accepts (but see `any_audience`). */
  readonly ownAudience: string;
  fromAccessToken(token: string): Promise<Principal>;
  fromApiKey(key: string): Promise<Principal>;
}

/**
 * Turns credentials into principals. An access token must verify and its session must still be
 * live and its user active: logout and revocation take effect at once for everything the server
 * checks. Roles and scopes come from the token; the administrator flag from the database. An
 * agent's token has no session: its agent must exist and be active now, and its scopes count
 * only as far as the agent still holds them. Standings that pass are kept by the database's
 * revocation cache (standing-cache.ts), which drops them when the database announces a change.
 */
export class CredentialChecker implements Authenticator {
  constructor(
    private readonly ds: DataSource,
    private readonly tokens: Tokens,
    /** The audience of tokens issued for this service itself (`SSO_AUDIENCE`). */
    readonly ownAudience: string,
    private readonly apiKeys: (key: string) => Promise<Principal> = async () => {
      throw new AppError('INVALID_API_KEY');
    },
  ) {}

  /** Verifies an access token fully; returns its claims, whose it is, and standing. */
  async checkAccessToken(token: string): Promise<{ claims: AccessClaims; isAdmin: boolean; kind: 'user' | 'agent' }> {
    // The revocation cache's barrier travels while the signature is checked.
    const begun = standingCacheOf(this.ds)?.barrierNow();
    const claims = await this.tokens.verifyAccess(token);
    if (!claims.session_id) return { claims: await this.checkAgentToken(claims, begun), isAdmin: false, kind: 'agent' };
    const sessionId = claims.session_id;
    const standing = await cachedStanding(
      this.ds,
      `session ${sessionId} ${claims.sub}`,
      () => sessionStanding(this.ds, sessionId, claims.sub),
      (s) => (s?.live && s.isActive ? { tags: [`s:${sessionId}`, `u:${claims.sub}`], expiresAt: s.expiresAt.getTime() } : undefined),
      begun,
    );
    if (!standing?.live) throw new AppError('SESSION_REVOKED');
    if (!standing.isActive) throw new AppError('USER_INACTIVE');
    return { claims, isAdmin: standing.isAdmin, kind: 'user' };
  }

  private async checkAgentToken(claims: AccessClaims, begun: Promise<void> | undefined): Promise<AccessClaims> {
    const credential =
      typeof claims.api_key_id === 'string' && isUuid(claims.api_key_id)
        ? { apiKeyId: claims.api_key_id }
        : typeof claims.agent_key_kid === 'string'
          ? { agentKeyKid: claims.agent_key_kid }
          : undefined;
    const agentId = claims.sub;
    const agent = isUuid(agentId)
      ? await cachedStanding(
          this.ds,
          `agent ${agentId} ${credential ? JSON.stringify(credential) : ''}`,
          () => agentStanding(this.ds, agentId, credential),
          (a) =>
            a?.isActive && a.credentialLive
              ? {
                  tags: [`a:${agentId}`, ...(credential && 'apiKeyId' in credential ? [`k:${credential.apiKeyId}`] : [])],
                  expiresAt: a.credentialExpiresAt?.getTime() ?? null,
                }
              : undefined,
          begun,
        )
      : undefined;
    if (!agent) throw new AppError('INVALID_TOKEN');
    if (!agent.isActive) throw new AppError('AGENT_INACTIVE');
    // The key it was issued against was revoked (or the public key removed): so is the token.
    if (!agent.credentialLive) throw new AppError('SESSION_REVOKED');
    return { ...claims, scopes: intersectScopes(Array.isArray(claims.scopes) ? claims.scopes : [], agent.scopes) };
  }

  async fromAccessToken(token: string): Promise<Principal> {
    const { claims, isAdmin, kind } = await this.checkAccessToken(token);
    return {
      kind,
      id: claims.sub,
      isAdmin,
      scopes: Array.isArray(claims.scopes) ? claims.scopes : [],
      roles: Array.isArray(claims.roles) ? claims.roles : [],
      via: 'access_token',
      ...(claims.session_id ? { sessionId: claims.session_id } : {}),
      ...(claims.workspace_id ? { workspaceId: claims.workspace_id } : {}),
      audience: claims.aud,
    };
  }

  fromApiKey(key: string): Promise<Principal> {
    return this.apiKeys(key);
  }
}
