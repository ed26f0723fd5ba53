import { run, rows, one, type Db, type Page } from './sql.js';

export interface SessionRecord {
  id: string;
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

const columns = `id, user_id AS "userId", refresh_hash AS "refreshHash", generation, audience,
  workspace_id AS "workspaceId", amr, user_agent AS "userAgent", ip, created_at AS "createdAt",
  last_used_at AS "lastUsedAt", expires_at AS "expiresAt", revoked_at AS "revokedAt", revoked_reason AS "revokedReason"`;

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
}

export async function insertSession(db: Db, s: NewSession): Promise<SessionRecord> {
  return (await one<SessionRecord>(db,
    `INSERT INTO sessions (id, user_id, refresh_hash, audience, workspace_id, amr, user_agent, ip, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9)) RETURNING ${columns}`,
    [s.id, s.userId, s.refreshHash, s.audience, s.workspaceId, s.amr, s.userAgent || null, s.ip || null, s.ttlSeconds]))!;
}

export async function findSession(db: Db, id: string): Promise<SessionRecord | undefined> {
  return one<SessionRecord>(db, `SELECT ${columns} FROM sessions WHERE id = $1`, [id]);
}

/**
 * Moves a live session to its next refresh token, but only if the presented one is the current
 * one: a single conditional UPDATE, so of two concurrent refreshes with the same token exactly
 * one wins and the other sees a retired token.
 */
export async function rotateRefresh(db: Db, id: string, presentedHash: string, nextHash: string, ttlSeconds: number): Promise<SessionRecord | undefined> {
  const { rows: updated } = await run<SessionRecord>(db,
    `UPDATE sessions SET refresh_hash = $3, generation = generation + 1, last_used_at = now(),
            expires_at = now() + make_interval(secs => $4)
      WHERE id = $1 AND refresh_hash = $2 AND revoked_at IS NULL AND expires_at > now()
      RETURNING ${columns}`,
    [id, presentedHash, nextHash, ttlSeconds]);
  return updated[0];
}

/** Ends a live session; returns whether it was live. */
export async function revokeSession(db: Db, id: string, reason: string, userId?: string): Promise<boolean> {
  const { count } = await run(db,
    `UPDATE sessions SET revoked_at = now(), revoked_reason = $2
      WHERE id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR user_id = $3::uuid)`,
    [id, reason, userId ?? null]);
  return count > 0;
}

export async function revokeUserSessions(db: Db, userId: string, reason: string): Promise<number> {
  const { count } = await run(db,
    `UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL`, [userId, reason]);
  return count;
}

/** Ends every live session of a user but one (the caller's own, when it changed its own password). */
export async function revokeOtherSessions(db: Db, userId: string, keepSessionId: string | null, reason: string): Promise<number> {
  const { count } = await run(db,
    `UPDATE sessions SET revoked_at = now(), revoked_reason = $3
      WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2::uuid)`, [userId, keepSessionId, reason]);
  return count;
}

export async function listLiveSessions(db: Db, userId: string, page: Page): Promise<{ items: SessionRecord[]; total: number }> {
  const where = 'user_id = $1 AND revoked_at IS NULL AND expires_at > now()';
  const [items, total] = await Promise.all([
    rows<SessionRecord>(db, `SELECT ${columns} FROM sessions WHERE ${where} ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`, [userId, page.limit, page.offset]),
    one<{ n: number }>(db, `SELECT count(*)::int AS n FROM sessions WHERE ${where}`, [userId]),
  ]);
  return { items, total: total?.n ?? 0 };
}

/**
 * What every authenticated call needs to know about its token's session and user, in one round
 * trip: is the session live, is the user active, is the user an administrator.
 */
export async function sessionStanding(db: Db, sessionId: string, userId: string): Promise<{ live: boolean; isActive: boolean; isAdmin: boolean } | undefined> {
  return one(db,
    `SELECT (s.revoked_at IS NULL AND s.expires_at > now()) AS live, u.is_active AS "isActive", u.is_admin AS "isAdmin"
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.user_id = $2`,
    [sessionId, userId]);
}
