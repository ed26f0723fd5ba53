import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../../src/db/data-source.js';
import { listUserViews } from '../../src/db/repositories/directory-users.js';
import { openTestDatabase } from '../support/database.js';

// Migration 0013 keeps the number of users in one row (user_count), so an unfiltered user list's
// total need not read every user. It must equal count(*) whatever writes the users: one row or
// many in a statement, deletes, a rolled-back transaction, TRUNCATE, writers in parallel.

let db: Database;

before(async () => {
  db = await openTestDatabase();
});

after(() => db.close());

async function counts(): Promise<{ kept: number; actual: number }> {
  const [row] = await db.dataSource.query('SELECT (SELECT n::int FROM user_count) AS kept, (SELECT count(*)::int FROM users) AS actual');
  return row;
}

async function assertExact(expected: number): Promise<void> {
  assert.deepEqual(await counts(), { kept: expected, actual: expected });
  // What the unfiltered list answers, and a filtered one (counted) agrees with it.
  assert.equal((await listUserViews(db.dataSource, {}, { offset: 0, limit: 1 })).total, expected);
  assert.equal((await listUserViews(db.dataSource, { isActive: true }, { offset: 0, limit: 1 })).total, expected);
}

test('the kept count follows inserts of one and of many users, and deletes', async () => {
  const start = (await counts()).actual;
  await assertExact(start);
  await db.dataSource.query('INSERT INTO users DEFAULT VALUES');
  await assertExact(start + 1);
  await db.dataSource.query('INSERT INTO users (scopes) SELECT $1::text[] FROM generate_series(1, 250)', [[]]);
  await assertExact(start + 251);
  await db.dataSource.query(`DELETE FROM users WHERE id IN (SELECT id FROM users ORDER BY number DESC LIMIT 100)`);
  await assertExact(start + 151);
  // A statement that deletes nothing changes nothing.
  await db.dataSource.query(`DELETE FROM users WHERE id = '00000000-0000-0000-0000-000000000000'`);
  await assertExact(start + 151);
});

test('a rolled-back insert leaves the count as it was', async () => {
  const before = (await counts()).actual;
  await assert.rejects(
    db.dataSource.transaction(async (tx) => {
      await tx.query('INSERT INTO users (scopes) SELECT $1::text[] FROM generate_series(1, 10)', [[]]);
      throw new Error('roll back');
    }),
    /roll back/,
  );
  await assertExact(before);
});

test('inserts from parallel transactions are all counted', async () => {
  const before = (await counts()).actual;
  await Promise.all(Array.from({ length: 20 }, () => db.dataSource.query('INSERT INTO users DEFAULT VALUES')));
  await assertExact(before + 20);
});

test('TRUNCATE resets it', async () => {
  await db.dataSource.query('TRUNCATE users CASCADE');
  await assertExact(0);
  await db.dataSource.query('INSERT INTO users DEFAULT VALUES');
  await assertExact(1);
});
