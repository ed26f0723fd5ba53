import type { ThrottleRecord } from '../../db/repositories/login-throttles.js';

/**
 * The lockout arithmetic of one throttle key (a login name, an account or an address), as pure
 * functions of its row and the time (`now`, in milliseconds): the one place this rule is written.
 * Storage only keeps the rows and makes a read-change-write of them atomic (see ThrottleStore).
 */

export interface LockTiming {
  /** Seconds of the lock set by the attempt that reaches the limit. */
  lockBase: number;
  /** Seconds no lock exceeds, however long the doubling has gone on. */
  lockMax: number;
}

/** Counts older than this start over: a guess a day keeps nobody locked out for ever. */
export const COUNT_WINDOW_MS = 86_400_000;

/**
 * A key whose row has not moved for this long holds no password check in flight any more: a check
 * takes a bcrypt (well under a second, seconds under heavy load), so one still marked after a
 * minute died with its process, and its mark must not hold anybody back.
 */
export const INFLIGHT_STALE_MS = 60_000;

/** A key never seen before: no failures, no lock, nothing in flight. */
export function freshThrottle(key: string, now: number): ThrottleRecord {
  return { key, failures: 0, lockedUntil: null, updatedAt: new Date(now), inflight: 0 };
}

export function isLocked(row: ThrottleRecord, now: number): boolean {
  return row.lockedUntil !== null && row.lockedUntil.getTime() > now;
}

/** The password checks this key's count still holds in flight (see INFLIGHT_STALE_MS). */
export function liveInflight(row: ThrottleRecord, now: number): number {
  return row.updatedAt.getTime() >= now - INFLIGHT_STALE_MS ? row.inflight : 0;
}

/**
 * Locked by a count that still holds password checks in flight: the lock may be only their
 * doing, and if one of them is right its success lifts it. A new attempt then waits for them
 * instead of being refused, so parallel logins with the right password (a service signing in
 * from many workers) are not locked out by each other, while parallel guesses still get no more
 * checks than the limit: the waiting attempt is not checked, only counted once it is admitted.
 */
export function lockMayLift(row: ThrottleRecord, now: number): boolean {
  return isLocked(row, now) && liveInflight(row, now) > 0;
}

/**
 * The row after one more attempt, counted before the password is checked. An attempt made while
 * the key is locked is not counted (the row is unchanged: waiting out the lock must be enough).
 * Otherwise the count grows by one (starting over when the last count is over a day old); the
 * attempt that reaches `maxFailures` locks the key for `lockBase` seconds, and each further one
 * after that lock has expired doubles it, up to `lockMax`.
 */
export function afterAttempt(row: ThrottleRecord, maxFailures: number, timing: LockTiming, now: number): ThrottleRecord {
  if (isLocked(row, now)) return row;
  const stale = row.updatedAt.getTime() < now - COUNT_WINDOW_MS;
  const failures = (stale ? 0 : row.failures) + 1;
  const lockSeconds = failures >= maxFailures ? Math.min(timing.lockMax, timing.lockBase * 2 ** (failures - maxFailures)) : undefined;
  return {
    key: row.key,
    failures,
    lockedUntil: lockSeconds === undefined ? null : new Date(now + lockSeconds * 1000),
    updatedAt: new Date(now),
    inflight: liveInflight(row, now),
  };
}

/** The row of an admitted attempt whose password is now being checked: one more check in flight. */
export function checkStarted(row: ThrottleRecord): ThrottleRecord {
  return { ...row, inflight: row.inflight + 1 };
}

/**
 * The row once that check has ended, whatever its outcome: one fewer in flight. Its attempt stays
 * counted (a wrong password is a failure); a right one is also lifted by afterSuccess.
 */
export function checkEnded(row: ThrottleRecord): ThrottleRecord {
  return { ...row, inflight: Math.max(row.inflight - 1, 0) };
}

/** The row of a login name or an account after a correct password: its count and lock start over. */
export function afterSuccess(row: ThrottleRecord): ThrottleRecord {
  return { ...row, failures: 0, lockedUntil: null };
}

/**
 * The address's row after a correct password: it takes back the attempt this login counted (and
 * the lock that attempt set), so the honest traffic of a shared address never locks it. A lock
 * that earlier failures set stays.
 */
export function takeBackAttempt(row: ThrottleRecord, maxFailures: number): ThrottleRecord {
  const failures = Math.max(row.failures - 1, 0);
  return { ...row, failures, lockedUntil: row.failures - 1 < maxFailures ? null : row.lockedUntil };
}
