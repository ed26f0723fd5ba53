import { one, run, type Db } from './sql.js';

/** What an authorization code was issued for; the code itself is stored only as its hash. */
export interface CodeRecord {
  clientId: string;
  redirectUri: string;
  codeChallenge: string | null;
  nonce: string | null;
  scopes: string[];
  userId: string;
  browserSessionId: string;
  /** Still within its lifetime, by the database's clock. */
  live: boolean;
  /** The session its first exchange created (set when a replay is detected). */
  issuedSessionId: string | null;
}

const columns = `client_id AS "clientId", redirect_uri AS "redirectUri", code_challenge AS "codeChallenge", nonce,
  scopes, user_id AS "userId", browser_session_id AS "browserSessionId", (expires_at > now()) AS live,
  issued_session_id AS "issuedSessionId"`;

/** A code to store: what it is issued for, its hash, and how long it lives. */
export interface NewCode extends Omit<CodeRecord, 'live' | 'issuedSessionId'> {
  codeHash: string;
  ttlSeconds: number;
}

export async function insertCode(db: Db, c: NewCode): Promise<void> {
  await run(
    db,
    `INSERT INTO oidc_codes (code_hash, client_id, redirect_uri, code_challenge, nonce, scopes, user_id, browser_session_id, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9))`,
    [c.codeHash, c.clientId, c.redirectUri, c.codeChallenge, c.nonce, c.scopes, c.userId, c.browserSessionId, c.ttlSeconds],
  );
}

/**
 * Marks a code used and returns it, in one statement, so of two racing exchanges exactly one
 * gets it. Undefined when there is no such code or it was used already.
 */
export function consumeCode(db: Db, codeHash: string): Promise<CodeRecord | undefined> {
  return one<CodeRecord>(db, `UPDATE oidc_codes SET used_at = now() WHERE code_hash = $1 AND used_at IS NULL RETURNING ${columns}`, [
    codeHash,
  ]);
}

/** A used code's record, to find what its first exchange issued. */
export function findUsedCode(db: Db, codeHash: string): Promise<CodeRecord | undefined> {
  return one<CodeRecord>(db, `SELECT ${columns} FROM oidc_codes WHERE code_hash = $1 AND used_at IS NOT NULL`, [codeHash]);
}

export async function recordIssuedSession(db: Db, codeHash: string, sessionId: string): Promise<void> {
  await run(db, 'UPDATE oidc_codes SET issued_session_id = $2 WHERE code_hash = $1', [codeHash, sessionId]);
}

/** Housekeeping: codes a day past their expiry are of no use, not even for replay detection. */
export async function deleteStaleCodes(db: Db): Promise<void> {
  await run(db, `DELETE FROM oidc_codes WHERE expires_at < now() - interval '1 day'`);
}
