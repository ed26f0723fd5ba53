// The console's sign-in: a public OpenID Connect client of the server it is served by
// (authorization code + PKCE S256 through the hosted sign-in page), whose tokens are for the
// SSO's own audience because the server knows this client as first-party (see
// src/domain/oidc/first-party.ts). Tokens live in memory only: a reload signs in again through
// the SSO session's cookie, without a prompt. The code exchange and every refresh go through the
// generated AuthService client (IssueToken, the RPC behind /oauth/token), like every other call.
import { createClient, type Client, type Interceptor } from '@connectrpc/connect';
import { FactorService } from '../../../gen/sso/auth/v1/factor_service_pb.js';
import type { User } from '../../../gen/sso/directory/v1/user_pb.js';
import { createSsoClients, type SsoClients } from '../../client/web.js';

export interface ConsoleConfig {
  issuer: string;
  clientId: string;
}

export function readConfig(): ConsoleConfig {
  const meta = (name: string) => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
  return { issuer: meta('sso-issuer').replace(/\/+$/, ''), clientId: meta('sso-client-id') };
}

const pendingKey = 'sso-console-sign-in';
/** Refresh this long before the access token expires. */
const refreshMargin = 60_000;

interface Pending {
  state: string;
  verifier: string;
  nonce: string;
  back: string;
}

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const random = (n: number) => b64url(crypto.getRandomValues(new Uint8Array(n)));

function claimsOf(jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[1] ?? '';
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
}

/** What the page shows instead of the console when nobody is signed in. */
export type SignedOut = { reason: 'signed-out' | 'ended' | 'refused'; message?: string };

export class ConsoleSession {
  readonly sso: SsoClients;
  readonly factors: Client<typeof FactorService>;
  me: User | undefined;
  private access: string | undefined;
  private refreshToken: string | undefined;
  private idToken: string | undefined;
  private expiresAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<void> | undefined;
  /** Called when the session ends under the console (refresh refused): it shows the sign-in screen. */
  onEnded: (why: SignedOut) => void = () => {};

  constructor(readonly config: ConsoleConfig) {
    // Before each call (but the token endpoint's own), a token about to expire is refreshed first.
    const fresh: Interceptor = (next) => async (req) => {
      if (req.method.name !== 'IssueToken' && this.refreshToken && Date.now() > this.expiresAt - refreshMargin / 2) {
        await this.refresh();
        if (this.access) req.header.set('authorization', `Bearer ${this.access}`);
      }
      return next(req);
    };
    this.sso = createSsoClients({ baseUrl: location.origin, transport: 'connect', interceptors: [fresh] });
    this.factors = createClient(FactorService, this.sso.transport);
  }

  private get redirectUri(): string {
    return `${this.config.issuer}/console/`;
  }

  /** Sends the browser to the hosted sign-in page (or, with an SSO session, straight back with a code). */
  async signIn(prompt?: 'login'): Promise<never> {
    const pending: Pending = { state: random(16), verifier: random(32), nonce: random(16), back: location.hash };
    sessionStorage.setItem(pendingKey, JSON.stringify(pending));
    const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(pending.verifier))));
    const params = new URLSearchParams({
      client_id: this.config.clientId,
      redirect_uri: this.redirectUri,
      response_type: 'code',
      scope: 'openid profile email offline_access',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...(prompt ? { prompt } : {}),
    });
    location.assign(`${this.config.issuer}/oidc/authorize?${params}`);
    return new Promise<never>(() => {});
  }

  /**
   * Completes a sign-in when the URL carries the hosted page's answer; otherwise undefined.
   * Throws a SignedOut for a refused or foreign answer (a `state` this tab did not send).
   */
  async completeSignIn(): Promise<boolean> {
    const url = new URL(location.href);
    const q = url.searchParams;
    if (!q.has('code') && !q.has('error') && !q.has('state')) return false;
    const pending = JSON.parse(sessionStorage.getItem(pendingKey) ?? 'null') as Pending | null;
    sessionStorage.removeItem(pendingKey);
    // Take the code (or the error) out of the address bar and the history at once.
    history.replaceState(null, '', `${url.pathname}${pending?.back ?? ''}`);
    if (q.get('state') === 'signed-out' && !q.has('code')) throw { reason: 'signed-out' } satisfies SignedOut;
    if (q.has('error')) throw { reason: 'refused', message: q.get('error_description') ?? q.get('error') ?? '' } satisfies SignedOut;
    if (!pending || q.get('state') !== pending.state)
      throw { reason: 'refused', message: 'The sign-in answer did not match this tab’s request. Sign in again.' } satisfies SignedOut;
    if (q.has('iss') && q.get('iss') !== this.config.issuer)
      throw { reason: 'refused', message: 'The sign-in answer came from another issuer.' } satisfies SignedOut;
    const tokens = await this.sso.auth.issueToken({
      grantType: 'authorization_code',
      clientId: this.config.clientId,
      code: q.get('code') ?? '',
      redirectUri: this.redirectUri,
      codeVerifier: pending.verifier,
    });
    // Straight from the token endpoint of the server that served this page, so its signature
    // needs no check here (OpenID Connect Core 3.1.3.7); its audience and nonce do.
    const id = claimsOf(tokens.idToken ?? '');
    if (id.aud !== this.config.clientId || id.nonce !== pending.nonce)
      throw { reason: 'refused', message: 'The ID token is not for this sign-in.' } satisfies SignedOut;
    this.idToken = tokens.idToken;
    this.take(tokens.accessToken, tokens.expiresIn, tokens.refreshToken);
    await this.loadMe();
    return true;
  }

  async loadMe(): Promise<User> {
    const { user } = await this.sso.auth.getMe({});
    if (!user) throw new Error('GetMe answered no user');
    this.me = user;
    return user;
  }

  get signedIn(): boolean {
    return this.access !== undefined;
  }

  private take(access: string, expiresIn: number, refresh: string | undefined): void {
    this.access = access;
    if (refresh) this.refreshToken = refresh;
    this.expiresAt = Date.now() + expiresIn * 1000;
    this.sso.setToken(access);
    clearTimeout(this.timer);
    if (this.refreshToken)
      this.timer = setTimeout(() => void this.refresh().catch(() => {}), Math.max(1000, expiresIn * 1000 - refreshMargin));
  }

  /** Rotates the refresh token (one at a time); a refused refresh ends the console's session. */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const t = await this.sso.auth.issueToken({
          grantType: 'refresh_token',
          clientId: this.config.clientId,
          refreshToken: this.refreshToken ?? '',
        });
        this.take(t.accessToken, t.expiresIn, t.refreshToken);
      } catch (e) {
        this.drop();
        this.onEnded({ reason: 'ended', message: 'Your session has ended (signed out elsewhere, revoked, or expired).' });
        throw e;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private drop(): void {
    clearTimeout(this.timer);
    this.access = this.refreshToken = undefined;
    this.sso.setToken(undefined);
  }

  /**
   * RP-initiated logout: the SSO ends its session and every app session under it (this one
   * included), then sends the browser back here with `state=signed-out`.
   */
  signOut(): void {
    const params = new URLSearchParams({
      client_id: this.config.clientId,
      post_logout_redirect_uri: this.redirectUri,
      state: 'signed-out',
      ...(this.idToken ? { id_token_hint: this.idToken } : {}),
    });
    this.drop();
    location.assign(`${this.config.issuer}/oidc/logout?${params}`);
  }
}
