import { MFA_TOKEN_SECONDS } from '../domain/factors/login-gate.js';
import { cookie, cookiesOf, type Req } from './http.js';

export const heldCookieName = 'usso-mfa';
const tokenPattern = /^mfa_[A-Za-z0-9_-]{43}$/;

/**
 * A sign-in on the hosted page held between its password and its second step. The step is the
 * API's: a random, single-use mfa_token that lives 5 minutes (LoginGate), stored server-side as
 * its hash with everything the step needs (user, login name, purpose). The browser keeps only the
 * token, in an HttpOnly cookie: no script reads it, no form carries it (the page holds nothing a
 * user could edit into another step), and it is sent only to /oidc on same-site requests
 * (SameSite=Strict), so another site's post cannot continue it. Lasting no longer than the token.
 */
export function createHeldSignIns(opts: { secure: boolean }) {
  const attributes = { path: '/oidc', sameSite: 'Strict' as const, secure: opts.secure };
  return {
    setCookie(mfaToken: string): string {
      return cookie(heldCookieName, mfaToken, { ...attributes, maxAge: MFA_TOKEN_SECONDS });
    },

    /** The held sign-in's token, if the browser has one of the right shape (LoginGate checks the rest). */
    token(req: Req): string | undefined {
      const value = cookiesOf(req).get(heldCookieName);
      return value && tokenPattern.test(value) ? value : undefined;
    },

    clearCookie(): string {
      return cookie(heldCookieName, '', { ...attributes, maxAge: 0 });
    },
  };
}

export type HeldSignIns = ReturnType<typeof createHeldSignIns>;
