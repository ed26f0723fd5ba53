import type { DataSource } from 'typeorm';
import { AppError } from '../../errors/index.js';
import { resolveApiKey, type ResolvedApiKey } from '../apikeys/key-lookup.js';
import { issueAgentToken, narrowScopes } from '../agents/agent-tokens.js';
import type { Audiences } from '../audiences.js';
import type { AuditLog } from '../audit.js';
import type { AuthFlows, Client } from '../auth/auth-flows.js';
import { isUuid } from '../paging.js';
import type { Tokens } from '../tokens.js';
import { findSession, type SessionRecord } from '../../db/repositories/sessions.js';
import { authenticateClient } from '../oidc/clients.js';
import type { CodeExchange } from '../oidc/code-exchange.js';
import { clientCredentialsOf, type ClientCredentials } from './client-credentials.js';
import { recordClientCredentialsAttempt } from './token-attempts.js';

export interface TokenRequest {
  grantType: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  refreshToken: string;
  audience: string;
  /** The authorization_code grant's code, redirect URI and PKCE verifier. */
  code: string;
  redirectUri: string;
  codeVerifier: string;
  /** The Authorization header, which may carry HTTP Basic client credentials. */
  authorization: string | null;
}

export interface TokenAnswer {
  accessToken: string;
  expiresIn: number;
  /** Space-separated, as OAuth writes scopes. */
  scope: string;
  refreshToken?: string;
  idToken?: string;
}

export interface TokenEndpointDeps {
  ds: DataSource;
  tokens: Tokens;
  flows: AuthFlows;
  audiences: Audiences;
  audit: AuditLog;
  /** The authorization code grant. */
  codes: CodeExchange;
}

/**
 * The OAuth 2.0 token endpoint. `client_credentials`: the client is an agent (`client_id` its
 * id) and its secret one of its API keys; the token gets the key's scopes, or the subset asked
 * for with `scope`. `authorization_code`: an OpenID Connect client redeems a code from the
 * authorization endpoint (../oidc/code-exchange.ts). `refresh_token`: a user's refresh, with the
 * same rotation and reuse detection as /auth/refresh; a refresh token issued to an OpenID Connect
 * client is refreshed only by that client, authenticated. Failures are OAuth's error codes (the
 * REST route writes them as RFC 6749 section 5.2 says).
 */
export class TokenEndpoint {
  private readonly codes: CodeExchange;

  constructor(private readonly d: TokenEndpointDeps) {
    this.codes = d.codes;
  }

  issue(req: TokenRequest, client: Client): Promise<TokenAnswer> {
    switch (req.grantType) {
      case 'client_credentials':
        return this.clientCredentials(req, client);
      case 'authorization_code':
        return this.codes.exchange(
          {
            code: req.code,
            redirectUri: req.redirectUri,
            codeVerifier: req.codeVerifier,
            credentials: clientCredentialsOf(req.authorization, req),
          },
          client,
        );
      case 'refresh_token':
        return this.refresh(req, client);
      default:
        throw new AppError(
          'UNSUPPORTED_GRANT_TYPE',
          `The grant type "${req.grantType.slice(0, 80)}" is not supported: use authorization_code, client_credentials or refresh_token.`,
        );
    }
  }

  /**
   * A machine sign-in is a security event, like a person's: each success and failure is recorded.
   * The answer does not wait for the record's batch to be written (the grant is the point here,
   * and machines sign in at a rate the audit log batches well): it is queued before the answer
   * leaves, and written within a write's time after, or at a graceful stop.
   */
  private async clientCredentials(req: TokenRequest, from: Client): Promise<TokenAnswer> {
    let clientId = req.clientId;
    try {
      const client = clientCredentialsOf(req.authorization, req);
      clientId = client.id;
      const answer = await this.grantToClient(req, client);
      void recordClientCredentialsAttempt(this.d.audit, { clientId, outcome: 'success', from });
      return answer;
    } catch (e) {
      if (e instanceof AppError)
        void recordClientCredentialsAttempt(this.d.audit, { clientId, outcome: 'failure', reason: e.reason, from });
      throw e;
    }
  }

  private async grantToClient(req: TokenRequest, client: ClientCredentials): Promise<TokenAnswer> {
    const challenge: Record<string, string> = client.viaBasic ? { 'www-authenticate': 'Basic realm="sso"' } : {};
    if (!client.id || !client.secret) throw new AppError('INVALID_CLIENT', 'client_id and client_secret are required.', challenge);
    let key: ResolvedApiKey | undefined;
    try {
      key = isUuid(client.id) ? await resolveApiKey(this.d.ds, client.secret) : undefined;
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
    }
    if (!key || key.kind !== 'agent' || key.ownerId !== client.id.toLowerCase()) {
      throw new AppError('INVALID_CLIENT', 'Unknown client, wrong secret, or a revoked, expired or deactivated one.', challenge);
    }
    const scopes = narrowScopes(key.scopes, req.scope.split(' ').filter(Boolean));
    const audience = await this.d.audiences.resolve(req.audience);
    const token = await issueAgentToken(this.d.tokens, {
      agentId: key.ownerId,
      audience,
      scopes,
      amr: ['client_secret'],
      credential: { apiKeyId: key.keyId },
    });
    return { accessToken: token.accessToken, expiresIn: token.expiresIn, scope: scopes.join(' ') };
  }

  private async refresh(req: TokenRequest, client: Client): Promise<TokenAnswer> {
    if (!req.refreshToken) throw new AppError('MISSING_FIELD', 'refresh_token is required.');
    // A refresh token issued to an OpenID Connect client: that client must authenticate.
    const session = await this.oidcSessionOf(req.refreshToken);
    const oidcClient = session?.clientId ? await authenticateClient(this.d.ds, clientCredentialsOf(req.authorization, req)) : undefined;
    if (session && oidcClient && oidcClient.id !== session.clientId)
      throw new AppError('INVALID_GRANT', 'The refresh token was issued to another client.');
    try {
      const issued = await this.d.flows.refresh(req.refreshToken, client, oidcClient?.id ?? null);
      const scope = session?.clientId ? session.oidcScopes.join(' ') : issued.user.scopes.join(' ');
      return { accessToken: issued.accessToken, expiresIn: issued.expiresIn, scope, refreshToken: issued.refreshToken };
    } catch (e) {
      // Whatever is wrong with a presented refresh token, OAuth calls it an invalid grant.
      if (e instanceof AppError) throw new AppError('INVALID_GRANT', e.message);
      throw e;
    }
  }

  /** The session behind a refresh token that verifies; undefined for anything else (refused later). */
  private async oidcSessionOf(refreshToken: string): Promise<SessionRecord | undefined> {
    try {
      const claims = await this.d.tokens.verifyRefresh(refreshToken);
      return await findSession(this.d.ds, claims.session_id);
    } catch (e) {
      if (e instanceof AppError) return undefined;
      throw e;
    }
  }
}
