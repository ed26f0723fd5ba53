import { randomUUID } from 'node:crypto';

import { run, rows, one, type Db, type Page } from './sql.js';

export interface AuditRecord {
  id: string;
  occurredAt: Date;
  type: string;
  outcome: 'success' | 'failure' | 'locked';
  actorId: string | null;
  identifier: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, unknown>;
}

/**
 * An event to store. `occurredAt` is when it happened (see domain/audit.ts), not when it is
 * written: ISO 8601 with microseconds, which a Date cannot carry.
 */
export type NewAuditEvent = Omit<AuditRecord, 'id' | 'occurredAt'> & { occurredAt: string };

/**
 * Stores a batch of events in one statement (one round trip, one commit), in the given order.
 * One fixed text whatever the batch size (the columns travel as arrays and unnest pairs them up
 * again), so PostgreSQL parses it once per connection as a named statement.
 *
 * The ids are made here rather than by the column's default: gen_random_uuid() takes its bytes
 * from /dev/urandom, which PostgreSQL built without OpenSSL (PGlite) opens and closes for every
 * row, and on the embedded database each open walks Emscripten's file system in JavaScript on
 * the server's own thread (about a sixth of PGlite's time under a load of refused /verify calls).
 */
export async function insertAuditEvents(db: Db, events: readonly NewAuditEvent[]): Promise<void> {
  const column = <T>(of: (e: NewAuditEvent) => T) => events.map(of);
  await run(
    db,
    `INSERT INTO audit_events (occurred_at, type, outcome, actor_id, identifier, ip, user_agent, detail, id)
     SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::uuid[])`,
    [
      column((e) => e.occurredAt),
      column((e) => e.type),
      column((e) => e.outcome),
      column((e) => e.actorId),
      column((e) => e.identifier),
      column((e) => e.ip || null),
      column((e) => e.userAgent || null),
      column((e) => JSON.stringify(e.detail)),
      column(() => randomUUID()),
    ],
    'audit_events_insert',
  );
}

/** Which events to list; every part is optional. `after` is inclusive, `before` exclusive. */
export interface AuditFilter {
  actorId?: string;
  outcome?: string;
  after?: Date;
  before?: Date;
}

export async function listAuditEvents(db: Db, filter: AuditFilter, page: Page): Promise<{ items: AuditRecord[]; total: number }> {
  const where = `($1::uuid IS NULL OR actor_id = $1::uuid) AND ($2::text IS NULL OR outcome = $2::text)
    AND ($3::timestamptz IS NULL OR occurred_at >= $3::timestamptz) AND ($4::timestamptz IS NULL OR occurred_at < $4::timestamptz)`;
  const params = [filter.actorId || null, filter.outcome || null, filter.after ?? null, filter.before ?? null];
  const [items, total] = await Promise.all([
    rows<AuditRecord>(
      db,
      `SELECT id, occurred_at AS "occurredAt", type, outcome, actor_id AS "actorId", identifier, ip, user_agent AS "userAgent", detail
         FROM audit_events WHERE ${where} ORDER BY occurred_at DESC, id LIMIT $5 OFFSET $6`,
      [...params, page.limit, page.offset],
    ),
    one<{ n: number }>(db, `SELECT count(*)::int AS n FROM audit_events WHERE ${where}`, params),
  ]);
  return { items, total: total?.n ?? 0 };
}
