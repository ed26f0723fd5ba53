import { run, one, type Db } from './sql.js';

/**
 * One counter to charge, with its own limit: a key such as 'id:alice@example.com' (a login name),
 * 'user:<uuid>' (an account, whatever name it was reached by) or 'ip:1.2.3.4' (an address).
 */
export interface ThrottleKey {
  key: string;
  maxFailures: number;
}

export interface LockTiming {
  lockBase: number;
  lockMax: number;
}

/** A key that was locked before an attempt, and until when. */
export interface Lock {
  key: string;
  until: Date;
}

/**
 * Counts one attempt on each key before the password is checked, atomically, so parallel guesses
 * cannot all slip past the limit: the attempt that reaches a key's limit sets its lock right away
 * (a doubling delay per further attempt), and a correct password then lifts it. Attempts made
 * while a key is locked are not counted on that key (they still are on the others). Counts older
 * than a day start over. Returns the keys that were locked before this attempt (the caller
 * decides what each lock means to the caller).
 * One statement for all keys once their rows exist; rows are locked (and first created) in key
 * order, so concurrent attempts sharing keys (an address, an account) cannot deadlock.
 */
export async function countAttempt(db: Db, keys: ThrottleKey[], timing: LockTiming): Promise<{ locks: Lock[] }> {
  const first = await chargeExisting(db, keys, timing);
  const missing = keys.filter((k) => !first.charged.includes(k.key));
  if (missing.length === 0) return { locks: first.locks };
  // A key seen for the first time: its row must exist before the charging statement takes its
  // snapshot, or concurrent first attempts would all find no row and all be admitted although
  // the lock was set meanwhile. Rows are kept after a success, so this is the rare path.
  await run(
    db,
    `INSERT INTO login_throttles (key, failures, updated_at) SELECT k, 0, now() FROM unnest($1::text[]) AS k ORDER BY k
     ON CONFLICT (key) DO NOTHING`,
    [missing.map((k) => k.key)],
  );
  const second = await chargeExisting(db, missing, timing);
  return { locks: [...first.locks, ...second.locks] };
}

/** Charges the keys whose rows exist, in one statement; says which it charged and which were locked. */
async function chargeExisting(db: Db, keys: ThrottleKey[], timing: LockTiming): Promise<{ locks: Lock[]; charged: string[] }> {
  const row = await one<{ lockedKeys: string[] | null; lockedUntil: number[] | null; charged: string[] | null }>(
    db,
    `WITH input AS (SELECT * FROM unnest($1::text[], $2::int[]) AS i(key, max_failures)),
     prev AS (SELECT t.key, t.locked_until FROM login_throttles t JOIN input USING (key) ORDER BY t.key FOR UPDATE OF t),
     up AS (
       UPDATE login_throttles AS t SET
         failures = CASE WHEN t.locked_until > now() THEN t.failures
                         WHEN t.updated_at < now() - interval '1 day' THEN 1
                         ELSE t.failures + 1 END,
         locked_until = CASE
           WHEN t.locked_until > now() THEN t.locked_until
           WHEN t.updated_at < now() - interval '1 day'
             THEN CASE WHEN 1 >= i.max_failures THEN now() + make_interval(secs => $3::float8) END
           WHEN t.failures + 1 >= i.max_failures
             THEN now() + make_interval(secs => LEAST($4::float8, $3::float8 * power(2, t.failures + 1 - i.max_failures)))
           ELSE NULL END,
         updated_at = CASE WHEN t.locked_until > now() THEN t.updated_at ELSE now() END
       FROM input i WHERE t.key = i.key
       RETURNING t.key),
     locked AS (SELECT key, locked_until FROM prev WHERE locked_until > now())
     SELECT (SELECT array_agg(key ORDER BY key) FROM locked) AS "lockedKeys",
            (SELECT array_agg((extract(epoch FROM locked_until) * 1000)::float8 ORDER BY key) FROM locked) AS "lockedUntil",
            (SELECT array_agg(key) FROM up) AS charged`,
    [keys.map((k) => k.key), keys.map((k) => k.maxFailures), timing.lockBase, timing.lockMax],
  );
  const lockedKeys = row?.lockedKeys ?? [];
  const until = row?.lockedUntil ?? [];
  return { locks: lockedKeys.map((key, i) => ({ key, until: new Date(Number(until[i])) })), charged: row?.charged ?? [] };
}

/**
 * A success, in one statement: the counts and locks of `resetKeys` (the login name and the
 * account) start over, and the address takes back the attempt it counted (and any lock that
 * attempt set), so honest traffic from a shared address never locks it.
 */
export async function recordSuccess(db: Db, resetKeys: string[], address: ThrottleKey | undefined): Promise<void> {
  await run(
    db,
    `WITH reset AS (UPDATE login_throttles SET failures = 0, locked_until = NULL WHERE key = ANY($1::text[]) RETURNING 1)
     UPDATE login_throttles SET failures = GREATEST(failures - 1, 0),
            locked_until = CASE WHEN failures - 1 < $3 THEN NULL ELSE locked_until END
      WHERE key = $2 AND (SELECT count(*) FROM reset) >= 0`,
    [resetKeys, address?.key ?? null, address?.maxFailures ?? 0],
  );
}
