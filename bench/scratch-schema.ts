import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface ScratchSchema {
  /** The database URL with search_path set to the schema: what the server's DATABASE_URL becomes. */
  url: string;
  /** Runs a statement in the schema (for figures read from the database after a run). */
  query<T>(sql: string): Promise<T[]>;
  drop(): Promise<void>;
}

/** A fresh schema on PostgreSQL for one benchmark server, so its rows never meet anyone else's. */
export async function scratchSchema(databaseUrl: string): Promise<ScratchSchema> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    query: async <T>(sql: string) => {
      await admin.query(`SET search_path TO ${schema}`);
      return (await admin.query(sql)).rows as T[];
    },
    drop: async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}
