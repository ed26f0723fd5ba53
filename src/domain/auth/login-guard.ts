import type { DataSource } from 'typeorm';
import { countAttempt, forgiveAttempt, resetAttempts, type ThrottleLimits } from '../../db/repositories/login-throttles.js';
import { AppError } from '../../errors/index.js';

export interface LoginGuardLimits {
  maxFailures: number;
  maxFailuresPerIp: number;
  lockBase: number;
  lockMax: number;
}

/**
 * Login protection, shared by every door that checks a password (login, the legacy token and
 * /verify). Each attempt is counted in the database before the password is checked, for the
 * identifier and for the client address, so the limit holds with parallel requests and across
 * server instances. A locked caller gets 429 with Retry-After; a success lifts the identifier's
 * count.
 */
export class LoginGuard {
  private readonly idLimits: ThrottleLimits;
  private readonly ipLimits: ThrottleLimits;

  constructor(private readonly ds: DataSource, limits: LoginGuardLimits) {
    this.idLimits = { maxFailures: limits.maxFailures, lockBase: limits.lockBase, lockMax: limits.lockMax };
    this.ipLimits = { maxFailures: limits.maxFailuresPerIp, lockBase: limits.lockBase, lockMax: limits.lockMax };
  }

  /** Counts the attempt; throws TOO_MANY_ATTEMPTS when the identifier or the address is locked. */
  async admit(identifier: string, ip: string): Promise<void> {
    const checks = [countAttempt(this.ds, `id:${identifier}`, this.idLimits)];
    if (ip) checks.push(countAttempt(this.ds, `ip:${ip}`, this.ipLimits));
    const locks = (await Promise.all(checks)).map((r) => r.lockedUntil).filter((d): d is Date => d !== null);
    if (locks.length > 0) {
      const until = Math.max(...locks.map((d) => d.getTime()));
      const retryAfter = Math.max(1, Math.ceil((until - Date.now()) / 1000));
      throw new AppError('TOO_MANY_ATTEMPTS', `Too many failed attempts; try again in ${retryAfter} seconds.`, { 'retry-after': String(retryAfter) });
    }
  }

  async succeeded(identifier: string, ip: string): Promise<void> {
    await Promise.all([
      resetAttempts(this.ds, `id:${identifier}`),
      ip ? forgiveAttempt(this.ds, `ip:${ip}`, this.ipLimits.maxFailures) : Promise.resolve(),
    ]);
  }
}
