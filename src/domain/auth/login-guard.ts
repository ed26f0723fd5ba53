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
 * One password attempt: the login name as counted (normalized), the account it names when it
 * names one, and the client address.
 */
export interface Attempt { identifier: string; userId?: string; ip: string }

/**
 * Login protection, shared by every door that checks a password (login, the legacy token and
 * /verify). Each attempt is counted in the database before the password is checked, in one
 * statement, so the limit holds with parallel requests and across server instances. It is
 * counted three ways:
 * - per login name (`id:`), so guesses at an unknown name are limited like those at a known one;
 * - per account (`user:`), with the same limit, because an account has several login names
 *   (e-mail, username, phone, each in several spellings) and guesses spread over them are
 *   guesses at one password;
 * - per client address (`ip:`), with its own, higher limit, against one address trying many
 *   accounts.
 * A locked caller gets 429 with Retry-After; a success lifts the login name's and the account's
 * counts.
 */
export class LoginGuard {
  private readonly timing: LockTiming;

  constructor(private readonly ds: DataSource, private readonly limits: LoginGuardLimits) {
    this.timing = { lockBase: limits.lockBase, lockMax: limits.lockMax };
  }

  private addressKey(ip: string): ThrottleKey | undefined {
    return ip ? { key: `ip:${ip}`, maxFailures: this.limits.maxFailuresPerIp } : undefined;
  }

  /** The name's and the account's keys: what a success lifts. */
  private ownKeys(a: Attempt): ThrottleKey[] {
    const keys = [{ key: `id:${a.identifier}`, maxFailures: this.limits.maxFailures }];
    if (a.userId) keys.push({ key: `user:${a.userId}`, maxFailures: this.limits.maxFailures });
    return keys;
  }

  /** Counts the attempt; throws TOO_MANY_ATTEMPTS when the name, the account or the address is locked. */
  async admit(a: Attempt): Promise<void> {
    const address = this.addressKey(a.ip);
    const { lockedUntil } = await countAttempt(this.ds, [...this.ownKeys(a), ...(address ? [address] : [])], this.timing);
    if (lockedUntil) {
      const retryAfter = Math.max(1, Math.ceil((lockedUntil.getTime() - Date.now()) / 1000));
      throw new AppError('TOO_MANY_ATTEMPTS', `Too many failed attempts; try again in ${retryAfter} seconds.`, { 'retry-after': String(retryAfter) });
    }
  }

  async succeeded(a: Attempt): Promise<void> {
    await recordSuccess(this.ds, this.ownKeys(a).map((k) => k.key), this.addressKey(a.ip));
  }
}
