// The lockout rule without a database: lockout.ts's arithmetic, and the LoginGuard over an
// in-memory ThrottleStore and a clock the test moves. login-guard.test.ts checks the same guard
// against the real tables (parallel attempts, row locks); this one runs in milliseconds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ThrottleRecord } from '../../src/db/repositories/login-throttles.js';
import {
  afterAttempt,
  afterSuccess,
  COUNT_WINDOW_MS,
  checkEnded,
  checkStarted,
  freshThrottle,
  INFLIGHT_STALE_MS,
  isLocked,
  liveInflight,
  lockMayLift,
  takeBackAttempt,
} from '../../src/domain/auth/lockout.js';
import type { ThrottleStore } from '../../src/domain/auth/lockout-store.js';
import { type Attempt, LIFT_WAIT_MS, LoginGuard, type PasswordCheck } from '../../src/domain/auth/login-guard.js';
import { AppError } from '../../src/errors/index.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const timing = { lockBase: 30, lockMax: 300 };

/** A ThrottleStore in a Map: nothing awaits between the read and the write, so each update is atomic. */
class MemoryThrottles implements ThrottleStore {
  readonly rows = new Map<string, ThrottleRecord>();

  async update(
    keys: readonly string[],
    change: (rows: ThrottleRecord[]) => ThrottleRecord[],
    create?: (key: string) => ThrottleRecord,
  ): Promise<void> {
    const found = [...new Set(keys)].flatMap((key) => {
      const row = this.rows.get(key) ?? create?.(key);
      return row ? [{ ...row }] : [];
    });
    for (const row of change(found)) this.rows.set(row.key, row);
  }
}

class FakeClock {
  constructor(public ms = T0) {}
  readonly now = () => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** `n` failed attempts on a fresh key at `now`, one after the other. */
function failures(n: number, maxFailures: number, now = T0): ThrottleRecord {
  let row = freshThrottle('k', now);
  for (let i = 0; i < n; i++) row = afterAttempt(row, maxFailures, timing, now);
  return row;
}

const lockSeconds = (row: ThrottleRecord, now: number) => (row.lockedUntil ? (row.lockedUntil.getTime() - now) / 1000 : 0);

describe('lockout arithmetic (lockout.ts)', () => {
  test('each attempt counts one on its key; below the limit nothing is locked', () => {
    const row = failures(2, 3);
    assert.equal(row.failures, 2);
    assert.equal(row.lockedUntil, null);
    assert.equal(isLocked(row, T0), false);
    assert.equal(row.updatedAt.getTime(), T0);
  });

  test('the attempt that reaches the limit locks the key for the base time', () => {
    const row = failures(3, 3);
    assert.equal(row.failures, 3);
    assert.equal(lockSeconds(row, T0), timing.lockBase);
    assert.equal(isLocked(row, T0), true);
    assert.equal(isLocked(row, T0 + timing.lockBase * 1000 - 1), true);
    assert.equal(isLocked(row, T0 + timing.lockBase * 1000), false, 'the lock ends at lockedUntil');
    assert.equal(lockSeconds(failures(1, 1), T0), timing.lockBase, 'a limit of one locks at the first attempt');
  });

  test('attempts while locked are not counted and do not move the lock', () => {
    const locked = failures(3, 3);
    const later = T0 + 10_000;
    assert.deepEqual(afterAttempt(locked, 3, timing, later), locked);
  });

  test('each attempt after a lock has expired doubles it, up to lockMax', () => {
    let row = failures(3, 3);
    let now = T0;
    const locks: number[] = [];
    for (let i = 0; i < 6; i++) {
      now = row.lockedUntil!.getTime();
      row = afterAttempt(row, 3, timing, now);
      locks.push(lockSeconds(row, now));
    }
    assert.deepEqual(locks, [60, 120, 240, 300, 300, 300]);
    assert.equal(row.failures, 9);
  });

  test('a count older than a day starts over', () => {
    const two = failures(2, 3);
    const justInside = afterAttempt(two, 3, timing, T0 + COUNT_WINDOW_MS);
    assert.equal(justInside.failures, 3, 'a day to the millisecond still counts');
    const stale = afterAttempt(two, 3, timing, T0 + COUNT_WINDOW_MS + 1);
    assert.deepEqual(stale, { key: 'k', failures: 1, lockedUntil: null, updatedAt: new Date(T0 + COUNT_WINDOW_MS + 1), inflight: 0 });
    // A long-expired lock's doubling starts over too: the next lock is the base time again.
    const doubled = afterAttempt(failures(3, 3), 3, timing, T0 + 30_000);
    const a = T0 + 30_000 + COUNT_WINDOW_MS + 1;
    const restarted = [1, 2, 3].reduce((r, i) => afterAttempt(r, 3, timing, a + i), doubled);
    assert.equal(restarted.failures, 3);
    assert.equal(lockSeconds(restarted, a + 3), timing.lockBase);
  });

  test("a success lifts the key's count and lock", () => {
    const locked = failures(4, 3);
    assert.deepEqual(afterSuccess(locked), { ...locked, failures: 0, lockedUntil: null });
  });

  test("the address takes back the successful attempt, and the lock that attempt set, but not an earlier one's", () => {
    assert.deepEqual(takeBackAttempt(failures(2, 5), 5), { ...failures(2, 5), failures: 1 });
    assert.equal(takeBackAttempt(freshThrottle('k', T0), 5).failures, 0, 'never below zero');
    // This attempt was the 5th: it set the lock, and taking it back lifts it.
    const setByThis = takeBackAttempt(failures(5, 5), 5);
    assert.deepEqual([setByThis.failures, setByThis.lockedUntil], [4, null]);
    // Locked at the 5th attempt, then a 6th after the lock expired: the lock it set stays with 5.
    const sixth = afterAttempt(failures(5, 5), 5, timing, T0 + 30_000);
    const kept = takeBackAttempt(sixth, 5);
    assert.equal(kept.failures, 5);
    assert.deepEqual(kept.lockedUntil, sixth.lockedUntil);
  });
});

describe('LoginGuard over an in-memory store (maxFailures 3, per address 5, lock 30 s doubling to 300 s)', () => {
  const limits = { maxFailures: 3, maxFailuresPerIp: 5, ...timing };
  const setup = () => {
    const store = new MemoryThrottles();
    const clock = new FakeClock();
    return { store, clock, guard: new LoginGuard(store, limits, clock.now) };
  };
  const failuresOf = (store: MemoryThrottles, key: string) => store.rows.get(key)?.failures;

  /** 'check', 'silent' (only the account is locked) or the Retry-After of a TOO_MANY_ATTEMPTS. */
  async function byName(guard: LoginGuard, a: Attempt): Promise<string> {
    try {
      return (await guard.admitByName(a)).accountLocked ? 'silent' : 'check';
    } catch (e) {
      assert.ok(e instanceof AppError && e.reason === 'TOO_MANY_ATTEMPTS', String(e));
      return `told ${e.headers?.['retry-after']}`;
    }
  }

  test('an attempt is counted per name, per account (shared by its names) and per address', async () => {
    const { store, guard } = setup();
    await guard.admitByName({ identifier: 'alice', userId: 'u1', ip: '10.0.0.1' });
    await guard.admitByName({ identifier: 'alice@example.com', userId: 'u1', ip: '10.0.0.2' });
    await guard.admitByName({ identifier: 'ghost', ip: '10.0.0.1' });
    assert.deepEqual(
      Object.fromEntries([...store.rows.values()].map((r) => [r.key, r.failures])),
      { 'id:alice': 1, 'user:u1': 2, 'ip:10.0.0.1': 2, 'id:alice@example.com': 1, 'ip:10.0.0.2': 1, 'id:ghost': 1 },
      'no account key for a name that reaches none',
    );
    await guard.admitByName({ identifier: 'bob', userId: 'u2', ip: '' });
    assert.equal(store.rows.has('ip:'), false, 'no address, no address key');
  });

  test('a locked name is told with Retry-After; a locked account alone is not (admitByName)', async () => {
    const { store, guard, clock } = setup();
    for (const identifier of ['a', 'b', 'c'])
      assert.equal(await byName(guard, { identifier, userId: 'u1', ip: `10.0.0.${identifier}` }), 'check');
    assert.equal(await byName(guard, { identifier: 'a', userId: 'u1', ip: '10.0.1.1' }), 'silent');
    clock.advance(10);
    assert.equal(await byName(guard, { identifier: 'a', userId: 'u1', ip: '10.0.1.1' }), 'silent');
    assert.equal(failuresOf(store, 'id:a'), 3, "the name counts on while the account's lock holds");
    assert.equal(failuresOf(store, 'user:u1'), 3, 'attempts while locked are not counted on the locked key');
    // The name is locked now, from the attempt at +10 s: 30 s from then.
    clock.advance(5);
    assert.equal(await byName(guard, { identifier: 'a', userId: 'u1', ip: '10.0.1.1' }), 'told 25');
    // admit (the caller knows whose account it is) tells the account's lock too.
    await assert.rejects(
      guard.admit({ identifier: 'd', userId: 'u1', ip: '10.0.2.1' }),
      (e: unknown) => e instanceof AppError && e.reason === 'TOO_MANY_ATTEMPTS' && e.headers?.['retry-after'] === '15',
    );
    // When the account's lock is over, the next failure locks it for twice as long.
    clock.advance(15);
    assert.equal(await byName(guard, { identifier: 'e', userId: 'u1', ip: '10.0.3.1' }), 'check');
    assert.equal(await byName(guard, { identifier: 'f', userId: 'u1', ip: '10.0.3.2' }), 'silent');
    assert.equal(store.rows.get('user:u1')!.lockedUntil!.getTime() - clock.ms, 60_000);
  });

  test('the address has its own limit and is told', async () => {
    const { store, guard } = setup();
    for (let i = 0; i < 5; i++) assert.equal(await byName(guard, { identifier: `n${i}`, ip: '10.9.9.9' }), 'check');
    assert.equal(await byName(guard, { identifier: 'n9', ip: '10.9.9.9' }), 'told 30');
    assert.equal(failuresOf(store, 'ip:10.9.9.9'), 5);
    assert.equal(failuresOf(store, 'id:n9'), 1, 'a refused attempt still counts on the keys that are not locked');
  });

  test("a success lifts the name's and the account's counts and takes back the address's attempt", async () => {
    const { store, guard } = setup();
    const ip = '10.0.0.4';
    await guard.admitByName({ identifier: 'carol', userId: 'u3', ip });
    await guard.admitByName({ identifier: 'carol@example.com', userId: 'u3', ip });
    await guard.admitByName({ identifier: 'carol', userId: 'u3', ip });
    await guard.succeeded({ identifier: 'carol', userId: 'u3', ip });
    assert.equal(failuresOf(store, 'id:carol'), 0);
    assert.equal(failuresOf(store, 'user:u3'), 0);
    assert.equal(failuresOf(store, 'id:carol@example.com'), 1, "another name's count is its own");
    assert.equal(failuresOf(store, `ip:${ip}`), 2);
    // A success makes up no rows for keys never counted.
    await guard.succeeded({ identifier: 'dan', userId: 'u4', ip: '10.0.0.5' });
    assert.equal(store.rows.size, 4);
  });

  test('a shared address used only for successes never locks', async () => {
    const { store, guard } = setup();
    for (let i = 0; i < 20; i++) {
      const a = { identifier: `user${i}`, userId: `u${i}`, ip: '192.0.2.1' };
      await guard.admitByName(a);
      await guard.succeeded(a);
    }
    assert.equal(failuresOf(store, 'ip:192.0.2.1'), 0);
  });
});

describe('password checks in flight (lockout.ts)', () => {
  test('a check in flight is marked on its row until it ends; never below zero', () => {
    const started = checkStarted(checkStarted(afterAttempt(freshThrottle('k', T0), 3, timing, T0)));
    assert.equal(started.inflight, 2);
    assert.equal(started.failures, 1, 'starting a check counts nothing more: the attempt was counted');
    assert.equal(checkEnded(started).inflight, 1);
    assert.equal(checkEnded(freshThrottle('k', T0)).inflight, 0);
    assert.equal(checkEnded(started).failures, 1, 'an ended check stays counted');
  });

  test('a lock may lift while checks that counted toward it are in flight, and only then', () => {
    const locked = failures(3, 3);
    assert.equal(lockMayLift(locked, T0), false, 'a lock of ended attempts is refused');
    const inFlight = checkStarted(locked);
    assert.equal(lockMayLift(inFlight, T0), true);
    assert.equal(lockMayLift(checkStarted(failures(2, 3)), T0), false, 'not locked: nothing to wait for');
    // A mark that has not moved for INFLIGHT_STALE_MS belongs to a check that died with its process.
    assert.equal(liveInflight(inFlight, T0 + INFLIGHT_STALE_MS), 1);
    assert.equal(liveInflight(inFlight, T0 + INFLIGHT_STALE_MS + 1), 0);
    assert.equal(afterAttempt(checkStarted(failures(1, 3)), 3, timing, T0 + INFLIGHT_STALE_MS + 1).inflight, 0);
  });
});

describe('LoginGuard.beginByName: parallel logins (maxFailures 3, per address 50)', () => {
  const limits = { maxFailures: 3, maxFailuresPerIp: 50, ...timing };
  const setup = () => {
    const store = new MemoryThrottles();
    const clock = new FakeClock();
    return { store, clock, guard: new LoginGuard(store, limits, clock.now) };
  };
  const alice = { identifier: 'alice', userId: 'u1', ip: '10.0.0.1' };

  /** Runs one login: begin, a password check of `ms`, then its ending; says how it went. */
  async function login(guard: LoginGuard, a: Attempt, right: boolean, running: { now: number; most: number }): Promise<string> {
    let check: PasswordCheck;
    try {
      check = await guard.beginByName(a);
    } catch (e) {
      assert.ok(e instanceof AppError && e.reason === 'TOO_MANY_ATTEMPTS', String(e));
      return 'told';
    }
    try {
      if (check.accountLocked) return 'silent';
      running.most = Math.max(running.most, ++running.now);
      await sleep(5);
      running.now--;
      if (!right) return 'wrong';
      await check.succeeded();
      return 'ok';
    } finally {
      await check.end();
    }
  }

  test('12 parallel logins with the right password all pass; no more than the limit are checked at once', async () => {
    const { store, guard } = setup();
    const running = { now: 0, most: 0 };
    const results = await Promise.all(Array.from({ length: 12 }, () => login(guard, alice, true, running)));
    assert.deepEqual(results, Array(12).fill('ok'));
    assert.ok(running.most >= 1 && running.most <= 3, `${running.most} checks at once`);
    for (const key of ['id:alice', 'user:u1', 'ip:10.0.0.1'])
      assert.deepEqual([store.rows.get(key)?.failures, store.rows.get(key)?.inflight], [0, 0], key);
  });

  test('12 parallel wrong guesses: 3 are checked, the others refused as soon as those have ended', async () => {
    const { store, guard } = setup();
    const running = { now: 0, most: 0 };
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 12 }, () => login(guard, alice, false, running)));
    assert.equal(results.filter((r) => r === 'wrong').length, 3, results.join(','));
    assert.equal(results.filter((r) => r === 'told').length, 9, results.join(','));
    assert.ok(Date.now() - started < LIFT_WAIT_MS / 2, 'nobody waited out LIFT_WAIT_MS: the ended checks woke them');
    assert.deepEqual([store.rows.get('user:u1')?.failures, store.rows.get('user:u1')?.inflight], [3, 0]);
    assert.ok(isLocked(store.rows.get('id:alice')!, T0));
  });

  test("another instance's attempt waits for checks in flight: it passes when one succeeds, and is refused when all fail", async () => {
    for (const right of [true, false]) {
      const { store, guard, clock } = setup();
      const other = new LoginGuard(store, limits, clock.now);
      const checks = await Promise.all([1, 2, 3].map(() => guard.beginByName(alice)));
      assert.ok(isLocked(store.rows.get('user:u1')!, T0), 'the third attempt reached the limit');
      let settled = false;
      const waiting = other.beginByName(alice).finally(() => {
        settled = true;
      });
      await sleep(120);
      assert.equal(settled, false, 'the attempt waits while the lock may lift');
      assert.equal(store.rows.get('user:u1')!.failures, 3, 'a waiting attempt is not counted yet');
      if (right) {
        await checks[0]!.succeeded();
        const check = await waiting;
        assert.equal(check.accountLocked, false);
        assert.equal(store.rows.get('user:u1')!.failures, 1, 'counted once admitted, after the success lifted the count');
        await check.end();
      } else {
        for (const c of checks) await c.end();
        await assert.rejects(waiting, (e: unknown) => e instanceof AppError && e.reason === 'TOO_MANY_ATTEMPTS');
      }
      for (const c of checks) await c.end();
    }
  });

  test('a lock with no check in flight, or only checks whose mark went stale, is refused at once', async () => {
    const { store, guard, clock } = setup();
    for (const identifier of ['a', 'b', 'c']) await guard.admitByName({ ...alice, identifier });
    const started = Date.now();
    assert.equal((await guard.beginByName(alice)).accountLocked, true);
    // A mark left by a check that died with its process: it holds nobody back after a minute.
    const row = store.rows.get('user:u1')!;
    row.inflight = 2;
    row.updatedAt = new Date(clock.ms - INFLIGHT_STALE_MS + 2000);
    const other = new LoginGuard(store, limits, clock.now);
    let settled = false;
    const waited = other.beginByName({ ...alice, identifier: 'd' }).finally(() => {
      settled = true;
    });
    await sleep(80);
    assert.equal(settled, false, 'a live mark is waited for');
    clock.advance(3);
    assert.equal((await waited).accountLocked, true);
    assert.ok(Date.now() - started < LIFT_WAIT_MS / 2, 'refused once the mark went stale, not after LIFT_WAIT_MS');
  });

  test('a check ends once: ending it after its success changes nothing more', async () => {
    const { store, guard } = setup();
    const [one, two] = [await guard.beginByName(alice), await guard.beginByName(alice)];
    await one.succeeded();
    await one.end();
    assert.equal(store.rows.get('id:alice')!.inflight, 1);
    await two.end();
    assert.equal(store.rows.get('id:alice')!.inflight, 0);
    assert.equal(store.rows.get('id:alice')!.failures, 0, "the success lifted the count, the other attempt's with it");
  });

  test("a success for an account found only now also lifts that account's count", async () => {
    const { store, guard } = setup();
    for (const identifier of ['x', 'y']) await guard.admitByName({ identifier, userId: 'u9', ip: '10.0.0.2' });
    const check = await guard.beginByName({ identifier: 'new-name', ip: '10.0.0.2' });
    await check.succeeded('u9');
    assert.equal(store.rows.get('user:u9')!.failures, 0);
    assert.equal(store.rows.get('user:u9')!.inflight, 0, 'no check was started on it, none is ended');
  });
});
