import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../../src/db/data-source.js';
import { one, run, uniqueViolation } from '../../src/db/repositories/sql.js';
import { isRefusedValue } from '../../src/errors/database-input.js';
import { openTestDatabase } from '../support/database.js';

// Statements outside a transaction go straight to pg's pool (src/db/repositories/sql.ts), named
// ones prepared per connection on PostgreSQL only. They must answer and fail exactly as the
// TypeORM path did: each caller its own rows, counts for writes, SQLSTATEs for the error mapping.

let db: Database;

before(async () => {
  db = await openTestDatabase();
  await db.dataSource.query('CREATE TABLE direct_pool_probe (id int PRIMARY KEY, v text)');
});

after(() => db.close());

test('concurrent named statements each get their own answer', async () => {
  const answers = await Promise.all(
    Array.from({ length: 300 }, (_, i) =>
      one<{ n: number; s: string }>(db.dataSource, 'SELECT $1::int AS n, $2::text AS s', [i, `v${i}`], 'direct_pool_probe_select'),
    ),
  );
  answers.forEach((a, i) => assert.deepEqual(a, { n: i, s: `v${i}` }));
  // The same name with other statements interleaved (unnamed, another name) on the same pool.
  const mixed = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      i % 3 === 0
        ? one<{ n: number }>(db.dataSource, 'SELECT $1::int AS n', [i])
        : one<{ n: number; s: string }>(db.dataSource, 'SELECT $1::int AS n, $2::text AS s', [i, 'x'], 'direct_pool_probe_select'),
    ),
  );
  mixed.forEach((a, i) => assert.equal(a?.n, i));
});

test('writes report their row counts', async () => {
  assert.equal((await run(db.dataSource, 'INSERT INTO direct_pool_probe (id, v) VALUES (1, $1), (2, $1)', ['a'])).count, 2);
  assert.equal((await run(db.dataSource, 'UPDATE direct_pool_probe SET v = $1 WHERE id > 0', ['b'], 'direct_pool_probe_update')).count, 2);
  assert.equal((await run(db.dataSource, 'UPDATE direct_pool_probe SET v = $1 WHERE id > 0', ['c'], 'direct_pool_probe_update')).count, 2);
  assert.equal((await run(db.dataSource, 'DELETE FROM direct_pool_probe WHERE id = 99')).count, 0);
});

test('errors keep the SQLSTATE the error mapping reads', async () => {
  await assert.rejects(
    run(db.dataSource, 'INSERT INTO direct_pool_probe (id, v) VALUES (1, $1)', ['dup']),
    (e) => uniqueViolation(e) === 'direct_pool_probe_pkey',
  );
  await assert.rejects(run(db.dataSource, 'SELECT $1::int', ['not a number'], 'direct_pool_probe_cast'), (e) => isRefusedValue(e));
  // A failed named statement leaves its connection usable.
  assert.deepEqual(await one(db.dataSource, 'SELECT $1::int AS n', [5], 'direct_pool_probe_cast_ok'), { n: 5 });
});

test('inside a transaction the statement runs on the transaction', async () => {
  await assert.rejects(
    db.dataSource.transaction(async (tx) => {
      await run(tx, 'INSERT INTO direct_pool_probe (id, v) VALUES (3, $1)', ['tx']);
      throw new Error('roll back');
    }),
  );
  assert.equal(await one(db.dataSource, 'SELECT v FROM direct_pool_probe WHERE id = 3'), undefined);
});

test('a named statement inside a transaction runs on the transaction, and fails as an unnamed one does', async () => {
  await assert.rejects(
    db.dataSource.transaction(async (tx) => {
      await run(tx, 'INSERT INTO direct_pool_probe (id, v) VALUES ($1, $2)', [4, 'tx'], 'direct_pool_probe_insert');
      // Seen by the transaction's next statement, named or not: the same connection.
      assert.deepEqual(await one(tx, 'SELECT v FROM direct_pool_probe WHERE id = $1', [4], 'direct_pool_probe_by_id'), { v: 'tx' });
      assert.deepEqual(await one(tx, 'SELECT v FROM direct_pool_probe WHERE id = $1', [4]), { v: 'tx' });
      // Prepared on the transaction's connection: parsed once, not per call.
      const held = await one<{ n: number }>(
        tx,
        `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = 'direct_pool_probe_insert'`,
      );
      assert.equal(held?.n, 1);
      throw new Error('roll back');
    }),
    /roll back/,
  );
  assert.equal(await one(db.dataSource, 'SELECT v FROM direct_pool_probe WHERE id = $1', [4], 'direct_pool_probe_by_id'), undefined);
  // Kept once the transaction commits. (Whether another connection sees it before is PostgreSQL's
  // isolation, and the embedded database runs one transaction at a time: not asked here.)
  await db.dataSource.transaction(async (tx) => {
    await run(tx, 'INSERT INTO direct_pool_probe (id, v) VALUES ($1, $2)', [5, 'later'], 'direct_pool_probe_insert');
  });
  assert.deepEqual(await one(db.dataSource, 'SELECT v FROM direct_pool_probe WHERE id = $1', [5], 'direct_pool_probe_by_id'), {
    v: 'later',
  });
  // A unique violation inside a transaction keeps its constraint name, and rolls the transaction back.
  await assert.rejects(
    db.dataSource.transaction(async (tx) => {
      await run(tx, 'INSERT INTO direct_pool_probe (id, v) VALUES ($1, $2)', [6, 'first'], 'direct_pool_probe_insert');
      await run(tx, 'INSERT INTO direct_pool_probe (id, v) VALUES ($1, $2)', [5, 'dup'], 'direct_pool_probe_insert');
    }),
    (e) => uniqueViolation(e) === 'direct_pool_probe_pkey',
  );
  assert.equal(await one(db.dataSource, 'SELECT v FROM direct_pool_probe WHERE id = $1', [6]), undefined);
});
