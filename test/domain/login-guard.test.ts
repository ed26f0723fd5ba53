// The lockout arithmetic of the login guard, against a real database (embedded, or PostgreSQL
// with TEST_DATABASE_URL): an attempt is counted per login name, per account and per address;
// the account's count is shared by all of its names; a success lifts the name's and the
// account's counts and takes back the address's attempt; parallel attempts never get past the
// limit; a lock grows by doubling.
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

  /** true when admitted, false when refused with TOO_MANY_ATTEMPTS. */
  async function admitted(a: Attempt): Promise<boolean> {
    try {
      await guard.admit(a);
      return true;
    } catch (e) {
      assert.ok(e instanceof AppError && e.reason === 'TOO_MANY_ATTEMPTS', String(e));
      return false;
    }
  }

  async function row(key: string): Promise<{ failures: number; locked: boolean } | undefined> {
    const [r] = await db.dataSource.query(
      'SELECT failures, coalesce(locked_until > now(), false) AS locked FROM login_throttles WHERE key = $1', [key]);
    return r;
  }

  test('attempts on different names of one account share the account\'s count', async () => {
    const userId = randomUUID();
    const names = ['a@example.com', 'alice', '+15550001111'];
    for (const identifier of names) assert.equal(await admitted({ identifier, userId, ip: '10.0.0.1' }), true, identifier);
    // Each name has seen one attempt only; the account has seen three: its limit.
    for (const identifier of names) assert.deepEqual(await row(`id:${identifier}`), { failures: 1, locked: false });
    assert.deepEqual(await row(`user:${userId}`), { failures: 3, locked: true });
    // Refused on every name, a fresh one included, and from another address.
    assert.equal(await admitted({ identifier: 'a@example.com', userId, ip: '10.0.0.1' }), false);
    assert.equal(await admitted({ identifier: '15550001111', userId, ip: '10.0.0.2' }), false);
    // Refused attempts are not counted on the locked key.
    assert.equal((await row(`user:${userId}`))?.failures, 3);
    // Another account, and a name that reaches no account, are not affected.
    assert.equal(await admitted({ identifier: 'bob@example.com', userId: randomUUID(), ip: '10.0.0.1' }), true);
    assert.equal(await admitted({ identifier: 'nobody@example.com', ip: '10.0.0.1' }), true);
  });

  test('a name that reaches no account is counted by name and address only', async () => {
    const before = Number((await db.dataSource.query(`SELECT count(*) AS n FROM login_throttles WHERE key LIKE 'user:%'`))[0].n);
    for (let i = 0; i < 3; i++) assert.equal(await admitted({ identifier: 'ghost@example.com', ip: '10.0.0.3' }), true);
    assert.equal(await admitted({ identifier: 'ghost@example.com', ip: '10.0.0.3' }), false);
    assert.deepEqual(await row('id:ghost@example.com'), { failures: 3, locked: true });
    assert.equal((await row('ip:10.0.0.3'))?.failures, 4);
    const after = Number((await db.dataSource.query(`SELECT count(*) AS n FROM login_throttles WHERE key LIKE 'user:%'`))[0].n);
    assert.equal(after, before, 'no account key was made up');
  });

  test('a success lifts the name\'s and the account\'s counts and takes back the address\'s attempt', async () => {
    const userId = randomUUID();
    const ip = '10.0.0.4';
    assert.equal(await admitted({ identifier: 'carol', userId, ip }), true);
    assert.equal(await admitted({ identifier: 'carol@example.com', userId, ip }), true);
    assert.equal(await admitted({ identifier: 'carol', userId, ip }), true);
    await guard.succeeded({ identifier: 'carol', userId, ip });
    assert.deepEqual(await row(`user:${userId}`), { failures: 0, locked: false });
    assert.deepEqual(await row('id:carol'), { failures: 0, locked: false });
    // The other name keeps its own count (one attempt): a success by one name is not a success by it.
    assert.equal((await row('id:carol@example.com'))?.failures, 1);
    assert.equal((await row(`ip:${ip}`))?.failures, 2);
    // The account's count starts over: two more failures are admitted, the third locks.
    assert.equal(await admitted({ identifier: 'carol@example.com', userId, ip }), true);
    assert.equal(await admitted({ identifier: 'carol', userId, ip }), true);
    assert.equal(await admitted({ identifier: 'carol', userId, ip }), true);
    assert.equal(await admitted({ identifier: 'carol', userId, ip }), false);
  });

  test('30 parallel attempts spread over 5 names of one account: at most 3 admitted', async () => {
    const userId = randomUUID();
    const names = ['dave@example.com', 'dave', '+15550002222', '15550002222', 'd.ave'];
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      admitted({ identifier: names[i % names.length]!, userId, ip: `10.1.0.${i}` })));
    // At most the limit; fewer when an attempt refused by the account's lock has meanwhile
    // locked a name that a slower attempt (still creating its rows) then meets.
    const admittedCount = results.filter(Boolean).length;
    assert.ok(admittedCount >= 1 && admittedCount <= 3, results.join(','));
    assert.deepEqual(await row(`user:${userId}`), { failures: 3, locked: true });
  });

  test('the lock is the base time at the limit and doubles with each attempt after it expires', async () => {
    const userId = randomUUID();
    const lockSeconds = async () => Number((await db.dataSource.query(
      'SELECT extract(epoch FROM locked_until - now()) AS s FROM login_throttles WHERE key = $1', [`user:${userId}`]))[0].s);
    for (let i = 0; i < 3; i++) assert.equal(await admitted({ identifier: `erin${i}`, userId, ip: '10.0.0.5' }), true);
    const first = await lockSeconds();
    assert.ok(first > 0 && first <= 1, `first lock ${first} s`);
    await sleep(1100);
    // The 4th failure is admitted (the lock is over) and locks for twice the base.
    assert.equal(await admitted({ identifier: 'erin3', userId, ip: '10.0.0.5' }), true);
    const second = await lockSeconds();
    assert.ok(second > 1 && second <= 2, `second lock ${second} s`);
    assert.equal(await admitted({ identifier: 'erin4', userId, ip: '10.0.0.5' }), false);
  });
});
