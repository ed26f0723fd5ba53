// The lockout arithmetic of the login guard, against a real database (embedded, or PostgreSQL
// with TEST_DATABASE_URL): an attempt is counted per login name, per account and per address;
// the account's count is shared by all of its names, and its lock alone is not told (a name of a
// locked account answers as an unknown name does); a success lifts the name's and the account's
// counts and takes back the address's attempt; parallel attempts never get past the limit; a
// lock grows by doubling.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase, type Database } from '../../src/db/data-source.js';
import { LoginGuard, type Attempt } from '../../src/domain/auth/login-guard.js';
import { AppError } from '../../src/errors/index.js';
import { createTestDatabaseConfig, type TestDatabase } from '../support/database.js';

describe('LoginGuard (maxFailures 3, maxFailuresPerIp 100, lock 1 s doubling to 8 s)', { timeout: 120_000 }, () => {
  let testDb: TestDatabase;
  let db: Database;
  let guard: LoginGuard;

  before(async () => {
    testDb = await createTestDatabaseConfig();
    db = await openDatabase(testDb.config);
    guard = new LoginGuard(db.dataSource, { maxFailures: 3, maxFailuresPerIp: 100, lockBase: 1, lockMax: 8 });
  });
  after(async () => {
    await db?.close();
    await testDb?.cleanup();
  });

  /**
   * 'check': the password may be checked; 'silent': only the account is locked, the caller
   * answers as for a wrong password; 'told': TOO_MANY_ATTEMPTS (the name or the address is locked).
   */
  async function admit(a: Attempt): Promise<'check' | 'silent' | 'told'> {
    try {
      return (await guard.admitByName(a)).accountLocked ? 'silent' : 'check';
    } catch (e) {
      assert.ok(e instanceof AppError && e.reason === 'TOO_MANY_ATTEMPTS', String(e));
      return 'told';
    }
  }

  async function row(key: string): Promise<{ failures: number; locked: boolean } | undefined> {
    const [r] = await db.dataSource.query(
      'SELECT failures, coalesce(locked_until > now(), false) AS locked FROM login_throttles WHERE key = $1',
      [key],
    );
    return r;
  }

  test("attempts on different names of one account share the account's count", async () => {
    const userId = randomUUID();
    const names = ['a@example.com', 'alice', '+15550001111'];
    for (const identifier of names) assert.equal(await admit({ identifier, userId, ip: '10.0.0.1' }), 'check', identifier);
    // Each name has seen one attempt only; the account has seen three: its limit.
    for (const identifier of names) assert.deepEqual(await row(`id:${identifier}`), { failures: 1, locked: false });
    assert.deepEqual(await row(`user:${userId}`), { failures: 3, locked: true });
    // No password is checked any more on any name, a fresh one included, from any address; the
    // lock is not told while the name itself is not locked.
    assert.equal(await admit({ identifier: 'a@example.com', userId, ip: '10.0.0.1' }), 'silent');
    assert.equal(await admit({ identifier: '15550001111', userId, ip: '10.0.0.2' }), 'silent');
    // Attempts made while locked are not counted on the locked key, but are on the name: a name
    // of a locked account reaches its own limit exactly as an unknown name does.
    assert.equal((await row(`user:${userId}`))?.failures, 3);
    assert.equal(await admit({ identifier: 'a@example.com', userId, ip: '10.0.0.1' }), 'silent');
    assert.deepEqual(await row('id:a@example.com'), { failures: 3, locked: true });
    assert.equal(await admit({ identifier: 'a@example.com', userId, ip: '10.0.0.1' }), 'told');
    // A caller that already knows the account (a signed-in user proving its password) is told.
    await assert.rejects(
      guard.admit({ identifier: 'alice', userId, ip: '10.0.0.9' }),
      (e: unknown) => e instanceof AppError && e.reason === 'TOO_MANY_ATTEMPTS',
    );
    // Another account, and a name that reaches no account, are not affected.
    assert.equal(await admit({ identifier: 'bob@example.com', userId: randomUUID(), ip: '10.0.0.1' }), 'check');
    assert.equal(await admit({ identifier: 'nobody@example.com', ip: '10.0.0.1' }), 'check');
  });

  test('a name that reaches no account is counted by name and address only', async () => {
    const before = Number((await db.dataSource.query(`SELECT count(*) AS n FROM login_throttles WHERE key LIKE 'user:%'`))[0].n);
    for (let i = 0; i < 3; i++) assert.equal(await admit({ identifier: 'ghost@example.com', ip: '10.0.0.3' }), 'check');
    assert.equal(await admit({ identifier: 'ghost@example.com', ip: '10.0.0.3' }), 'told');
    assert.deepEqual(await row('id:ghost@example.com'), { failures: 3, locked: true });
    assert.equal((await row('ip:10.0.0.3'))?.failures, 4);
    const after = Number((await db.dataSource.query(`SELECT count(*) AS n FROM login_throttles WHERE key LIKE 'user:%'`))[0].n);
    assert.equal(after, before, 'no account key was made up');
  });

  test("a success lifts the name's and the account's counts and takes back the address's attempt", async () => {
    const userId = randomUUID();
    const ip = '10.0.0.4';
    assert.equal(await admit({ identifier: 'carol', userId, ip }), 'check');
    assert.equal(await admit({ identifier: 'carol@example.com', userId, ip }), 'check');
    assert.equal(await admit({ identifier: 'carol', userId, ip }), 'check');
    await guard.succeeded({ identifier: 'carol', userId, ip });
    assert.deepEqual(await row(`user:${userId}`), { failures: 0, locked: false });
    assert.deepEqual(await row('id:carol'), { failures: 0, locked: false });
    // The other name keeps its own count (one attempt): a success by one name is not a success by it.
    assert.equal((await row('id:carol@example.com'))?.failures, 1);
    assert.equal((await row(`ip:${ip}`))?.failures, 2);
    // The account's count starts over: two more failures are admitted, the third locks.
    assert.equal(await admit({ identifier: 'carol@example.com', userId, ip }), 'check');
    assert.equal(await admit({ identifier: 'carol', userId, ip }), 'check');
    assert.equal(await admit({ identifier: 'carol', userId, ip }), 'check');
    assert.equal(await admit({ identifier: 'carol', userId, ip }), 'silent');
  });

  test('30 parallel attempts spread over 5 names of one account: at most 3 admitted', async () => {
    const userId = randomUUID();
    const names = ['dave@example.com', 'dave', '+15550002222', '15550002222', 'd.ave'];
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => admit({ identifier: names[i % names.length]!, userId, ip: `10.1.0.${i}` })),
    );
    // At most the limit; fewer when an attempt refused by the account's lock has meanwhile
    // locked a name that a slower attempt (still creating its rows) then meets.
    const admittedCount = results.filter((r) => r === 'check').length;
    assert.ok(admittedCount >= 1 && admittedCount <= 3, results.join(','));
    assert.deepEqual(await row(`user:${userId}`), { failures: 3, locked: true });
  });

  test('the lock is the base time at the limit and doubles with each attempt after it expires', async () => {
    const userId = randomUUID();
    const lockSeconds = async () =>
      Number(
        (
          await db.dataSource.query('SELECT extract(epoch FROM locked_until - now()) AS s FROM login_throttles WHERE key = $1', [
            `user:${userId}`,
          ])
        )[0].s,
      );
    for (let i = 0; i < 3; i++) assert.equal(await admit({ identifier: `erin${i}`, userId, ip: '10.0.0.5' }), 'check');
    const first = await lockSeconds();
    assert.ok(first > 0 && first <= 1, `first lock ${first} s`);
    await sleep(1100);
    // The 4th failure is admitted (the lock is over) and locks for twice the base.
    assert.equal(await admit({ identifier: 'erin3', userId, ip: '10.0.0.5' }), 'check');
    const second = await lockSeconds();
    assert.ok(second > 1 && second <= 2, `second lock ${second} s`);
    assert.equal(await admit({ identifier: 'erin4', userId, ip: '10.0.0.5' }), 'silent');
  });
});
