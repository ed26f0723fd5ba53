import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { openDatabase, type Database } from '../../src/db/data-source.js';
import { AuditLog, type AuditEntry } from '../../src/domain/audit.js';
import { createTestDatabaseConfig, type TestDatabase } from '../support/database.js';

// Audit events are written by group commit (src/domain/audit.ts). Proven on the real database:
// rows written by one statement share its transaction id (xmin), so counting distinct xmin over a
// test's rows counts the statements that wrote them.

const silent = pino({ level: 'silent' });

async function statementsAndRows(db: Database, actorId: string): Promise<{ statements: number; rows: number }> {
  const [row] = await db.dataSource.query(
    'SELECT count(DISTINCT xmin::text)::int AS statements, count(*)::int AS rows FROM audit_events WHERE actor_id = $1',
    [actorId],
  );
  return row;
}

const event = (actorId: string, n: number): AuditEntry => ({
  type: 'audit.test',
  outcome: 'success',
  actorId,
  identifier: `event-${n}`,
  ip: '192.0.2.1',
});

describe('audit log: batched writes', () => {
  let testDb: TestDatabase;
  let db: Database;
  before(async () => {
    testDb = await createTestDatabaseConfig();
    db = await openDatabase(testDb.config);
  });
  after(async () => {
    await db.close();
    await testDb.cleanup();
  });

  test('concurrent records share statements; one awaited at a time gets one each', async () => {
    const audit = new AuditLog(db.dataSource, silent);
    const concurrent = randomUUID();
    await Promise.all(Array.from({ length: 200 }, (_, i) => audit.record(event(concurrent, i))));
    // Queued in one turn of the event loop: one statement.
    assert.deepEqual(await statementsAndRows(db, concurrent), { statements: 1, rows: 200 });

    const bounded = new AuditLog(db.dataSource, silent, undefined, { maxBatch: 50 });
    const inBatches = randomUUID();
    await Promise.all(Array.from({ length: 200 }, (_, i) => bounded.record(event(inBatches, i))));
    // At most maxBatch per statement.
    assert.deepEqual(await statementsAndRows(db, inBatches), { statements: 4, rows: 200 });

    const sequential = randomUUID();
    for (let i = 0; i < 5; i++) await audit.record(event(sequential, i));
    assert.deepEqual(await statementsAndRows(db, sequential), { statements: 5, rows: 5 });
  });

  test('events are listed in the order they were recorded, within and across batches', async () => {
    const audit = new AuditLog(db.dataSource, silent, undefined, { maxBatch: 7 });
    const actorId = randomUUID();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      pending.push(audit.record(event(actorId, i)));
      if (i % 25 === 24) await new Promise((r) => setImmediate(r));
    }
    // Not awaited: listing flushes first, so this instance reads what it recorded.
    const { items, total } = await audit.list({ actorId }, { offset: 0, limit: 100 });
    assert.equal(total, 60);
    assert.deepEqual(
      items.map((e) => e.identifier),
      Array.from({ length: 60 }, (_, i) => `event-${59 - i}`),
      'newest first, exactly the recording order reversed',
    );
    await Promise.all(pending);
  });

  test('one event the database refuses is logged; the rest of its batch is written', async () => {
    const lines: { msg: string; event?: AuditEntry }[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const audit = new AuditLog(db.dataSource, log);
    const actorId = randomUUID();
    await Promise.all([
      audit.record(event(actorId, 1)),
      audit.record({ ...event(actorId, 2), actorId: 'not-a-uuid' }),
      audit.record(event(actorId, 3)),
    ]);
    assert.deepEqual(await statementsAndRows(db, actorId), { statements: 2, rows: 2 });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.msg, 'audit event not recorded');
    assert.equal(lines[0]!.event?.actorId, 'not-a-uuid');
  });
});
