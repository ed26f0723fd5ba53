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

/** A key never seen before: no failures, no lock. */
export function freshThrottle(key: string, now: number): ThrottleRecord {
  return { key, failures: 0, lockedUntil: null, updatedAt: new Date(now) };
}

export function isLocked(row: ThrottleRecord, now: number): boolean {
  return row.lockedUntil !== null && row.lockedUntil.getTime() > now;
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
  };
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
