import { DataSource, type EntityManager } from 'typeorm';

/** Either the pool or a transaction's manager: repositories run the same SQL on both. */
export type Db = DataSource | EntityManager;

/**
 * Runs one statement and returns its rows and affected count the same way for every statement
 * kind (TypeORM's plain `query` shapes UPDATE ... RETURNING differently from SELECT).
 */
export async function run<T = Record<string, unknown>>(db: Db, text: string, params: unknown[] = []): Promise<{ rows: T[]; count: number }> {
  const runner = db instanceof DataSource ? db.createQueryRunner() : db.queryRunner;
  if (!runner) throw new Error('entity manager without a query runner');
  try {
    const result = await runner.query(text, params, true);
    return { rows: (result.records ?? []) as T[], count: result.affected ?? (result.records?.length ?? 0) };
  } finally {
    if (db instanceof DataSource) await runner.release();
  }
}

export async function rows<T = Record<string, unknown>>(db: Db, text: string, params: unknown[] = []): Promise<T[]> {
  return (await run<T>(db, text, params)).rows;
}

export async function one<T = Record<string, unknown>>(db: Db, text: string, params: unknown[] = []): Promise<T | undefined> {
  return (await run<T>(db, text, params)).rows[0];
}

/** PostgreSQL's unique_violation, with the constraint that fired. */
export function uniqueViolation(error: unknown): string | undefined {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e?.code ?? e?.driverError?.code;
  return code === '23505' ? (e.constraint ?? e.driverError?.constraint ?? 'unique') : undefined;
}

/** Paging rule shared by every list: offset >= 0, limit 1..100, default 10. */
export interface Page { offset: number; limit: number }
