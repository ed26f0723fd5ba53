import { one, run, type Db } from './sql.js';

export interface TotpFactorRecord {
  userId: string;
  secretEncrypted: string;
  createdAt: Date;
  confirmedAt: Date | null;
  lastStep: number | null;
}

const columns = `user_id AS "userId", secret_encrypted AS "secretEncrypted", created_at AS "createdAt",
  confirmed_at AS "confirmedAt", last_step::float8 AS "lastStep"`;

export function findTotpFactor(db: Db, userId: string): Promise<TotpFactorRecord | undefined> {
  return one<TotpFactorRecord>(db, `SELECT ${columns} FROM totp_factors WHERE user_id = $1`, [userId]);
}

/**
 * Starts an enrolment: a new unconfirmed secret, replacing an unconfirmed one. Returns false
 * (and changes nothing) when a confirmed one exists.
 */
export async function putPendingTotp(db: Db, userId: string, secretEncrypted: string): Promise<boolean> {
  const { count } = await run(
    db,
    `INSERT INTO totp_factors (user_id, secret_encrypted) VALUES ($1, $2)
     ON CONFLICT (user_id) DO UPDATE SET secret_encrypted = EXCLUDED.secret_encrypted, created_at = now(), last_step = NULL
      WHERE totp_factors.confirmed_at IS NULL`,
    [userId, secretEncrypted],
  );
  return count > 0;
}

/**
 * Takes a code's time step: only a step later than the last one taken, in one conditional
 * UPDATE, so a code is accepted once even when two requests carry it at the same moment. With
 * `confirm`, the pending secret becomes confirmed by the same statement. Returns whether the
 * step was taken.
 */
export async function takeTotpStep(db: Db, userId: string, step: number, opts: { confirm: boolean }): Promise<boolean> {
  const { count } = await run(
    db,
    `UPDATE totp_factors SET last_step = $2, confirmed_at = CASE WHEN $3 THEN now() ELSE confirmed_at END
      WHERE user_id = $1 AND (last_step IS NULL OR last_step < $2)
        AND (CASE WHEN $3 THEN confirmed_at IS NULL ELSE confirmed_at IS NOT NULL END)`,
    [userId, step, opts.confirm],
  );
  return count > 0;
}

export async function deleteTotpFactor(db: Db, userId: string): Promise<boolean> {
  return (await run(db, 'DELETE FROM totp_factors WHERE user_id = $1', [userId])).count > 0;
}
