/**
 * A transaction whose statements go out together where nothing in between depends on them: BEGIN
 * with the first statement, the last with COMMIT. pg sends a statement only after the answer to
 * the one before, unless its client is in pipeline mode (pg's own, documented with the client):
 * then each is sent at once, still in order and each with its own Sync, so each still gets its
 * own answer or error. A short transaction of two statements thus takes two round trips, not four.
 * On this machine a round trip costs each side about 0.1 ms of CPU (README, Performance), and a
 * login holds two such transactions (login protection's counters).
 *
 * If a statement fails, those sent after it in the same transaction fail too (or a COMMIT sent
 * after it ends the transaction as a ROLLBACK, which is what PostgreSQL does with a COMMIT in a
 * failed transaction); the first error is thrown, and a transaction left open is rolled back.
 */
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';

import { directPool } from './sql.js';

export interface Statement {
  text: string;
  values?: unknown[];
  /** A fixed statement of a hot path, parsed once per connection (as `prepareAs` elsewhere). */
  name?: string;
}

export interface Pipeline {
  /** Sends the statements without waiting between them; resolves to each one's rows, in order. */
  send<T = Record<string, unknown>>(...statements: Statement[]): Promise<{ rows: T[]; count: number }[]>;
}

export const BEGIN: Statement = { text: 'BEGIN' };
export const COMMIT: Statement = { text: 'COMMIT' };

/**
 * Runs `work` on one pooled connection of its own, in pipeline mode. `work` sends BEGIN and COMMIT
 * itself (with its first and last statements); if it throws, what it left open is rolled back.
 */
export async function pipelinedTransaction<T>(ds: DataSource, work: (tx: Pipeline) => Promise<T>): Promise<T> {
  const pool = directPool(ds);
  if (!pool) throw new Error('pipelinedTransaction needs the database pool (useDirectPool)');
  const client = await pool.pg.connect();
  setPipelining(client, true);
  let broken: Error | undefined;
  try {
    return await work({ send: (...statements) => send(client, pool.prepare, statements) });
  } catch (error) {
    // Harmless when nothing is open (PostgreSQL only warns); a connection that cannot even roll
    // back is dropped from the pool rather than handed to the next caller mid-transaction.
    await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw error;
  } finally {
    setPipelining(client, false);
    client.release(broken);
  }
}

async function send<T>(client: PoolClient, prepare: boolean, statements: Statement[]): Promise<{ rows: T[]; count: number }[]> {
  const answers = await Promise.allSettled(
    statements.map((s) =>
      client.query(s.name !== undefined && prepare ? { name: s.name, text: s.text, values: s.values } : { text: s.text, values: s.values }),
    ),
  );
  const failed = answers.find((a) => a.status === 'rejected');
  if (failed) throw failed.reason;
  return answers.map((a) => {
    const result = (a as PromiseFulfilledResult<{ rows: T[]; rowCount: number | null }>).value;
    return { rows: result.rows, count: result.rowCount ?? result.rows.length };
  });
}

/**
 * pg reads `pipeline` at every send (Client#_pulseQueryQueue), so a checked-out client can be
 * switched for the length of one transaction; it is switched back once every answer is in. If pg
 * renames it, this refuses rather than silently sending one statement at a time.
 */
function setPipelining(client: PoolClient, on: boolean): void {
  const c = client as unknown as { pipeline?: unknown };
  if (typeof c.pipeline !== 'boolean') throw new Error("pg's client has no `pipeline` flag any more: re-check pipelined-transaction.ts");
  c.pipeline = on;
}
