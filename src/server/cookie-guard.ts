import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { accessCookieName, cookieRefusedHeader } from '../interceptors/authentication.js';
import { requestOrigin } from '../rest/invoke.js';

/** Bodies a cross-site HTML form (or a no-preflight fetch) can send: never with a cookie credential. */
const simpleBodyTypes = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

function hasCookie(header: string | undefined, name: string): boolean {
  return header !== undefined && header.split(';').some((part) => part.trim().startsWith(`${name}=`));
}

function withoutCookie(header: string, name: string): string {
  return header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '' && !p.startsWith(`${name}=`))
    .join('; ');
}

/**
 * Cross-site request forgery protection for the one credential a browser sends by itself: the
 * `usso-access-token` cookie. Bearer tokens and API keys are never sent by a browser on its own,
 * so calls carrying one are untouched. A call that would be authenticated by the cookie alone and
 * changes something (any method but GET/HEAD/OPTIONS) keeps the cookie only when
 *   - its body is not one a cross-site form can send (form, multipart, text/plain), and
 *   - its Origin is this server's own (by Host or by the issuer) or a listed CORS origin (never
 *     `*`: a wildcard does not vouch for a page), or, without an Origin, the browser's
 *     Sec-Fetch-Site says the request is same-origin (or user-initiated).
 * Otherwise the cookie is set aside, so the call goes on unauthenticated and is refused with
 * CROSS_SITE_REQUEST where it needs a caller. SameSite cookies are the first line; this holds even
 * where a browser or a cookie's attributes do not.
 */
export function createCookieGuard(opts: { issuer: string; corsOrigins: readonly string[] }) {
  const trusted = new Set(opts.corsOrigins.filter((o) => o !== '*'));
  try {
    trusted.add(new URL(opts.issuer).origin);
  } catch {
    /* an unusable issuer vouches for nothing */
  }
  return (req: IncomingMessage | Http2ServerRequest): void => {
    const headers = req.headers;
    delete headers[cookieRefusedHeader];
    const cookie = headers.cookie;
    if (typeof cookie !== 'string' || !hasCookie(cookie, accessCookieName)) return;
    if (headers.authorization || headers['x-api-key']) return;
    if (safeMethods.has((req.method ?? 'GET').toUpperCase())) return;
    const reason = refusal(req, trusted);
    if (reason === undefined) return;
    headers.cookie = withoutCookie(cookie, accessCookieName);
    headers[cookieRefusedHeader] = reason;
  };
}

function refusal(req: IncomingMessage | Http2ServerRequest, trusted: Set<string>): string | undefined {
  const contentType = String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (simpleBodyTypes.has(contentType)) return 'form-body';
  const origin = req.headers.origin;
  if (typeof origin === 'string') {
    return origin === requestOrigin(req) || trusted.has(origin) ? undefined : 'origin';
  }
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return 'cross-site';
  return undefined;
}
