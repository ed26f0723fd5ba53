import { getOption, hasOption } from '@bufbuild/protobuf';
import type { Interceptor } from '@connectrpc/connect';
import { access } from '../../gen/sso/options/v1/options_pb.js';
import { looksLikeJwt } from '../auth/index.js';
import type { Principal } from '../domain/principal.js';
import { AppError } from '../errors/index.js';
import { principalKey } from './call-context.js';

/** Turns a presented credential into a principal, or throws an AppError saying why not. */
export interface Authenticator {
  fromAccessToken(token: string): Promise<Principal>;
  fromApiKey(key: string): Promise<Principal>;
}

export const accessCookieName = 'usso-access-token';

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
  const authorization = header.get('authorization');
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) {
      const value = match[1]!;
      return { kind: looksLikeJwt(value) ? 'access_token' : 'api_key', value };
    }
  }
  const apiKey = header.get('x-api-key');
  if (apiKey) return { kind: 'api_key', value: apiKey.trim() };
  const cookie = readCookie(header.get('cookie'), accessCookieName);
  if (cookie) return { kind: 'access_token', value: cookie };
  return undefined;
}

/**
 * Establishes who is calling. On a public RPC a bad credential is ignored (a stale token must not
 * stop someone from logging in); elsewhere it is refused with the precise reason.
 */
export function createAuthenticationInterceptor(authenticator: Authenticator): Interceptor {
  return (next) => async (req) => {
    const credential = credentialOf(req.header);
    if (credential) {
      const isPublic = hasOption(req.method, access) && getOption(req.method, access).public;
      try {
        const principal = credential.kind === 'access_token'
          ? await authenticator.fromAccessToken(credential.value)
          : await authenticator.fromApiKey(credential.value);
        req.contextValues.set(principalKey, principal);
      } catch (e) {
        if (!(isPublic && e instanceof AppError)) throw e;
      }
    }
    return next(req);
  };
}
