import { one, run, type Db } from './sql.js';

/** `mfa`: the login continues with a factor; `enroll`: it may only enrol one, then continue. */
export type MfaTokenPurpose = 'mfa' | 'enroll';

export interface MfaTokenRecord {
  purpose: MfaTokenPurpose;
  userId: string;
  /** The login name the password step was counted under. */
  identifier: string;
  audience: string;
  workspaceId: string | null;
  expiresAt: Date;
}

const columns = `purpose, user_id AS "userId", identifier, audience, workspace_id AS "workspaceId", expires_at AS "expiresAt"`;

export async function insertMfaToken(db: Db, tokenHash: string, t: Omit<MfaTokenRecord, 'expiresAt'>, ttlSeconds: number): Promise<void> {
  await run(
    db,
    `INSERT INTO mfa_tokens (token_hash, purpose, user_id, identifier, audience, workspace_id, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))`,
    [tokenHash, t.purpose, t.userId, t.identifier, t.audience, t.workspaceId, ttlSeconds],
  );
  // Spent and expired tokens are of no further use: clear them as new ones come.
  await run(db, `DELETE FROM mfa_tokens WHERE expires_at < now() - interval '1 hour'`);
}

/** A live, unused token (a look, not a use: wrong codes may be retried within its life). */
export function findLiveMfaToken(db: Db, tokenHash: string): Promise<MfaTokenRecord | undefined> {
  return one<MfaTokenRecord>(db, `SELECT ${columns} FROM mfa_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()`, [
    tokenHash,
  ]);
}

/** Uses the token up: one conditional UPDATE, so of two completions exactly one wins. */
export async function spendMfaToken(db: Db, tokenHash: string): Promise<boolean> {
  const { count } = await run(
    db,
    'UPDATE mfa_tokens SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()',
    [tokenHash],
  );
  return count > 0;
}
