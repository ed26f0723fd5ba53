import { DataSource } from 'typeorm';
import { SqlThrottleStore } from '../../db/repositories/login-throttles.js';
import { AppError } from '../../errors/index.js';
import { afterAttempt, afterSuccess, freshThrottle, isLocked, takeBackAttempt, type LockTiming } from './lockout.js';
import type { ThrottleStore } from './lockout-store.js';

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
export interface Attempt {
  identifier: string;
  userId?: string;
  ip: string;
}

/** One counter to charge, with its own limit. */
interface ThrottleKey {
  key: string;
  maxFailures: number;
}

/** A key that was locked before an attempt, and until when (ms). */
interface Lock {
  key: string;
  until: number;
}

/**
 * Login protection, shared by every door that checks a password (login, the legacy token and
 * /verify). Each attempt is counted before the password is checked, in one atomic update of its
 * keys' rows (see ThrottleStore), so the limit holds with parallel requests and across server
 * instances; the arithmetic is lockout.ts's. It is counted three ways:
 * - per login name (`id:`), so guesses at an unknown name are limited like those at a known one;
 * - per account (`user:`), with the same limit, because an account has several login names
 *   (e-mail, username, phone, each in several spellings) and guesses spread over them are
 *   guesses at one password;
 * - per client address (`ip:`), with its own, higher limit, against one address trying many
 *   accounts.
 * A locked name or address gets 429 with Retry-After, as an unknown name would after as many
 * failures. At the doors reached by a login name, a lock of the account alone is not told (see
 * admitByName): the caller answers as for a wrong password. A success lifts the login name's and
 * the account's counts.
 */
export class LoginGuard {
  private readonly timing: LockTiming;
  private readonly store: ThrottleStore;

  /** `storage`: a ThrottleStore, or a DataSource for the login_throttles table. `clock`: ms now. */
  constructor(
    storage: ThrottleStore | DataSource,
    private readonly limits: LoginGuardLimits,
    private readonly clock: () => number = Date.now,
  ) {
    this.store = storage instanceof DataSource ? new SqlThrottleStore(storage) : storage;
    this.timing = { lockBase: limits.lockBase, lockMax: limits.lockMax };
  }

  private addressKey(ip: string): ThrottleKey | undefined {
    return ip ? { key: `ip:${ip}`, maxFailures: this.limits.maxFailuresPerIp } : undefined;
  }

  private accountKey(userId: string): string {
    return `user:${userId}`;
  }

  /** The name's and the account's keys: what a success lifts. */
  private ownKeys(a: Attempt): ThrottleKey[] {
    const keys = [{ key: `id:${a.identifier}`, maxFailures: this.limits.maxFailures }];
    if (a.userId) keys.push({ key: this.accountKey(a.userId), maxFailures: this.limits.maxFailures });
    return keys;
  }

  /**
   * Counts the attempt; throws TOO_MANY_ATTEMPTS when the name, the account or the address is
   * locked. For callers that already know whose account it is (a signed-in user proving its
   * current password), where a lock tells nothing new.
   */
  async admit(a: Attempt): Promise<void> {
    const locks = await this.count(a);
    if (locks.length) throw this.tooManyAttempts(locks);
  }

  /**
   * Counts an attempt made with a login name (login, POST /token, POST /verify). Throws
   * TOO_MANY_ATTEMPTS when the name or the address is locked. When only the account is locked,
   * says so instead of throwing: a 429 there would tell that this name belongs to an account
   * locked through another of its names (an unknown name gets a 401), so the caller refuses it as
   * a wrong password, at the same cost, without checking the password.
   */
  async admitByName(a: Attempt): Promise<{ accountLocked: boolean }> {
    const locks = await this.count(a);
    const account = a.userId ? this.accountKey(a.userId) : undefined;
    const told = locks.filter((l) => l.key !== account);
    if (told.length) throw this.tooManyAttempts(told);
    return { accountLocked: locks.length > 0 };
  }

  /** Charges every key of the attempt; returns the keys that were locked before it. */
  private async count(a: Attempt): Promise<Lock[]> {
    const address = this.addressKey(a.ip);
    const limits = new Map([...this.ownKeys(a), ...(address ? [address] : [])].map((k) => [k.key, k.maxFailures]));
    let locks: Lock[] = [];
    await this.store.update(
      [...limits.keys()],
      (rows) => {
        // The time is read once the rows are held: an attempt that waited for them (behind
        // parallel ones) must not set a lock that began in the past.
        const now = this.clock();
        locks = rows.filter((r) => isLocked(r, now)).map((r) => ({ key: r.key, until: r.lockedUntil!.getTime() }));
        return rows.map((r) => afterAttempt(r, limits.get(r.key)!, this.timing, now));
      },
      (key) => freshThrottle(key, this.clock()),
    );
    return locks;
  }

  /** Lifts the name's and the account's counts; the address takes back this attempt. */
  async succeeded(a: Attempt): Promise<void> {
    const address = this.addressKey(a.ip);
    const own = this.ownKeys(a).map((k) => k.key);
    await this.store.update([...own, ...(address ? [address.key] : [])], (rows) =>
      rows.map((r) => (r.key === address?.key ? takeBackAttempt(r, address.maxFailures) : afterSuccess(r))),
    );
  }

  private tooManyAttempts(locks: Lock[]): AppError {
    const until = Math.max(...locks.map((l) => l.until));
    const retryAfter = Math.max(1, Math.ceil((until - this.clock()) / 1000));
    return new AppError('TOO_MANY_ATTEMPTS', `Too many failed attempts; try again in ${retryAfter} seconds.`, {
      'retry-after': String(retryAfter),
    });
  }
}
