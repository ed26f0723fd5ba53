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

export type NewAuditEvent = Omit<AuditRecord, 'id' | 'occurredAt'>;

export async function insertAuditEvent(db: Db, e: NewAuditEvent): Promise<void> {
  await run(
    db,
    `INSERT INTO audit_events (type, outcome, actor_id, identifier, ip, user_agent, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [e.type, e.outcome, e.actorId, e.identifier, e.ip || null, e.userAgent || null, JSON.stringify(e.detail)],
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
