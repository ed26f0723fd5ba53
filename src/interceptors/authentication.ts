import type { Interceptor } from '@connectrpc/connect';
import { bearerToken, looksLikeJwt } from '../auth/index.js';
import type { Authenticator } from '../domain/auth/authenticator.js';
import { AppError } from '../errors/index.js';
import { declaredAccessOf } from './authorization.js';
import { principalKey } from './call-context.js';

export const accessCookieName = 'usso-access-token';

/** Set by the HTTP layer on a request whose access cookie it set aside (server/cookie-guard.ts). */
export const cookieRefusedHeader = 'x-sso-cookie-refused';

type Credential = { kind: 'access_token' | 'api_key'; value: string };

function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** The credential a call presents: a bearer value (a JWT, else an API key), `x-api-key`, or the cookie. */
export function credentialOf(header: Headers): Credential | undefined {
  const bearer = bearerToken(header.get('authorization'));
  if (bearer) return { kind: looksLikeJwt(bearer) ? 'access_token' : 'api_key', value: bearer };
  const apiKey = header.get('x-api-key');
  if (apiKey) return { kind: 'api_key', value: apiKey.trim() };
  const cookie = readCookie(header.get('cookie'), accessCookieName);
  if (cookie) return { kind: 'access_token', value: cookie };
  return undefined;
}

/**
 * Establishes who is calling. On a public RPC a bad credential is ignored (a stale token must not
 * stop someone from logging in); elsewhere it is refused with the precise reason. A token issued
 * for another audience (a registered app's) is that app's: presenting it here is refused, so an
 * app that receives a user's token cannot use it to take over the user's account at the SSO.
 * Only RPCs that declare `any_audience` (logout: it can only end the token's own session) take it.
 */
export function createAuthenticationInterceptor(authenticator: Authenticator): Interceptor {
  return (next) => async (req) => {
    const credential = credentialOf(req.header);
    if (credential) {
      const rule = declaredAccessOf(req.method);
      const isPublic = rule?.public === true;
      try {
        const principal =
          credential.kind === 'access_token'
            ? await authenticator.fromAccessToken(credential.value)
            : await authenticator.fromApiKey(credential.value);
        if (principal.audience !== undefined && principal.audience !== authenticator.ownAudience && !rule?.anyAudience) {
          throw new AppError('WRONG_AUDIENCE');
        }
        req.contextValues.set(principalKey, principal);
      } catch (e) {
        if (!(isPublic && e instanceof AppError)) throw e;
      }
    } else if (req.header.has(cookieRefusedHeader) && !declaredAccessOf(req.method)?.public) {
      // The access cookie came with a request a cross-site page could have made (see
      // server/cookie-guard.ts): say so rather than "no credential".
      throw new AppError('CROSS_SITE_REQUEST');
    }
    return next(req);
  };
}
