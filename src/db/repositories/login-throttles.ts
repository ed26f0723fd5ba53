import type { DataSource } from 'typeorm';
import { BEGIN, COMMIT, pipelinedTransaction, type Statement } from './pipelined-transaction.js';
import { run, type Db } from './sql.js';

/**
 * One counter of the login guard: a key such as 'id:alice@example.com' (a login name),
 * 'user:<uuid>' (an account, whatever name it was reached by) or 'ip:1.2.3.4' (an address), its
 * failures since `updatedAt`, and the lock they set. What the numbers mean is the domain's
 * (domain/auth/lockout.ts); this file only keeps them.
 */
export interface ThrottleRecord {
  key: string;
  failures: number;
  lockedUntil: Date | null;
  updatedAt: Date;
  /** Of those failures, attempts whose password check has not ended yet. */
  inflight: number;
}

const columns = `key, failures, locked_until AS "lockedUntil", updated_at AS "updatedAt", inflight`;

/**
 * The login_throttles table as the login guard's ThrottleStore (domain/auth/lockout-store.ts).
 * Each update is one transaction that locks its rows (SELECT … FOR UPDATE) before reading them,
 * so parallel attempts, here or on another instance, each see the count the previous one wrote
 * and none slips past the limit. One statement locks all of an update's rows, in key order, and
 * no other lock is held meanwhile, so two attempts sharing keys (an address, an account) cannot
 * deadlock. Two round trips: BEGIN with the lock-and-read, then the write (when something changed)
 * with COMMIT (pipelined-transaction.ts).
 */
export class SqlThrottleStore {
  constructor(private readonly ds: DataSource) {}

  async update(
    keys: readonly string[],
    change: (rows: ThrottleRecord[]) => ThrottleRecord[],
    create?: (key: string) => ThrottleRecord,
  ): Promise<void> {
    const unique = [...new Set(keys)];
    if (unique.length === 0) return;
    for (;;) {
      const done = await pipelinedTransaction(this.ds, async (tx) => {
        const [, locked] = await tx.send<ThrottleRecord>(BEGIN, {
          text: `SELECT ${columns} FROM login_throttles WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE`,
          values: [unique],
          name: 'throttles_lock',
        });
        const before = locked!.rows;
        if (create && before.length < unique.length) {
          await tx.send(COMMIT);
          return false;
        }
        const changed = change(before).filter(
          (r) =>
            !same(
              r,
              before.find((b) => b.key === r.key),
            ),
        );
        await tx.send(...(changed.length ? [write(changed)] : []), COMMIT);
        return true;
      });
      if (done) return;
      // A key seen for the first time: its row is created outside any transaction (so no lock is
      // held while waiting for a concurrent insert of it) and the update starts again. Rows are
      // kept after a success, so this is the rare path.
      await insertMissing(this.ds, unique.map(create!));
    }
  }
}

async function insertMissing(db: Db, fresh: ThrottleRecord[]): Promise<void> {
  await run(
    db,
    `INSERT INTO login_throttles (key, failures, locked_until, updated_at, inflight)
     SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::timestamptz[], $5::int[]) ORDER BY 1
     ON CONFLICT (key) DO NOTHING`,
    values(fresh),
  );
}

function write(changed: ThrottleRecord[]): Statement {
  return {
    text: `UPDATE login_throttles AS t
        SET failures = u.failures, locked_until = u.locked_until, updated_at = u.updated_at, inflight = u.inflight
       FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::timestamptz[], $5::int[])
            AS u(key, failures, locked_until, updated_at, inflight)
      WHERE t.key = u.key`,
    values: values(changed),
    name: 'throttles_write',
  };
}

/** The rows as the column arrays both statements unnest, in their column order. */
function values(records: ThrottleRecord[]): unknown[] {
  return [
    records.map((r) => r.key),
    records.map((r) => r.failures),
    records.map((r) => iso(r.lockedUntil)),
    records.map((r) => iso(r.updatedAt)),
    records.map((r) => r.inflight),
  ];
}

function same(a: ThrottleRecord, b: ThrottleRecord | undefined): boolean {
  return (
    b !== undefined &&
    a.failures === b.failures &&
    a.inflight === b.inflight &&
    a.updatedAt.getTime() === b.updatedAt.getTime() &&
    (a.lockedUntil?.getTime() ?? null) === (b.lockedUntil?.getTime() ?? null)
  );
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}
