import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { DataSource } from 'typeorm';

import { takePrestarted } from './embedded-prestart.js';
import { runMigrations } from './migrate.js';
import { migrations } from './migrations/index.js';
import { PgliteWorker } from './pglite-worker-host.js';
import { useDirectPool } from './repositories/sql.js';

/**
 * Where the data lives. Both kinds go through TypeORM's ordinary `postgres` driver and `pg`, so
 * production and embedded share driver, SQL and migrations.
 */
export type DatabaseConfig =
  | {
      kind: 'postgres';
      url: string;
      /** Schema to work in (tests use one per run); it must exist. Sets search_path on every connection. */
      schema?: string;
      poolSize?: number;
    }
  | {
      kind: 'embedded';
      /** Directory of the PGlite data; undefined keeps everything in memory. */
      dataDir?: string;
      poolSize?: number;
      /**
       * What to start from when `dataDir` holds no database yet: a dumped data dir (PGlite
       * `dumpDataDir()`); by default the prepared template (src/db/embedded-template.ts) when
       * in a directory; false runs initdb.
       */
      template?: Blob | File | false;
      /** Connections the socket must also accept from this server's other processes (SSO_WORKERS: workers x pool). */
      sharedConnections?: number;
    }
  | {
      /** The embedded database another process of this server owns (and has migrated), reached over its socket. */
      kind: 'embedded-shared';
      /** The owner's `Database.socket`. */
      socket: EmbeddedSocket;
      poolSize?: number;
    };

/** Where pg reaches the embedded database: the Unix socket `${dir}/.s.PGSQL.${port}`, in a directory only this user can enter. */
export interface EmbeddedSocket {
  dir: string;
  port: number;
}

export interface Database {
  dataSource: DataSource;
  /** Stops everything this database started. Safe to call more than once. */
  close(): Promise<void>;
  /** For logs: 'embedded (./data/db)', 'embedded (in memory)' or the URL without its password. */
  describe: string;
  /** The embedded database's socket, for this server's other processes; undefined on PostgreSQL. */
  socket?: EmbeddedSocket;
  /**
   * The embedded database's thread ended without close() (an uncaught error in it): settles with
   * why. The server then stops (main.ts), as it would had PGlite failed in its own thread.
   * Undefined on PostgreSQL, whose loss is a connection error that calls report and pools recover from.
   */
  lost?: Promise<Error>;
}

export interface DatabaseLogger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
}

const DEFAULT_POOL_SIZE = 10;
/**
 * The socket server refuses connections past its limit by writing plain text, which `pg` cannot
 * parse. A closed pool connection leaves the server's count only a tick later, so keep headroom.
 */
const EMBEDDED_CONNECTION_HEADROOM = 4;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** Only names the socket file (`.s.PGSQL.5432`, as pg spells it); nothing listens on a port. */
const EMBEDDED_SOCKET_PORT = 5432;
/** A Unix socket path holds at most 107 bytes; a long TMPDIR falls back to /tmp. */
const MAX_SOCKET_PARENT_LENGTH = 60;

function socketParent(): string {
  const dir = tmpdir();
  return dir.length <= MAX_SOCKET_PARENT_LENGTH ? dir : '/tmp';
}

const silentLogger: DatabaseLogger = { info() {}, warn() {} };

/** Embedded data dirs open in this process: PGlite is one backend, a second one on the same files would corrupt them. */
const openDataDirs = new Set<string>();

/**
 * Opens the database, applies pending migrations (under an advisory lock) and returns it ready.
 * On failure everything already started is stopped again before the error is rethrown.
 */
export async function openDatabase(config: DatabaseConfig, log: DatabaseLogger = silentLogger): Promise<Database> {
  const poolSize = config.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isInteger(poolSize) || poolSize < 2) {
    // runMigrations holds the lock on one connection while TypeORM migrates on another.
    throw new Error(`database poolSize must be an integer >= 2, got ${poolSize}`);
  }
  if (config.kind === 'embedded') return openEmbedded(config, poolSize, log);
  if (config.kind === 'embedded-shared') return openEmbeddedShared(config, poolSize);
  return openPostgres(config, poolSize, log);
}

/**
 * A worker process's view of the embedded database: a pool on the owner's socket. The owner ran
 * the migrations before any worker started; named statements are shared by every connection of
 * every process, as in the owner (pglite-shared-statements.ts).
 */
async function openEmbeddedShared(config: Extract<DatabaseConfig, { kind: 'embedded-shared' }>, poolSize: number): Promise<Database> {
  const dataSource = new DataSource({ ...commonOptions(poolSize), ...socketOptions(config.socket) });
  await dataSource.initialize();
  useDirectPool(dataSource, true);
  let closing: Promise<void> | undefined;
  return { dataSource, describe: 'embedded (owned by the primary process)', close: () => (closing ??= dataSource.destroy()) };
}

/** pg takes a Unix socket as host = its directory, port = the number in its name; the rest is the embedded server's fixed login. */
function socketOptions(socket: EmbeddedSocket) {
  return { host: socket.dir, port: socket.port, username: 'postgres', database: 'postgres' };
}

async function openPostgres(
  config: Extract<DatabaseConfig, { kind: 'postgres' }>,
  poolSize: number,
  log: DatabaseLogger,
): Promise<Database> {
  const { schema } = config;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
  }
  const describe = describePostgresUrl(config.url) + (schema ? ` (schema ${schema})` : '');
  const dataSource = new DataSource({
    ...commonOptions(poolSize),
    url: config.url,
    // `options` is sent in the startup packet, so every pooled connection gets the search_path.
    extra: schema ? { options: `-c search_path=${schema}` } : {},
  });
  await dataSource.initialize();
  try {
    if (schema) {
      const [row] = (await dataSource.query('SELECT current_schema() AS schema')) as {
        schema: string | null;
      }[];
      if (row?.schema !== schema) throw new Error(`schema ${schema} does not exist in ${describe}`);
    }
    await migrate(dataSource, describe, log);
    useDirectPool(dataSource, true);
  } catch (error) {
    await dataSource.destroy().catch(() => {});
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    dataSource,
    describe,
    close: () => (closing ??= dataSource.destroy()),
  };
}

async function openEmbedded(
  config: Extract<DatabaseConfig, { kind: 'embedded' }>,
  poolSize: number,
  log: DatabaseLogger,
): Promise<Database> {
  const dataDir = config.dataDir === undefined ? undefined : resolve(config.dataDir);
  const describe = `embedded (${config.dataDir ?? 'in memory'})`;
  // Claimed synchronously, before any await, so two concurrent opens cannot both pass.
  if (dataDir !== undefined) {
    if (openDataDirs.has(dataDir)) {
      throw new Error(`the embedded database in ${dataDir} is already open in this process`);
    }
    openDataDirs.add(dataDir);
  }

  // Undo stack: whatever has been started is stopped, newest first, on failure or close().
  const stops: (() => Promise<void>)[] = [];
  if (dataDir !== undefined) stops.push(async () => void openDataDirs.delete(dataDir));
  const stopAll = async () => {
    let first: unknown;
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        first ??= error;
      }
    }
    if (first !== undefined) throw first;
  };

  try {
    // The database runs in a thread of its own (pglite-worker.ts): `npm start` started it while
    // the server loaded (embedded-prestart.ts); one for another data dir or start is closed.
    const prestarted = takePrestarted();
    const adopt = prestarted?.data.dataDir === dataDir && dataDir !== undefined && config.template === undefined;
    if (prestarted && !adopt) await prestarted.close();
    const socket: EmbeddedSocket = { dir: await mkdtemp(join(socketParent(), 'sso-db-')), port: EMBEDDED_SOCKET_PORT };
    stops.push(() => rm(socket.dir, { recursive: true, force: true }));
    const database = adopt
      ? prestarted!
      : new PgliteWorker({ dataDir, ...(config.template !== undefined && { template: config.template }) });
    stops.push(() => database.close());
    const maxConnections = poolSize + (config.sharedConnections ?? 0) + EMBEDDED_CONNECTION_HEADROOM;
    const { from, ms, warnings } = await database.serve(join(socket.dir, `.s.PGSQL.${socket.port}`), maxConnections);
    for (const { obj, msg } of warnings) log.warn(obj, msg);

    const dataSource = new DataSource({ ...commonOptions(poolSize), ...socketOptions(socket) });
    stops.push(async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
    });
    await dataSource.initialize();
    log.info({ database: describe, ms, from, prestarted: adopt }, 'embedded database started');

    await migrate(dataSource, describe, log);
    // Named statements too: one PGlite session behind every connection, and the session queue
    // lets them all use what one prepared (pglite-shared-statements.ts).
    useDirectPool(dataSource, true);

    let closing: Promise<void> | undefined;
    return { dataSource, describe, socket, lost: database.lost, close: () => (closing ??= stopAll()) };
  } catch (error) {
    await stopAll().catch(() => {});
    throw error;
  }
}

function commonOptions(poolSize: number) {
  return {
    type: 'postgres' as const,
    migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    poolSize,
    // The schema comes from migrations only; gen_random_uuid() is built in (PostgreSQL >= 13),
    // so TypeORM must not try to CREATE EXTENSION "uuid-ossp" (absent in PGlite).
    installExtensions: false,
    uuidExtension: 'pgcrypto' as const,
  };
}

async function migrate(dataSource: DataSource, describe: string, log: DatabaseLogger) {
  const started = Date.now();
  const applied = await runMigrations(dataSource);
  if (applied.length > 0) {
    log.info({ database: describe, applied, ms: Date.now() - started }, 'database migrated');
  }
}

/** 'postgresql://user@host:port/db' with the password (and any query string) left out. */
function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
    return `postgresql://${user}${u.host}${u.pathname}`;
  } catch {
    return 'postgresql';
  }
}
