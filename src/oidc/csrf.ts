import { randomBytes } from 'node:crypto';
import { safeEqualHex } from '../auth/index.js';
import { requestOrigin } from '../rest/invoke.js';
import { cookie, cookiesOf, type Req } from './http.js';

export const csrfCookieName = 'usso-csrf';
const tokenPattern = /^[A-Za-z0-9_-]{43}$/;

/**
 * Cross-site request forgery protection of the front channel's forms (sign-in, logout
 * confirmation), two ways at once:
 * - double submit: a random token in a SameSite=Strict, HttpOnly cookie (scoped to /oidc) and
 *   the same token in the form. Another site can make a browser post a form here, but cannot
 *   read the token, and a Strict cookie is not sent with its posts anyway;
 * - Origin: a browser names the posting page's origin, which must be ours (the issuer's, or the
 *   request's own when the server is reached by another name, as cookie-guard.ts allows). Where
 *   no Origin is sent, Sec-Fetch-Site must not say cross-site.
 * A forged sign-in would sign the victim in as the attacker (login CSRF); a forged logout would
 * end their session.
 */
export function createCsrf(opts: { issuer: string; secure: boolean }) {
  const issuerOrigin = new URL(opts.issuer).origin;

  return {
    /** The token to put in the form: the browser's current one, so several tabs keep working, or a new one. */
    token(req: Req): { token: string; setCookie?: string } {
      const current = cookiesOf(req).get(csrfCookieName);
      if (current && tokenPattern.test(current)) return { token: current };
      const token = randomBytes(32).toString('base64url');
      return { token, setCookie: cookie(csrfCookieName, token, { path: '/oidc', sameSite: 'Strict', secure: opts.secure }) };
    },

    /** Whether a posted form comes from our own page in this browser. */
    check(req: Req, form: URLSearchParams): boolean {
      const sent = cookiesOf(req).get(csrfCookieName);
      const field = form.get('csrf');
      if (!sent || !field || !tokenPattern.test(sent) || !tokenPattern.test(field)) return false;
      // Compared as hex of the same length, in constant time.
      if (!safeEqualHex(Buffer.from(sent).toString('hex'), Buffer.from(field).toString('hex'))) return false;
      const origin = req.headers.origin;
      if (typeof origin === 'string') return origin === issuerOrigin || origin === requestOrigin(req);
      const site = req.headers['sec-fetch-site'];
      return typeof site !== 'string' || site === 'same-origin' || site === 'none';
    },
  };
}

export type Csrf = ReturnType<typeof createCsrf>;
