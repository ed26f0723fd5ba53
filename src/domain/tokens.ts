import { newTokenId, signJwt, TokenError, verifyJwt } from '../auth/index.js';
import { AppError } from '../errors/index.js';
import { acrOf } from './factors/amr.js';
import type { KeyStore } from './keys/key-store.js';

export interface AccessClaims {
  iss: string;
  sub: string;
  aud: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  token_type: 'access';
  session_id?: string;
  workspace_id?: string;
  roles: string[];
  scopes: string[];
  amr: string[];
  /** Only when the sign-in showed two factors (see factors/amr.ts). */
  acr?: string;
  /** Agents' tokens only: the API key (id) or public key (kid) the token was issued against. */
  api_key_id?: string;
  agent_key_kid?: string;
}

export interface RefreshClaims {
  iss: string;
  sub: string;
  aud: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  token_type: 'refresh';
  session_id: string;
}

export interface TokenSettings {
  issuer: string;
  accessTtl: number;
  refreshTtl: number;
}

function acrClaim(amr: readonly string[]): { acr?: string } {
  const acr = acrOf(amr);
  return acr ? { acr } : {};
}

/**
 * Issues and checks the server's JWTs: exactly the claims of the contract, nothing more, but for
 * agents' tokens, which also name the credential they were issued against so that revoking that
 * credential ends them at once (see domain/auth/authenticator.ts), and `acr` after a sign-in with
 * two factors.
 */
export class Tokens {
  constructor(
    private readonly keys: KeyStore,
    readonly settings: TokenSettings,
    /** The time in ms: what iat/nbf/exp are set from and checked against. */
    private readonly clock: () => number = Date.now,
  ) {}

  async issueAccess(input: {
    sub: string;
    aud: string;
    sessionId?: string;
    workspaceId?: string | null;
    roles: string[];
    scopes: string[];
    amr: string[];
    credential?: { apiKeyId: string } | { agentKeyKid: string };
  }): Promise<{ token: string; claims: AccessClaims }> {
    const now = Math.floor(this.clock() / 1000);
    const claims: AccessClaims = {
      iss: this.settings.issuer,
      sub: input.sub,
      aud: input.aud,
      iat: now,
      nbf: now,
      exp: now + this.settings.accessTtl,
      jti: newTokenId(),
      token_type: 'access',
      ...(input.sessionId ? { session_id: input.sessionId } : {}),
      ...(input.workspaceId ? { workspace_id: input.workspaceId } : {}),
      roles: input.roles,
      scopes: input.scopes,
      amr: input.amr,
      ...acrClaim(input.amr),
      ...(input.credential && 'apiKeyId' in input.credential ? { api_key_id: input.credential.apiKeyId } : {}),
      ...(input.credential && 'agentKeyKid' in input.credential ? { agent_key_kid: input.credential.agentKeyKid } : {}),
    };
    return { token: await signJwt({ ...claims }, await this.keys.signingKey()), claims };
  }

  /**
   * An OpenID Connect ID token (Core 2): for the client (`aud` its client id, `azp` too), saying
   * who signed in, when (`auth_time`), how (`amr`; `acr` after two factors), in which SSO
   * session (`sid`), echoing the request's `nonce`, with the claims the scopes release. No
   * `token_type`: it is never accepted where an access or refresh token is expected.
   */
  async issueIdToken(input: {
    sub: string;
    clientId: string;
    nonce?: string;
    authTime: Date;
    amr: string[];
    sid: string;
    claims: Record<string, unknown>;
  }): Promise<string> {
    const now = Math.floor(this.clock() / 1000);
    return signJwt(
      {
        ...input.claims,
        iss: this.settings.issuer,
        sub: input.sub,
        aud: input.clientId,
        azp: input.clientId,
        iat: now,
        exp: now + this.settings.accessTtl,
        auth_time: Math.floor(input.authTime.getTime() / 1000),
        ...(input.nonce ? { nonce: input.nonce } : {}),
        amr: input.amr,
        ...acrClaim(input.amr),
        sid: input.sid,
      },
      await this.keys.signingKey(),
    );
  }

  /**
   * An ID token this server issued, as an `id_token_hint` (RP-initiated logout): the signature
   * and issuer must check out; it may have expired (a hint is often old). Throws INVALID_TOKEN.
   */
  async verifyIdTokenHint(token: string): Promise<{ sub: string; aud: string; sid?: string }> {
    try {
      const claims = await verifyJwt(token, {
        resolveKey: (kid) => this.keys.verificationKey(kid),
        issuer: this.settings.issuer,
        algorithms: ['ES256', 'RS256', 'EdDSA'],
        now: this.clock(),
        clockToleranceSec: 10 * 365 * 86_400,
      });
      if (typeof claims.sub !== 'string' || typeof claims.aud !== 'string' || claims.token_type !== undefined)
        throw new AppError('INVALID_TOKEN');
      return { sub: claims.sub, aud: claims.aud, ...(typeof claims.sid === 'string' ? { sid: claims.sid } : {}) };
    } catch (e) {
      if (e instanceof AppError) throw e;
      if (e instanceof TokenError) throw new AppError('INVALID_TOKEN');
      throw e;
    }
  }

  async issueRefresh(input: { sub: string; aud: string; sessionId: string; jti: string }): Promise<string> {
    const now = Math.floor(this.clock() / 1000);
    const claims: RefreshClaims = {
      iss: this.settings.issuer,
      sub: input.sub,
      aud: input.aud,
      iat: now,
      nbf: now,
      exp: now + this.settings.refreshTtl,
      jti: input.jti,
      token_type: 'refresh',
      session_id: input.sessionId,
    };
    return signJwt({ ...claims }, await this.keys.signingKey());
  }

  async verifyAccess(token: string): Promise<AccessClaims> {
    return (await this.verify(token, 'access')) as unknown as AccessClaims;
  }

  async verifyRefresh(token: string): Promise<RefreshClaims> {
    const claims = (await this.verify(token, 'refresh')) as unknown as RefreshClaims;
    if (typeof claims.session_id !== 'string' || typeof claims.jti !== 'string') throw new AppError('INVALID_TOKEN');
    return claims;
  }

  private async verify(token: string, tokenType: string): Promise<Record<string, unknown>> {
    try {
      const claims = await verifyJwt(token, {
        resolveKey: (kid) => this.keys.verificationKey(kid),
        issuer: this.settings.issuer,
        tokenType,
        algorithms: ['ES256', 'RS256', 'EdDSA'],
        now: this.clock(),
        clockToleranceSec: 5,
        // A refresh token is presented once (rotation retires it): not worth a place in the memo.
        remember: tokenType !== 'refresh',
      });
      if (typeof claims.sub !== 'string') throw new AppError('INVALID_TOKEN');
      return claims;
    } catch (e) {
      if (e instanceof TokenError) throw new AppError(e.reason === 'expired' ? 'TOKEN_EXPIRED' : 'INVALID_TOKEN');
      throw e;
    }
  }
}
