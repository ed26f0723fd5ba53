import { DataSource } from 'typeorm';
import { SqlThrottleStore, type ThrottleRecord } from '../../db/repositories/login-throttles.js';
import { AppError } from '../../errors/index.js';
import { CheckGate } from './check-gate.js';
import {
  afterAttempt,
  afterSuccess,
  checkEnded,
  checkStarted,
  freshThrottle,
  isLocked,
  lockMayLift,
  takeBackAttempt,
  type LockTiming,
} from './lockout.js';
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
 * A password check admitted by beginByName. Exactly one of its endings applies; `end` is safe to
 * call after either (a `finally` calls it), so a check that throws halfway still ends.
 */
export interface PasswordCheck {
  /** Only the account is locked: answer as for a wrong password, without checking (see admitByName). */
  readonly accountLocked: boolean;
  /**
   * The password was right: ends the check and lifts the counts as succeeded() does, for the
   * account `userId` (when the login found or created it only now) as well.
   */
  succeeded(userId?: string): Promise<void>;
  /** Ends the check without lifting anything: its attempt stays counted. */
  end(): Promise<void>;
}

/**
 * How long an attempt waits for checks in flight that may lift a lock (see lockMayLift) before it
 * is refused as the lock says. Checks end within a bcrypt, which a queue of them can stretch to a
 * few seconds under load.
 */
export const LIFT_WAIT_MS = 5_000;
/** How often a waiting attempt looks again, for checks in flight on other instances. */
const LIFT_POLL_MS = 50;

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
 *
 * Because an attempt is counted before its check, parallel attempts with the right password
 * would reach the limit together and lock each other out. So a login (beginByName) also marks its
 * check as in flight until it ends: a lock set while checks are in flight is waited out (one
 * success lifts it) rather than refused, and this process runs at most a key's limit of checks at
 * once. Parallel guesses still get no more checks than the limit.
 */
export class LoginGuard {
  private readonly timing: LockTiming;
  private readonly store: ThrottleStore;
  private readonly gate = new CheckGate();
  /** Attempts waiting for a lock to lift, by key: woken when a check on that key ends here. */
  private readonly liftWaiters = new Map<string, Set<() => void>>();

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
    this.refuseByName(a, locks);
    return { accountLocked: locks.length > 0 };
  }

  /** Throws TOO_MANY_ATTEMPTS for the locks a login name may be told of: all but the account's. */
  private refuseByName(a: Attempt, locks: Lock[]): void {
    const account = a.userId ? this.accountKey(a.userId) : undefined;
    const told = locks.filter((l) => l.key !== account);
    if (told.length) throw this.tooManyAttempts(told);
  }

  /**
   * Counts an attempt made with a login name, as admitByName does, for a password check that says
   * how it ended (see PasswordCheck). Unlike admitByName, a lock that checks still in flight may
   * lift (lockMayLift) is waited out, for up to LIFT_WAIT_MS, instead of refused: parallel logins
   * with the right password then all pass, one success lifting the lock the others' counting set.
   * No more checks than the limit run at once: beyond it, this process queues attempts (CheckGate)
   * and the database refuses or holds the rest.
   */
  async beginByName(a: Attempt): Promise<PasswordCheck> {
    const keys = this.keysOf(a);
    const leave = await this.gate.enter([...keys].map(([key, limit]) => ({ key, limit })));
    let outcome: { locks: Lock[]; started: boolean };
    try {
      outcome = await this.countWaiting(keys, Date.now() + LIFT_WAIT_MS);
      this.refuseByName(a, outcome.locks);
    } catch (e) {
      leave();
      throw e;
    }
    if (!outcome.started) {
      leave();
      return { accountLocked: true, succeeded: async () => {}, end: async () => {} };
    }
    let ended = false;
    const finish = async (change: (rows: ThrottleRecord[]) => ThrottleRecord[], extraKeys: string[]) => {
      if (ended) return;
      ended = true;
      try {
        await this.store.update([...keys.keys(), ...extraKeys], change);
      } finally {
        leave();
        this.wakeLiftWaiters(keys.keys());
      }
    };
    const address = this.addressKey(a.ip)?.key;
    return {
      accountLocked: false,
      succeeded: (userId) => {
        const extra = userId && userId !== a.userId ? [this.accountKey(userId)] : [];
        return finish(
          (rows) =>
            rows.map((r) => {
              const row = keys.has(r.key) ? checkEnded(r) : r;
              return r.key === address ? takeBackAttempt(row, keys.get(address)!) : afterSuccess(row);
            }),
          extra,
        );
      },
      // A check that could not be ended here (the database gone) stays marked only until the
      // mark goes stale (INFLIGHT_STALE_MS); the error that ended the request is the one to tell.
      end: () => finish((rows) => rows.map(checkEnded), []).catch(() => undefined),
    };
  }

  /** The keys an attempt charges, with their limits. */
  private keysOf(a: Attempt): Map<string, number> {
    const address = this.addressKey(a.ip);
    return new Map([...this.ownKeys(a), ...(address ? [address] : [])].map((k) => [k.key, k.maxFailures]));
  }

  /** Charges every key of the attempt; returns the keys that were locked before it. */
  private async count(a: Attempt): Promise<Lock[]> {
    return (await this.charge(this.keysOf(a), { check: false, mayWait: false })).locks;
  }

  /**
   * Charges the keys and starts a check on them, waiting (until `deadline`, ms) while a lock may
   * be lifted by checks in flight; past the deadline, charges them as count() does.
   */
  private async countWaiting(keys: Map<string, number>, deadline: number): Promise<{ locks: Lock[]; started: boolean }> {
    for (;;) {
      const left = deadline - Date.now();
      const outcome = await this.charge(keys, { check: true, mayWait: left > 0 });
      if (!outcome.waiting) return { locks: outcome.locks, started: outcome.locks.length === 0 };
      await this.waitForLift(keys.keys(), Math.min(LIFT_POLL_MS, left));
    }
  }

  /**
   * One atomic update of the keys' rows. An attempt on a locked key is refused: it is charged on
   * the keys that are not locked and the locks are returned. With `mayWait`, a lock that checks in
   * flight may lift leaves every row as it is instead (waiting: true). With `check`, an attempt
   * that meets no lock also starts a check on every key.
   */
  private async charge(
    keys: Map<string, number>,
    mode: { check: boolean; mayWait: boolean },
  ): Promise<{ locks: Lock[]; waiting: boolean }> {
    let locks: Lock[] = [];
    let waiting = false;
    await this.store.update(
      [...keys.keys()],
      (rows) => {
        // The time is read once the rows are held: an attempt that waited for them (behind
        // parallel ones) must not set a lock that began in the past.
        const now = this.clock();
        const locked = rows.filter((r) => isLocked(r, now));
        waiting = mode.mayWait && locked.length > 0 && locked.every((r) => lockMayLift(r, now));
        if (waiting) return rows;
        locks = locked.map((r) => ({ key: r.key, until: r.lockedUntil!.getTime() }));
        const counted = rows.map((r) => afterAttempt(r, keys.get(r.key)!, this.timing, now));
        return mode.check && locks.length === 0 ? counted.map(checkStarted) : counted;
      },
      (key) => freshThrottle(key, this.clock()),
    );
    return { locks, waiting };
  }

  /** Until a check on one of the keys ends in this process, or `ms` pass (for other instances). */
  private waitForLift(keys: Iterable<string>, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const registered: [string, Set<() => void>][] = [];
      const done = () => {
        clearTimeout(timer);
        for (const [key, set] of registered) {
          set.delete(done);
          if (set.size === 0 && this.liftWaiters.get(key) === set) this.liftWaiters.delete(key);
        }
        resolve();
      };
      const timer = setTimeout(done, ms);
      for (const key of keys) {
        let set = this.liftWaiters.get(key);
        if (!set) this.liftWaiters.set(key, (set = new Set()));
        set.add(done);
        registered.push([key, set]);
      }
    });
  }

  private wakeLiftWaiters(keys: Iterable<string>): void {
    for (const key of keys) for (const wake of [...(this.liftWaiters.get(key) ?? [])]) wake();
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
