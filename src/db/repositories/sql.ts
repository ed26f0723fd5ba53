import type { PoolClient } from 'pg';
import { DataSource, type EntityManager } from 'typeorm';

/** Either the pool or a transaction's manager: repositories run the same SQL on both. */
export type Db = DataSource | EntityManager;

/**
 * Runs one statement and returns its rows and affected count the same way for every statement
 * kind (TypeORM's plain `query` shapes UPDATE ... RETURNING differently from SELECT).
 */
export async function run<T = Record<string, unknown>>(
  db: Db,
  text: string,
  params: unknown[] = [],
  prepareAs?: string,
): Promise<{ rows: T[]; count: number }> {
  const pool = db instanceof DataSource ? pools.get(db) : undefined;
  if (pool) {
    // Outside a transaction a statement needs no query runner of its own: straight to pg's pool
    // (one checkout, no TypeORM runner, logger and broadcaster per call). The result is the same
    // shape TypeORM builds (records = rows, affected = rowCount); errors are pg's DatabaseError,
    // whose `code` every caller already reads.
    const named = prepareAs !== undefined && pool.prepare;
    const result = await pool.pg.query(named ? { name: prepareAs, text, values: params } : { text, values: params });
    return { rows: result.rows as T[], count: result.rowCount ?? result.rows.length };
  }
  const runner = db instanceof DataSource ? db.createQueryRunner() : db.queryRunner;
  if (!runner) throw new Error('entity manager without a query runner');
  if (prepareAs !== undefined && !(db instanceof DataSource) && pools.get(db.connection)?.prepare) {
    // A named statement of a hot path inside a transaction: on the transaction's own connection
    // (TypeORM's runner holds it), parsed and planned once per connection as outside one.
    const connection = (await runner.connect()) as PgPool;
    const result = await connection.query({ name: prepareAs, text, values: params });
    return { rows: result.rows as T[], count: result.rowCount ?? result.rows.length };
  }
  try {
    const result = await runner.query(text, params, true);
    return { rows: (result.records ?? []) as T[], count: result.affected ?? result.records?.length ?? 0 };
  } finally {
    if (db instanceof DataSource) await runner.release();
  }
}

export async function rows<T = Record<string, unknown>>(db: Db, text: string, params: unknown[] = [], prepareAs?: string): Promise<T[]> {
  return (await run<T>(db, text, params, prepareAs)).rows;
}

/** `prepareAs` names a fixed statement of a hot path: on PostgreSQL each connection parses it once. */
export async function one<T = Record<string, unknown>>(
  db: Db,
  text: string,
  params: unknown[] = [],
  prepareAs?: string,
): Promise<T | undefined> {
  return (await run<T>(db, text, params, prepareAs)).rows[0];
}

interface PgPool {
  query(q: { text: string; values: unknown[]; name?: string }): Promise<{ rows: unknown[]; rowCount: number | null }>;
  connect(): Promise<PoolClient>;
}

const pools = new WeakMap<DataSource, { pg: PgPool; prepare: boolean }>();

/** The DataSource's own pg pool (see useDirectPool), for what needs a connection of its own; undefined without one. */
export function directPool(ds: DataSource): { pg: PgPool; prepare: boolean } | undefined {
  return pools.get(ds);
}

/**
 * Lets `run` use the DataSource's pg pool directly. `prepare`: named statements may be kept per
 * connection (on the embedded database, one PGlite session behind every socket connection, the
 * session queue shares them: db/pglite-shared-statements.ts).
 */
export function useDirectPool(ds: DataSource, prepare: boolean): void {
  const pg = (ds.driver as unknown as { master?: PgPool }).master;
  if (pg && typeof pg.query === 'function') pools.set(ds, { pg, prepare });
}

/** PostgreSQL's unique_violation, with the constraint that fired. */
export function uniqueViolation(error: unknown): string | undefined {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e?.code ?? e?.driverError?.code;
  return code === '23505' ? (e.constraint ?? e.driverError?.constraint ?? 'unique') : undefined;
}

/** Paging rule shared by every list: offset >= 0, limit 1..100, default 10. */
export interface Page {
  offset: number;
  limit: number;
}

/**
 * The SET assignments of a partial update, one place for every repository: each column whose
 * value is not undefined becomes `column = $n`, numbered after the parameters already in
 * `params` (which it extends). Column names come from the repository's own table, never from
 * input.
 */
export function setClauses(params: unknown[], columns: Record<string, unknown>): string[] {
  const sets: string[] = [];
  for (const [column, value] of Object.entries(columns)) {
    if (value === undefined) continue;
    params.push(value);
    sets.push(`${column} = $${params.length}`);
  }
  return sets;
}
