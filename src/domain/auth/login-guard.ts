import type { DataSource } from 'typeorm';
import { countAttempt, recordSuccess, type LockTiming, type ThrottleKey } from '../../db/repositories/login-throttles.js';
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
  private readonly timing: LockTiming;

  constructor(private readonly ds: DataSource, private readonly limits: LoginGuardLimits) {
    this.timing = { lockBase: limits.lockBase, lockMax: limits.lockMax };
  }

  private addressKey(ip: string): ThrottleKey | undefined {
    return ip ? { key: `ip:${ip}`, maxFailures: this.limits.maxFailuresPerIp } : undefined;
  }

  private keys(identifier: string, ip: string): ThrottleKey[] {
    const address = this.addressKey(ip);
    return [{ key: `id:${identifier}`, maxFailures: this.limits.maxFailures }, ...(address ? [address] : [])];
  }

  /** Counts the attempt; throws TOO_MANY_ATTEMPTS when the identifier or the address is locked. */
  async admit(identifier: string, ip: string): Promise<void> {
    const { lockedUntil } = await countAttempt(this.ds, this.keys(identifier, ip), this.timing);
    if (lockedUntil) {
      const retryAfter = Math.max(1, Math.ceil((lockedUntil.getTime() - Date.now()) / 1000));
      throw new AppError('TOO_MANY_ATTEMPTS', `Too many failed attempts; try again in ${retryAfter} seconds.`, { 'retry-after': String(retryAfter) });
    }
  }

  async succeeded(identifier: string, ip: string): Promise<void> {
    await recordSuccess(this.ds, `id:${identifier}`, this.addressKey(ip));
  }
}
