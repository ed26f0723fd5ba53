import { one, run, type Db } from './sql.js';

/** What the front channel needs of an SSO (browser) session to trust a request's cookie. */
export interface BrowserSession {
  id: string;
  userId: string;
  /** SHA-256 of the cookie's secret. */
  refreshHash: string;
  authTime: Date;
  amr: string[];
}

/**
 * The browser session with this id if it can still sign its user in to apps: not revoked, not
 * expired, and its user active, in one round trip. Anything else (an API or client session's id
 * included) is undefined.
 */
export function findLiveBrowserSession(db: Db, id: string): Promise<BrowserSession | undefined> {
  return one<BrowserSession>(
    db,
    `SELECT s.id, s.user_id AS "userId", s.refresh_hash AS "refreshHash", s.auth_time AS "authTime", s.amr
       FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.id = $1 AND s.kind = 'browser' AND s.revoked_at IS NULL AND s.expires_at > now() AND u.is_active`,
    [id],
  );
}

/**
 * The same user signed in again within their live browser session (prompt=login, max_age): a
 * new auth_time, amr (how they signed in this time) and lifetime, and a new cookie secret (the
 * old cookie stops working), keeping the session and so the apps signed in under it. Whether the
 * session was still there to renew.
 */
export async function renewBrowserSession(
  db: Db,
  id: string,
  userId: string,
  nextHash: string,
  amr: readonly string[],
  ttlSeconds: number,
): Promise<boolean> {
  const { count } = await run(
    db,
    `UPDATE sessions SET refresh_hash = $3, amr = $5, auth_time = now(), last_used_at = now(), expires_at = now() + make_interval(secs => $4)
      WHERE id = $1 AND user_id = $2 AND kind = 'browser' AND revoked_at IS NULL AND expires_at > now()`,
    [id, userId, nextHash, ttlSeconds, [...amr]],
  );
  return count > 0;
}
