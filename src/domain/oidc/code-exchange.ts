import type { DataSource } from 'typeorm';
import { newTokenId, sha256Hex } from '../../auth/index.js';
import { findUserView } from '../../db/repositories/directory-users.js';
import { findSession, insertSession } from '../../db/repositories/sessions.js';
import { AppError } from '../../errors/index.js';
import type { Audiences } from '../audiences.js';
import type { AuditLog } from '../audit.js';
import type { Client } from '../auth/auth-flows.js';
import type { ClientCredentials } from '../oauth/client-credentials.js';
import type { Tokens } from '../tokens.js';
import { authenticateClient, mayUseClient, tokenAudienceOf } from './clients.js';
import { bindIssuedSession, redeemCode } from './codes.js';
import { claimsFor, rfc8176Amr } from './user-claims.js';

export interface CodeExchangeDeps {
  ds: DataSource;
  tokens: Tokens;
  audit: AuditLog;
  /** Its default is the SSO's own audience, which first-party clients' tokens are for. */
  audiences: Pick<Audiences, 'defaultAudience'>;
}

/** What the token endpoint answers for a code. */
export interface CodeTokens {
  accessToken: string;
  expiresIn: number;
  scope: string;
  refreshToken?: string;
  idToken?: string;
}

/**
 * The authorization code grant (OpenID Connect Core 3.1.3). The client authenticates (or, if
 * public, names itself: PKCE protects it), the code is redeemed once for that client, redirect
 * URI and verifier, and the SSO session it was issued under must still be live and the user
 * active and allowed to use the client (mayUseClient: assigned to the app). What it gets is a
 * session of its own under that SSO session (so logging out there ends it): an access token for
 * the app's audience (the audience the seed's verifiers check; the SSO's own for a first-party
 * client, see tokenAudienceOf), an ID token for the client id, and a refresh token only when
 * `offline_access` was granted.
 */
export class CodeExchange {
  constructor(private readonly d: CodeExchangeDeps) {}

  async exchange(
    input: { code: string; redirectUri: string; codeVerifier: string; credentials: ClientCredentials },
    from: Client,
  ): Promise<CodeTokens> {
    const client = await authenticateClient(this.d.ds, input.credentials);
    const redeemed = await redeemCode(this.d.ds, {
      code: input.code,
      clientId: client.id,
      redirectUri: input.redirectUri,
      codeVerifier: input.codeVerifier,
    });
    const grant = redeemed.record;
    if (client.clientType === 'public' && grant.codeChallenge === null)
      throw new AppError('INVALID_GRANT', 'A public client must use PKCE.');
    const browser = await findSession(this.d.ds, grant.browserSessionId);
    if (!browser || browser.revokedAt || browser.expiresAt.getTime() <= Date.now()) {
      throw new AppError('INVALID_GRANT', 'The sign-in this code came from has ended.');
    }
    const user = await findUserView(this.d.ds, grant.userId);
    if (!user || !user.isActive) throw new AppError('INVALID_GRANT', 'The user cannot sign in.');
    if (!(await mayUseClient(this.d.ds, client, user.id))) throw new AppError('INVALID_GRANT', 'The user is not assigned to this app.');

    const audience = tokenAudienceOf(client, this.d.audiences.defaultAudience);
    const refreshJti = newTokenId();
    const session = await insertSession(this.d.ds, {
      id: crypto.randomUUID(),
      kind: 'oidc',
      parentId: browser.id,
      clientId: client.id,
      oidcScopes: grant.scopes,
      userId: user.id,
      refreshHash: sha256Hex(refreshJti),
      audience,
      workspaceId: null,
      amr: browser.amr,
      authTime: browser.authTime,
      userAgent: from.userAgent,
      ip: from.ip,
      ttlSeconds: this.d.tokens.settings.refreshTtl,
    });
    await bindIssuedSession(this.d.ds, redeemed, session.id);

    const [access, refreshToken, idToken] = await Promise.all([
      this.d.tokens.issueAccess({
        sub: user.id,
        aud: audience,
        sessionId: session.id,
        roles: user.roles,
        scopes: user.scopes,
        amr: session.amr,
      }),
      grant.scopes.includes('offline_access')
        ? this.d.tokens.issueRefresh({ sub: user.id, aud: audience, sessionId: session.id, jti: refreshJti })
        : Promise.resolve(undefined),
      grant.scopes.includes('openid')
        ? this.d.tokens.issueIdToken({
            sub: user.id,
            clientId: client.id,
            nonce: grant.nonce ?? undefined,
            authTime: browser.authTime,
            amr: rfc8176Amr(browser.amr),
            sid: browser.id,
            claims: { ...claimsFor(user, grant.scopes) },
          })
        : Promise.resolve(undefined),
    ]);
    await this.d.audit.record({ type: 'authorization_code', outcome: 'success', actorId: user.id, identifier: client.id, ...from });
    return {
      accessToken: access.token,
      expiresIn: this.d.tokens.settings.accessTtl,
      scope: grant.scopes.join(' '),
      ...(refreshToken ? { refreshToken } : {}),
      ...(idToken ? { idToken } : {}),
    };
  }
}
