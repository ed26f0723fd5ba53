import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type DatabaseConfig } from '../../src/db/data-source.js';
import { startApp } from '../../src/server/app.js';
import { createTestDatabaseConfig, type TestDatabase } from '../support/database.js';

// Audit events are written by group commit (src/domain/audit.ts), and a client_credentials grant
// answers before its event is written: the server's close must write what is still queued.

describe('audit log: a graceful stop writes what is queued', () => {
  let testDb: TestDatabase;
  let dataDir: string;
  let database: DatabaseConfig;
  before(async () => {
    testDb = await createTestDatabaseConfig();
    dataDir = mkdtempSync(join(tmpdir(), 'sso-audit-test-'));
    // On disk for the embedded database, so it can be opened again after the server stopped.
    database = testDb.config.kind === 'embedded' ? { ...testDb.config, dataDir: join(dataDir, 'db') } : testDb.config;
  });
  after(async () => {
    await testDb.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('client_credentials answers before its event is written; close() writes every one', async () => {
    const config = {
      ...loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' }),
      dataDir,
      bcryptCost: 4,
      keySecret: 'test-secret-test-secret-test-secret-0123456789',
      shutdownGrace: 1,
    };
    const app = await startApp(config, { database });
    const clientId = randomUUID();
    // Hold every audit write: a transaction locks the table (on the embedded database an open
    // transaction holds its one session), so events can only queue.
    const holder = app.database.dataSource.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    await holder.query('LOCK TABLE audit_events IN EXCLUSIVE MODE');
    let closing: Promise<void> | undefined;
    try {
      // A malformed secret is refused without a database read: the answers need nothing the lock holds.
      for (let i = 0; i < 30; i++) {
        const res = await fetch(`${app.url}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: `wrong-${i}` }),
        });
        assert.equal(res.status, 401);
      }
      closing = app.close();
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      // (Had the close not waited for the queue, it would have ended this connection already.)
      await holder.commitTransaction().catch(() => {});
      await holder.release().catch(() => {});
    }
    await closing;

    const reopened = await openDatabase(database);
    try {
      const rows: { type: string; outcome: string; reason: string }[] = await reopened.dataSource.query(
        `SELECT type, outcome, detail->>'reason' AS reason FROM audit_events WHERE actor_id = $1 ORDER BY occurred_at, id`,
        [clientId],
      );
      assert.equal(rows.length, 30, 'no event lost');
      for (const row of rows) assert.deepEqual(row, { type: 'client_credentials', outcome: 'failure', reason: 'INVALID_CLIENT' });
    } finally {
      await reopened.close();
    }
  });
});
