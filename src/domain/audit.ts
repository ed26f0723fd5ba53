import type { DataSource } from 'typeorm';
import { insertAuditEvent, listAuditEvents, type AuditFilter, type AuditRecord } from '../db/repositories/audit-events.js';
import type { Logger } from '../logger.js';
import { storableText } from './storable-text.js';

export interface AuditEntry {
  type: string;
  outcome: 'success' | 'failure' | 'locked';
  actorId?: string | null;
  identifier?: string | null;
  ip?: string;
  userAgent?: string;
  reason?: string;
}

/** Security events (who, when, from where, outcome) that administrators can list. */
export class AuditLog {
  constructor(
    private readonly ds: DataSource,
    private readonly log: Logger,
    private readonly observe?: (entry: AuditEntry) => void,
  ) {}

  /**
   * Recording never fails the call it records: a lost audit line is logged instead. Hostile text
   * (a NUL in an identifier) is recorded as seen, with U+FFFD for what the database cannot store,
   * since a probe with such input is exactly what the log is for.
   */
  async record(entry: AuditEntry): Promise<void> {
    this.observe?.(entry);
    const text = (value: string | null | undefined) => (value == null ? null : storableText(value));
    try {
      await insertAuditEvent(this.ds, {
        type: entry.type,
        outcome: entry.outcome,
        actorId: entry.actorId ?? null,
        identifier: text(entry.identifier),
        ip: text(entry.ip),
        userAgent: text(entry.userAgent),
        detail: entry.reason ? { reason: entry.reason } : {},
      });
    } catch (err) {
      this.log.error({ err, event: { ...entry } }, 'audit event not recorded');
    }
  }

  list(filter: AuditFilter, page: { offset: number; limit: number }): Promise<{ items: AuditRecord[]; total: number }> {
    return listAuditEvents(this.ds, filter, page);
  }
}
