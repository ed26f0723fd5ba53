import { run, rows, one, type Db, type Page } from './sql.js';

/** `api`: a login through the API; `browser`: the SSO session behind the hosted page's cookie; `oidc`: one client's, under a browser session. */
export type SessionKind = 'api' | 'browser' | 'oidc';

export interface SessionRecord {
  id: string;
  kind: SessionKind;
  /** The browser session an `oidc` session was granted under. */
  parentId: string | null;
  /** The app (OpenID Connect client) an `oidc` session belongs to. */
  clientId: string | null;
  /** The OpenID Connect scopes granted to that client. */
  oidcScopes: string[];
  /** When the user last proved who they are for this session (OpenID Connect `auth_time`). */
  authTime: Date;
  userId: string;
  refreshHash: string;
  generation: number;
  audience: string;
  workspaceId: string | null;
  amr: string[];
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
}

const columns = `id, kind, parent_id AS "parentId", client_id AS "clientId", oidc_scopes AS "oidcScopes", auth_time AS "authTime", user_id AS "userId", refresh_hash AS "refreshHash", generation, audience,
  workspace_id AS "workspaceId", amr, user_agent AS "userAgent", ip, created_at AS "createdAt",
  last_used_at AS "lastUsedAt", expires_at AS "expiresAt", revoked_at AS "revokedAt", revoked_reason AS "revokedReason"`;

/** A session just moved to its next refresh token: what the refresh's new tokens carry. */
export type RotatedSession = Pick<SessionRecord, 'id' | 'userId' | 'audience' | 'workspaceId' | 'amr'>;

export interface NewSession {
  id: string;
  userId: string;
  refreshHash: string;
  audience: string;
  workspaceId: string | null;
  amr: string[];
  userAgent: string;
  ip: string;
  ttlSeconds: number;
  /** Default `api`. */
  kind?: SessionKind;
  parentId?: string | null;
  clientId?: string | null;
  oidcScopes?: string[];
  /** Default now. */
  authTime?: Date;
}

/** Named: every login and every OpenID Connect code exchange inserts one. */
export async function insertSession(db: Db, s: NewSession): Promise<SessionRecord> {
  return (await one<SessionRecord>(
    db,
    `INSERT INTO sessions (id, user_id, refresh_hash, audience, workspace_id, amr, user_agent, ip, expires_at,
                           kind, parent_id, client_id, oidc_scopes, auth_time)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9), $10, $11, $12, $13, COALESCE($14, now()))
     RETURNING ${columns}`,
    [
      s.id,
      s.userId,
      s.refreshHash,
      s.audience,
      s.workspaceId,
      s.amr,
      s.userAgent || null,
      s.ip || null,
      s.ttlSeconds,
      s.kind ?? 'api',
      s.parentId ?? null,
      s.clientId ?? null,
      s.oidcScopes ?? [],
      s.authTime ?? null,
    ],
    'session_insert',
  ))!;
}

/** Named: introspection, revocation and every refresh read it, prepared once per PostgreSQL connection. */
export async function findSession(db: Db, id: string): Promise<SessionRecord | undefined> {
  return one<SessionRecord>(db, `SELECT ${columns} FROM sessions WHERE id = $1`, [id], 'session_by_id');
}

/**
 * Moves a live session to its next refresh token, but only if the presented one is the current
 * one: a single conditional UPDATE, so of two concurrent refreshes with the same token exactly
 * one wins and the other sees a retired token. Only the client a session was granted to (none,
 * for a login through the API) may refresh it, and a browser session has no refresh token.
 * It returns only what a refresh's tokens are made from: every column more is parsed on every
 * refresh (four of the others are timestamps) and described by PostgreSQL on every execution.
 */
export async function rotateRefresh(
  db: Db,
  id: string,
  presentedHash: string,
  nextHash: string,
  ttlSeconds: number,
  clientId: string | null = null,
): Promise<RotatedSession | undefined> {
  const { rows: updated } = await run<RotatedSession>(
    db,
    `UPDATE sessions SET refresh_hash = $3, generation = generation + 1, last_used_at = now(),
            expires_at = now() + make_interval(secs => $4)
      WHERE id = $1 AND refresh_hash = $2 AND revoked_at IS NULL AND expires_at > now()
        AND kind <> 'browser' AND client_id IS NOT DISTINCT FROM $5::uuid
      RETURNING id, user_id AS "userId", audience, workspace_id AS "workspaceId", amr`,
    [id, presentedHash, nextHash, ttlSeconds, clientId],
    'session_rotate_refresh',
  );
  return updated[0];
}

/**
 * Ends a live session and every session granted under it (a browser session's apps); returns
 * whether the session itself was live.
 */
export async function revokeSession(db: Db, id: string, reason: string, userId?: string): Promise<boolean> {
  const found = await one<{ revoked: boolean }>(
    db,
    `WITH ended AS (
        UPDATE sessions SET revoked_at = now(), revoked_reason = $2
         WHERE (id = $1 OR parent_id = $1) AND revoked_at IS NULL AND ($3::uuid IS NULL OR user_id = $3::uuid)
        RETURNING id
     )
     SELECT EXISTS (SELECT 1 FROM ended WHERE id = $1) AS revoked`,
    [id, reason, userId ?? null],
  );
  return found?.revoked ?? false;
}

export async function revokeUserSessions(db: Db, userId: string, reason: string): Promise<number> {
  const { count } = await run(db, `UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL`, [
    userId,
    reason,
  ]);
  return count;
}

/** Ends every live session of a user but one (the caller's own, when it changed its own password). */
export async function revokeOtherSessions(db: Db, userId: string, keepSessionId: string | null, reason: string): Promise<number> {
  const { count } = await run(
    db,
    `UPDATE sessions SET revoked_at = now(), revoked_reason = $3
      WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2::uuid)`,
    [userId, keepSessionId, reason],
  );
  return count;
}

export async function listLiveSessions(db: Db, userId: string, page: Page): Promise<{ items: SessionRecord[]; total: number }> {
  const where = 'user_id = $1 AND revoked_at IS NULL AND expires_at > now()';
  const [items, total] = await Promise.all([
    rows<SessionRecord>(db, `SELECT ${columns} FROM sessions WHERE ${where} ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`, [
      userId,
      page.limit,
      page.offset,
    ]),
    one<{ n: number }>(db, `SELECT count(*)::int AS n FROM sessions WHERE ${where}`, [userId]),
  ]);
  return { items, total: total?.n ?? 0 };
}

/**
 * What every authenticated call needs to know about its token's session and user, in one round
 * trip: is the session live, is the user active, is the user an administrator.
 */
export async function sessionStanding(
  db: Db,
  sessionId: string,
  userId: string,
): Promise<{ live: boolean; expiresAt: Date; isActive: boolean; isAdmin: boolean } | undefined> {
  return one(
    db,
    `SELECT (s.revoked_at IS NULL AND s.expires_at > now()) AS live, s.expires_at AS "expiresAt",
            u.is_active AS "isActive", u.is_admin AS "isAdmin"
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.user_id = $2`,
    [sessionId, userId],
    'session_standing',
  );
}
