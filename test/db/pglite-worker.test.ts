/**
 * The embedded database runs in a thread of its own (src/db/pglite-worker.ts): `npm start` starts
 * it before loading the server (embedded-prestart.ts) and openDatabase takes it over; its loss is
 * reported; a normal close is not a loss.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';

import pg from 'pg';

import { openDatabase } from '../../src/db/data-source.js';
import { prestartEmbedded, takePrestarted } from '../../src/db/embedded-prestart.js';
import { PgliteWorker } from '../../src/db/pglite-worker-host.js';
import { migratedTemplate } from '../support/database.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sso-pglite-worker-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** openDatabase's log lines, as the server's logger would get them. */
function recordingLog() {
  const lines: { obj: object | string; msg?: string }[] = [];
  const record = (obj: object | string, msg?: string) => void lines.push({ obj, msg });
  return {
    log: { info: record, warn: record },
    started: () => lines.find((l) => l.msg === 'embedded database started')?.obj as Record<string, unknown>,
  };
}

const lockFile = (dataDir: string) => join(dataDir, 'sso-embedded.pid');

/** Prestarts the thread on `dataDir` and waits until it has taken the lock on its own, before anything asked it to serve. */
async function prestartAndWaitForLock(dataDir: string): Promise<void> {
  prestartEmbedded(dataDir);
  await until(() => existsSync(lockFile(dataDir)), 'the prestarted thread locks its data dir');
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600 && !condition(); i++) await sleep(50);
  assert.ok(condition(), what);
}

describe('the embedded database in its own thread', () => {
  it('is opened before the server asks for it, and taken over by openDatabase on the same data dir', async () => {
    const dataDir = join(await tempDir(), 'db');
    await prestartAndWaitForLock(dataDir);
    const { log, started } = recordingLog();
    const db = await openDatabase({ kind: 'embedded', dataDir }, log);
    try {
      assert.equal(takePrestarted(), undefined, 'taken once');
      assert.equal(started()?.prestarted, true, JSON.stringify(started()));
      await db.dataSource.query("INSERT INTO users (scopes) VALUES ('{kept}')");
    } finally {
      await db.close();
    }
    assert.ok(!existsSync(lockFile(dataDir)), 'close() releases the lock');

    // Closed cleanly: a new thread on the same files finds what was written.
    const again = recordingLog();
    const reopened = await openDatabase({ kind: 'embedded', dataDir }, again.log);
    try {
      assert.equal(again.started()?.prestarted, false);
      assert.equal(again.started()?.from, 'existing');
      const rows: { scopes: string[] }[] = await reopened.dataSource.query("SELECT scopes FROM users WHERE 'kept' = ANY (scopes)");
      assert.equal(rows.length, 1);
    } finally {
      await reopened.close();
    }
  });

  it('closes a prestarted thread for another data dir, releasing its lock, and opens the one asked for', async () => {
    const other = join(await tempDir(), 'db');
    const dataDir = join(await tempDir(), 'db');
    await prestartAndWaitForLock(other);
    const { log, started } = recordingLog();
    const db = await openDatabase({ kind: 'embedded', dataDir }, log);
    try {
      assert.equal(started()?.prestarted, false);
      assert.ok(!existsSync(lockFile(other)), "the other data dir's lock is released");
      assert.ok(existsSync(lockFile(dataDir)));
      assert.equal(takePrestarted(), undefined);
    } finally {
      await db.close();
    }
  });

  it('reports its loss when the thread ends unasked, and not when it is closed', async () => {
    const socketDir = await tempDir();
    const socketPath = join(socketDir, '.s.PGSQL.5432');
    const database = new PgliteWorker({ template: await migratedTemplate() });
    let lost: Error | undefined;
    void database.lost.then((error) => (lost = error));
    const serving = await database.serve(socketPath, 4);
    assert.equal(serving.from, 'dump');
    const client = new pg.Client({ host: socketDir, port: 5432, user: 'postgres', database: 'postgres' });
    client.on('error', () => {});
    await client.connect();
    const { rows } = await client.query('SELECT count(*)::int AS n FROM migrations');
    assert.ok(rows[0].n > 0);

    // As an uncaught error in the thread would end it.
    await (database as unknown as { worker: Worker }).worker.terminate();
    await until(() => lost !== undefined, 'the loss is reported');
    assert.match(lost!.message, /thread exited/);
    await assert.rejects(client.query('SELECT 1'));
    await assert.rejects(database.serve(socketPath, 4), /thread exited/);
    await database.close(); // nothing left to close, and no error for it
    await client.end().catch(() => {});

    const closed = new PgliteWorker({ template: await migratedTemplate() });
    let closedLost = false;
    void closed.lost.then(() => (closedLost = true));
    await closed.serve(join(await tempDir(), '.s.PGSQL.5432'), 4);
    await closed.close();
    await sleep(100);
    assert.equal(closedLost, false, 'a closed thread is not lost');
  });
});
