import { randomBytes, randomUUID } from 'node:crypto';
import { safeEqualHex, sha256Hex } from '../auth/index.js';
import { findLiveBrowserSession, renewBrowserSession, type BrowserSession } from '../db/repositories/browser-sessions.js';
import { insertSession, revokeSession } from '../db/repositories/sessions.js';
import type { Db } from '../db/repositories/sql.js';
import type { Client } from '../domain/auth/auth-flows.js';
import { isUuid } from '../domain/paging.js';
import { cookie, cookiesOf, type Req } from './http.js';

export const ssoCookieName = 'usso-session';
const secretPattern = /^[A-Za-z0-9_-]{43}$/;

export type { BrowserSession };

/**
 * The SSO session: a `browser` row of the one sessions table (so ListSessions lists it and
 * DeleteSession, a password change or a deactivation ends it, with every app session granted
 * under it), and a cookie `usso-session=<session id>.<secret>` that proves it. Only the
 * secret's SHA-256 is stored (it carries 256 random bits: nothing to slow down), in the row's
 * refresh_hash, and compared in constant time. The cookie is HttpOnly (no script reads it),
 * SameSite=Lax (sent when an app sends the browser here, not with other sites' posts), Secure
 * when the issuer is https, and lives as long as the browser session; the row's expiry bounds it.
 */
export function createSsoSessions(opts: { db: Db; audience: string; ttlSeconds: number; secure: boolean }) {
  const { db } = opts;
  const attributes = { path: '/', sameSite: 'Lax' as const, secure: opts.secure };
  const newSecret = () => randomBytes(32).toString('base64url');
  const setCookie = (id: string, secret: string) => cookie(ssoCookieName, `${id}.${secret}`, attributes);

  return {
    /** The request's SSO session, if its cookie proves a live browser session of an active user. */
    async current(req: Req): Promise<BrowserSession | undefined> {
      const value = cookiesOf(req).get(ssoCookieName);
      const dot = value?.indexOf('.') ?? -1;
      if (!value || dot < 0) return undefined;
      const id = value.slice(0, dot);
      const secret = value.slice(dot + 1);
      if (!isUuid(id) || !secretPattern.test(secret)) return undefined;
      const session = await findLiveBrowserSession(db, id.toLowerCase());
      if (!session || !safeEqualHex(sha256Hex(secret), session.refreshHash)) return undefined;
      return session;
    },

    /**
     * After a successful sign-in (`amr`: how, see domain/factors/amr.ts): the same user's live
     * session is renewed (new auth_time, amr and secret, its apps kept); any other session in
     * this browser (another user's) is ended, and a new one starts. Returns the Set-Cookie header
     * and the session's id.
     */
    async signedIn(
      previous: BrowserSession | undefined,
      userId: string,
      client: Client,
      amr: readonly string[],
    ): Promise<{ sessionId: string; setCookie: string }> {
      const secret = newSecret();
      if (
        previous &&
        previous.userId === userId &&
        (await renewBrowserSession(db, previous.id, userId, sha256Hex(secret), amr, opts.ttlSeconds))
      ) {
        return { sessionId: previous.id, setCookie: setCookie(previous.id, secret) };
      }
      if (previous) await revokeSession(db, previous.id, 'signed_in_as_another_user');
      const id = randomUUID();
      await insertSession(db, {
        id,
        kind: 'browser',
        userId,
        refreshHash: sha256Hex(secret),
        audience: opts.audience,
        workspaceId: null,
        amr: [...amr],
        userAgent: client.userAgent,
        ip: client.ip,
        ttlSeconds: opts.ttlSeconds,
      });
      return { sessionId: id, setCookie: setCookie(id, secret) };
    },

    /** Ends a browser session and everything granted under it (its apps' sessions and refresh tokens). */
    end(sessionId: string, reason: string): Promise<boolean> {
      return revokeSession(db, sessionId, reason);
    },

    /** Deletes the cookie. */
    clearCookie(): string {
      return cookie(ssoCookieName, '', { ...attributes, maxAge: 0 });
    },
  };
}

export type SsoSessions = ReturnType<typeof createSsoSessions>;
