import type { DataSource } from 'typeorm';
import { sha256Hex } from '../../auth/index.js';
import { findUserView } from '../../db/repositories/directory-users.js';
import { findSession, revokeSession, type SessionRecord } from '../../db/repositories/sessions.js';
import { AppError } from '../../errors/index.js';
import type { ClientCredentials } from '../oauth/client-credentials.js';
import type { AccessClaims, RefreshClaims, Tokens } from '../tokens.js';
import { authenticateClient, type OidcClient } from './clients.js';

/** What introspection says of an active token (RFC 7662 section 2.2). */
export interface Introspection {
  active: boolean;
  scope?: string;
  clientId?: string;
  username?: string;
  tokenType?: 'access_token' | 'refresh_token';
  exp?: number;
  iat?: number;
  nbf?: number;
  sub?: string;
  aud?: string;
  iss?: string;
  jti?: string;
  sid?: string;
}

type Found =
  | { kind: 'access_token'; claims: AccessClaims; session: SessionRecord }
  | { kind: 'refresh_token'; claims: RefreshClaims; session: SessionRecord };

/**
 * Revocation (RFC 7009) and introspection (RFC 7662) for OpenID Connect clients. A client sees
 * and ends only what was issued to it: a token of another client, of a login through the API, or
 * no token at all gets the same answer as an unknown one (revocation: success; introspection:
 * inactive), so neither endpoint tells one client about another's users.
 */
export class TokenAdmin {
  constructor(private readonly d: { ds: DataSource; tokens: Tokens }) {}

  /** The token's session, when the token checks out and the session belongs to this client. */
  private async find(token: string, hint: string, client: OidcClient): Promise<Found | undefined> {
    const order: ('access_token' | 'refresh_token')[] =
      hint === 'refresh_token' ? ['refresh_token', 'access_token'] : ['access_token', 'refresh_token'];
    for (const kind of order) {
      try {
        const claims = kind === 'access_token' ? await this.d.tokens.verifyAccess(token) : await this.d.tokens.verifyRefresh(token);
        if (!claims.session_id) return undefined;
        const session = await findSession(this.d.ds, claims.session_id);
        if (!session || session.clientId !== client.id || session.userId !== claims.sub) return undefined;
        return kind === 'access_token'
          ? { kind, claims: claims as AccessClaims, session }
          : { kind, claims: claims as RefreshClaims, session };
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
      }
    }
    return undefined;
  }

  /** Ends the session behind a token of this client (and so every token of it). */
  async revoke(input: { token: string; hint: string; credentials: ClientCredentials }): Promise<void> {
    const client = await authenticateClient(this.d.ds, input.credentials);
    const found = await this.find(input.token, input.hint, client);
    if (found) await revokeSession(this.d.ds, found.session.id, 'revoked_by_client');
  }

  /**
   * Whether a token of this client is active now: it verifies, its session is live, its user is
   * active, and a refresh token is the session's current one (a rotated-out one is not).
   */
  async introspect(input: { token: string; hint: string; credentials: ClientCredentials }): Promise<Introspection> {
    const client = await authenticateClient(this.d.ds, input.credentials);
    if (client.clientType !== 'confidential') throw new AppError('INVALID_CLIENT', 'Only confidential clients may introspect tokens.');
    const found = await this.find(input.token, input.hint, client);
    if (!found) return { active: false };
    const { session, claims } = found;
    const live = !session.revokedAt && session.expiresAt.getTime() > Date.now();
    const current = found.kind === 'access_token' || session.refreshHash === sha256Hex(found.claims.jti);
    const user = live && current ? await findUserView(this.d.ds, session.userId) : undefined;
    if (!user || !user.isActive) return { active: false };
    return {
      active: true,
      scope: session.oidcScopes.join(' '),
      clientId: client.id,
      username: user.identifiers[0]?.value,
      tokenType: found.kind,
      exp: claims.exp,
      iat: claims.iat,
      nbf: claims.nbf,
      sub: claims.sub,
      aud: claims.aud,
      iss: claims.iss,
      jti: claims.jti,
      sid: session.parentId ?? session.id,
    };
  }
}
