import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

import { openDatabase, type Database, type DatabaseConfig } from '../../src/db/data-source.js';
import { templateKey } from '../../src/db/embedded-template.js';

export interface TestDatabase {
  config: DatabaseConfig;
  /** Drops what this call created (the PostgreSQL schema); nothing to do for in-memory PGlite. */
  cleanup(): Promise<void>;
  kind: 'postgres' | 'embedded';
}

/**
 * A fresh, empty database for one test (suite).
 *
 * - `TEST_DATABASE_URL` set: a new schema `t_<random>` on that PostgreSQL database; the config
 *   points search_path at it and cleanup() drops it. (DATABASE_URL is never read: it may point at
 *   real data.)
 * - Otherwise: an in-memory PGlite started from a migrated template, which takes a fraction of
 *   the time of a fresh PGlite (initdb). The template's dump is made once per machine and cached in
 *   os.tmpdir() under the prepared template's key (a hash of the migrations' source and the PGlite version).
 */
export async function createTestDatabaseConfig(): Promise<TestDatabase> {
  const url = process.env.TEST_DATABASE_URL;
  if (url) return createPostgresSchema(url);
  return {
    kind: 'embedded',
    config: { kind: 'embedded', template: await migratedTemplate() },
    cleanup: async () => {},
  };
}

/** A fresh database (createTestDatabaseConfig), opened and migrated; close() closes it and drops it. */
export async function openTestDatabase(): Promise<Database> {
  const testDb = await createTestDatabaseConfig();
  const db = await openDatabase(testDb.config);
  return {
    ...db,
    close: async () => {
      await db.close();
      await testDb.cleanup();
    },
  };
}

async function createPostgresSchema(url: string): Promise<TestDatabase> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  await withClient(url, (client) => client.query(`CREATE SCHEMA ${schema}`));
  return {
    kind: 'postgres',
    config: { kind: 'postgres', url, schema },
    cleanup: () => withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)),
  };
}

async function withClient(url: string, use: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await use(client);
  } finally {
    await client.end();
  }
}

let template: Promise<Blob> | undefined;

/** The migrated template for this process: from memory, else from the tmpdir cache, else built. */
export function migratedTemplate(): Promise<Blob> {
  template ??= loadOrBuildTemplate().catch((error: unknown) => {
    template = undefined;
    throw error;
  });
  return template;
}

// An uncompressed tar loads ~0.2 s faster than a gzipped one (0.3 s against 0.5 s), so memory
// holds the tar (~40 MB) and only the file on disk (~5 MB) is gzipped.
const TAR = 'application/x-tar';

async function loadOrBuildTemplate(): Promise<Blob> {
  const file = join(tmpdir(), `sso-pglite-template-${templateKey()}.tar.gz`);
  try {
    return new Blob([gunzipSync(await readFile(file))], { type: TAR });
  } catch (error) {
    // A missing file is the normal first run; a truncated or corrupt one is rebuilt and replaced.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && !isZlibError(error)) throw error;
  }
  const tar = await buildTemplate();
  // Test files run in parallel processes: write aside and rename, so nobody reads half a file.
  const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(partial, gzipSync(tar));
  await rename(partial, file);
  return new Blob([tar], { type: TAR });
}

function isZlibError(error: unknown): boolean {
  return (
    typeof (error as { errno?: unknown })?.errno === 'number' &&
    'code' in (error as object) &&
    String((error as { code: unknown }).code).startsWith('Z_')
  );
}

/**
 * Opens a fresh data dir through openDatabase (the same path the server takes: it starts from the
 * prepared template in node_modules/.cache, else runs initdb and migrates), then dumps it.
 * openDatabase's close() also closes PGlite, so the database lives in a temporary data dir that
 * is reopened for the dump.
 */
async function buildTemplate(): Promise<Uint8Array<ArrayBuffer>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sso-pglite-template-'));
  try {
    const db = await openDatabase({ kind: 'embedded', dataDir });
    await db.close();
    const pglite = await PGlite.create({ dataDir });
    try {
      const dump = await pglite.dumpDataDir('none');
      return new Uint8Array(await dump.arrayBuffer());
    } finally {
      await pglite.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
