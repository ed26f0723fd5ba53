// The embedded database's first start copies a prepared, migrated data dir instead of running
// initdb and every migration. That must make no difference to what the server finds, and must
// never touch a data dir that already holds a database.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { openDatabase, type Database } from '../../src/db/data-source.js';
import { preparedTemplate } from '../../src/db/embedded-template.js';
import { migrations } from '../../src/db/migrations/index.js';

/** Everything the migrations define, in a stable order: what two databases must agree on. */
const SCHEMA = `
  SELECT 'column' AS kind, table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS def
    FROM information_schema.columns WHERE table_schema = 'public'
  UNION ALL SELECT 'index', indexdef FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL SELECT 'constraint', conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL SELECT 'trigger', tgrelid::regclass || ' ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL SELECT 'function', p.oid::regprocedure || ' ' || md5(prosrc) FROM pg_proc p WHERE pronamespace = 'public'::regnamespace
  UNION ALL SELECT 'type', typname FROM pg_type WHERE typnamespace = 'public'::regnamespace
  UNION ALL SELECT 'extension', extname || ' ' || extversion FROM pg_extension
  UNION ALL SELECT 'database', pg_encoding_to_char(encoding) || ' ' || datcollate || ' ' || datctype FROM pg_database WHERE datname = current_database()
  ORDER BY 1, 2`;

interface Snapshot {
  schema: { kind: string; def: string }[];
  migrations: string[];
  mfaPolicy: unknown[];
}

async function snapshot(db: Database): Promise<Snapshot> {
  const ds = db.dataSource;
  return {
    schema: await ds.query(SCHEMA),
    migrations: ((await ds.query('SELECT name FROM migrations ORDER BY id')) as { name: string }[]).map((m) => m.name),
    // The one row a migration inserts, less when it was inserted: from a template, that is when
    // the template was built (README says so).
    mfaPolicy: await ds.query('SELECT required_for_all, required_for_admins, required_roles FROM mfa_policy'),
  };
}

/** Opens `dataDir` and reports how the database came to be (the 'embedded database started' line). */
async function open(dataDir: string, template?: false): Promise<{ db: Database; from: string }> {
  let from = '';
  const log = {
    info(obj: object | string) {
      if (typeof obj === 'object' && 'from' in obj) from = String(obj.from);
    },
    warn() {},
  };
  const db = await openDatabase({ kind: 'embedded', dataDir, ...(template === false && { template }) }, log);
  return { db, from };
}

describe('the prepared template of the embedded database', { timeout: 240_000 }, () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'sso-template-test-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('gives a first start the same schema and migrations as a fresh initdb', async () => {
    const fresh = await open(join(root, 'fresh'), false);
    let expected: Snapshot;
    try {
      assert.equal(fresh.from, 'initdb');
      expected = await snapshot(fresh.db);
    } finally {
      await fresh.db.close();
    }
    const copied = await open(join(root, 'copied'));
    try {
      assert.equal(copied.from, 'template');
      assert.deepEqual(await snapshot(copied.db), expected);
      assert.equal(expected.migrations.length, migrations.length);
      assert.ok(expected.schema.length > 100, 'the schema was compared');
    } finally {
      await copied.db.close();
    }
  });

  it('never replaces a data dir that already holds a database', async () => {
    const dataDir = join(root, 'kept');
    const first = await open(dataDir);
    try {
      await first.db.dataSource.query(`INSERT INTO users (scopes) VALUES ('{kept}')`);
    } finally {
      await first.db.close();
    }
    const second = await open(dataDir);
    try {
      assert.equal(second.from, 'existing');
      const rows = await second.db.dataSource.query(`SELECT count(*)::int AS n FROM users WHERE scopes = '{kept}'`);
      assert.deepEqual(rows, [{ n: 1 }]);
    } finally {
      await second.db.close();
    }
  });

  it('copies again over a copy that was cut short (PG_VERSION comes last)', async () => {
    const template = await preparedTemplate(() => {});
    assert.ok(template, 'the template was prepared');
    const dataDir = join(root, 'cut');
    // Everything but PG_VERSION, and the control file truncated: what a crash mid-copy leaves.
    await cp(template, dataDir, { recursive: true, filter: (src) => !src.endsWith('PG_VERSION') });
    await writeFile(join(dataDir, 'global', 'pg_control'), '');
    assert.ok(!existsSync(join(dataDir, 'PG_VERSION')));
    const { db, from } = await open(dataDir);
    try {
      assert.equal(from, 'template');
      const [{ n }] = await db.dataSource.query('SELECT count(*)::int AS n FROM migrations');
      assert.equal(n, migrations.length);
      assert.ok((await readdir(dataDir)).includes('PG_VERSION'));
    } finally {
      await db.close();
    }
  });
});
