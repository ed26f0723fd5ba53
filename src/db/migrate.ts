import type { DataSource } from 'typeorm';

/**
 * Key of the session-level advisory lock that serializes migrations. Any fixed bigint works; this
 * one is 'sso-migr' read as ASCII, so it is unlikely to collide with another application's lock.
 */
export const MIGRATION_LOCK_KEY = '8319115177583273842';

/**
 * Applies pending migrations, each in its own transaction, while holding a PostgreSQL advisory
 * lock, so servers starting together on one database take turns: the first applies, the others
 * wait and then find nothing to do. Returns the names of the migrations this call applied.
 *
 * Needs a pool of at least two connections: one holds the lock, TypeORM runs on another.
 */
export async function runMigrations(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner('master');
  await runner.connect();
  let broken: unknown;
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      try {
        await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      } catch (error) {
        broken = error;
      }
    }
  } finally {
    if (broken !== undefined) {
      // A session lock we could not release must not go back to the pool with its connection:
      // releasing with an error makes pg discard the connection, which ends the session and the lock.
      await (runner as unknown as { releasePostgresConnection(e: unknown): Promise<void> }).releasePostgresConnection(broken);
    } else {
      await runner.release();
    }
  }
}
