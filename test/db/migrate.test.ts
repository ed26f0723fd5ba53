import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import pg from 'pg';
import { DataSource } from 'typeorm';

import { openDatabase } from '../../src/db/data-source.js';
import { MIGRATION_LOCK_KEY, runMigrations } from '../../src/db/migrate.js';
import { migrations } from '../../src/db/migrations/index.js';
import { createTestDatabaseConfig, migratedTemplate } from '../support/database.js';

const postgresUrl = process.env.TEST_DATABASE_URL;

// PostgreSQL-only behaviour: registered in the PostgreSQL pass of the suite (CI runs both passes).
const describeOnPostgres = postgresUrl ? describe : ((() => undefined) as unknown as typeof describe);

describeOnPostgres('runMigrations on PostgreSQL', { timeout: 120_000 }, () => {
  it('lets servers starting together take turns: each migration is applied once', async () => {
    const test = await createTestDatabaseConfig();
    assert.equal(test.config.kind, 'postgres');
    const schema = test.config.kind === 'postgres' ? test.config.schema! : '';
    const sources = [0, 1, 2].map(
      () =>
        new DataSource({
          type: 'postgres',
          url: postgresUrl!,
          extra: { options: `-c search_path=${schema}` },
          migrations,
          logging: false,
          poolSize: 2,
        }),
    );
    try {
      await Promise.all(sources.map((ds) => ds.initialize()));
      const results = await Promise.all(sources.map((ds) => runMigrations(ds)));
      // Exactly one run applied everything; the others waited for the lock and found nothing to do.
      assert.deepEqual(results.flat().sort(), migrations.map((m) => m.name).sort());
      assert.equal(results.filter((r) => r.length > 0).length, 1);
      const rows: { name: string; n: number }[] = await sources[0]!.query(
        `SELECT name, count(*)::int AS n FROM migrations GROUP BY name ORDER BY min(id)`,
      );
      assert.deepEqual(
        rows,
        migrations.map((m) => ({ name: m.name, n: 1 })),
      );
    } finally {
      await Promise.all(sources.map((ds) => (ds.isInitialized ? ds.destroy() : undefined)));
      await test.cleanup();
    }
  });

  it('opens two databases on one schema at once, and releases the lock afterwards', async () => {
    const test = await createTestDatabaseConfig();
    try {
      const [a, b] = await Promise.all([openDatabase(test.config), openDatabase(test.config)]);
      try {
        const [{ n }] = await a.dataSource.query(`SELECT count(*)::int AS n FROM migrations`);
        assert.equal(n, migrations.length);
        await b.dataSource.query('INSERT INTO users DEFAULT VALUES');
        const [{ users }] = await a.dataSource.query('SELECT count(*)::int AS users FROM users');
        assert.equal(users, 1);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      try {
        const { rows } = await client.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK_KEY]);
        assert.equal(rows[0].locked, true);
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      } finally {
        await client.end();
      }
    } finally {
      await test.cleanup();
    }
  });
});

describe('embedded database in a data dir', { timeout: 120_000 }, () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sso-db-test-'));
    dirs.push(dir);
    return dir;
  };
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('keeps its data across a restart and migrates only once', async () => {
    const dataDir = join(await tempDir(), 'nested', 'db');
    const first = await openDatabase({ kind: 'embedded', dataDir, template: await migratedTemplate() });
    let number: number;
    try {
      assert.equal(first.describe, `embedded (${dataDir})`);
      [{ number }] = await first.dataSource.query('INSERT INTO users (scopes) VALUES ($1) RETURNING number', [['read:users']]);
      assert.ok(existsSync(join(dataDir, 'PG_VERSION')));
    } finally {
      await first.close();
    }
    assert.ok(!existsSync(join(dataDir, 'sso-embedded.pid')), 'close() removes the pid file');

    // The template is ignored now that the directory holds a database.
    const second = await openDatabase({ kind: 'embedded', dataDir, template: await migratedTemplate() });
    try {
      const users: { number: number; scopes: string[] }[] = await second.dataSource.query('SELECT number, scopes FROM users');
      assert.deepEqual(
        users.map((u) => [u.number, u.scopes]),
        [[number, ['read:users']]],
      );
      const [{ n }] = await second.dataSource.query(`SELECT count(*)::int AS n FROM migrations`);
      assert.equal(n, migrations.length);
      assert.deepEqual(await runMigrations(second.dataSource), []);
      const [next] = await second.dataSource.query('INSERT INTO users DEFAULT VALUES RETURNING number');
      assert.ok(next.number > number);
    } finally {
      await second.close();
    }
  });

  it('refuses a second open of the same data dir in one process', async () => {
    const dataDir = await tempDir();
    const template = await migratedTemplate();
    const opening = openDatabase({ kind: 'embedded', dataDir, template });
    await assert.rejects(openDatabase({ kind: 'embedded', dataDir, template }), /already open in this process/);
    const db = await opening;
    await assert.rejects(openDatabase({ kind: 'embedded', dataDir }), /already open in this process/);
    await db.close();
    // Once closed it can be opened again.
    await (await openDatabase({ kind: 'embedded', dataDir })).close();
  });

  it('refuses a data dir held by another live process and takes over a stale one', async () => {
    const dataDir = await tempDir();
    const pidFile = join(dataDir, 'sso-embedded.pid');
    await writeFile(pidFile, `${process.ppid}\n`); // alive, and not us
    await assert.rejects(
      openDatabase({ kind: 'embedded', dataDir, template: await migratedTemplate() }),
      new RegExp(`in use by process ${process.ppid}`),
    );
    assert.equal(await readFile(pidFile, 'utf8'), `${process.ppid}\n`, 'the holder keeps its pid file');

    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.once('exit', r));
    await writeFile(pidFile, `${dead.pid}\n`);
    const db = await openDatabase({ kind: 'embedded', dataDir, template: await migratedTemplate() });
    try {
      assert.equal(await readFile(pidFile, 'utf8'), `${process.pid}\n`);
    } finally {
      await db.close();
    }
  });
});

describe('close()', { timeout: 120_000 }, () => {
  it('leaves nothing that keeps the process alive', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/open-close.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (c, s) => r([c, s])));
    clearTimeout(timer);
    assert.equal(signal, null, `the child did not exit by itself within 60 s:\n${output}`);
    assert.equal(code, 0, output);
    assert.match(output, /closed\n/);
  });
});
