import { run, one, type Db } from './sql.js';

export interface ThrottleLimits { maxFailures: number; lockBase: number; lockMax: number }

/**
 * Counts one attempt for a key before the password is checked, in one atomic statement, so
 * parallel guesses cannot all slip past the limit: the attempt that reaches the limit sets the
 * lock right away (a doubling delay per further attempt), and a correct password then lifts it.
 * Attempts made while locked are refused and not counted. Counts older than a day start over.
 * Returns the lock that was in force before this attempt, if any.
 */
export async function countAttempt(db: Db, key: string, limits: ThrottleLimits): Promise<{ lockedUntil: Date | null }> {
  // The row must exist before the statement below takes its snapshot: otherwise `prev` of
  // concurrent first attempts finds no row (not even after waiting for the row's inserter), and
  // every one of them is admitted although the lock was set meanwhile.
  await run(db, `INSERT INTO login_throttles (key, failures, updated_at) VALUES ($1, 0, now()) ON CONFLICT (key) DO NOTHING`, [key]);
  const row = await one<{ prevLock: Date | null }>(db,
    `WITH prev AS (SELECT locked_until FROM login_throttles WHERE key = $1 FOR UPDATE),
     up AS (
       INSERT INTO login_throttles AS t (key, failures, locked_until, updated_at)
       VALUES ($1, 1, CASE WHEN 1 >= $2 THEN now() + make_interval(secs => $3::float8) END, now())
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN t.locked_until > now() THEN t.failures
                         WHEN t.updated_at < now() - interval '1 day' THEN 1
                         ELSE t.failures + 1 END,
         locked_until = CASE
           WHEN t.locked_until > now() THEN t.locked_until
           WHEN t.updated_at >= now() - interval '1 day' AND t.failures + 1 >= $2
             THEN now() + make_interval(secs => LEAST($4::float8, $3::float8 * power(2, t.failures + 1 - $2)))
           ELSE NULL END,
         updated_at = CASE WHEN t.locked_until > now() THEN t.updated_at ELSE now() END
       RETURNING 1)
     SELECT (SELECT locked_until FROM prev WHERE locked_until > now()) AS "prevLock", (SELECT count(*) FROM up) AS n`,
    [key, limits.maxFailures, limits.lockBase, limits.lockMax]);
  return { lockedUntil: row?.prevLock ?? null };
}

/** A success for an identifier: its count and lock start over. */
export async function resetAttempts(db: Db, key: string): Promise<void> {
  await run(db, 'DELETE FROM login_throttles WHERE key = $1', [key]);
}

/**
 * A success from an address takes back the attempt it counted (and any lock that attempt set),
 * so honest traffic from a shared address never locks it.
 */
export async function forgiveAttempt(db: Db, key: string, maxFailures: number): Promise<void> {
  await run(db,
    `UPDATE login_throttles SET failures = GREATEST(failures - 1, 0),
            locked_until = CASE WHEN failures - 1 < $2 THEN NULL ELSE locked_until END
      WHERE key = $1`, [key, maxFailures]);
}
