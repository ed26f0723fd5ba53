import type { DataSource } from 'typeorm';
import {
  insertAuditEvents,
  listAuditEvents,
  type AuditFilter,
  type AuditRecord,
  type NewAuditEvent,
} from '../db/repositories/audit-events.js';
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

interface Queued {
  event: NewAuditEvent;
  entry: AuditEntry;
  written: () => void;
}

/** At most this many events go out in one statement (each is 8 array elements of its parameters). */
const defaultMaxBatch = 256;

/**
 * Security events (who, when, from where, outcome) that administrators can list.
 *
 * Written by group commit: `record` queues the event, and one INSERT writes everything queued at
 * the next turn of the event loop (sooner once `maxBatch` are waiting), one write at a time, so
 * what arrives during a write goes out together in the next. Under load that is one statement and
 * one commit for many calls instead of one each. The promise of `record` resolves once its event
 * is stored: a caller for whom the record is the point awaits it; one that only reports (a token
 * grant, say) need not, and answers a moment before the event is on disk. `flush` writes whatever
 * is queued (the server's close calls it after the last call is answered, so a graceful stop loses
 * nothing), and `list` flushes first, so this instance's reader sees every event recorded before.
 */
export class AuditLog {
  private queue: Queued[] = [];
  /** The write in progress: one at a time, in order. */
  private writing: Promise<void> | undefined;
  private scheduled = false;
  /** The promise of the event queued last: it resolves after every earlier one (writes are in order). */
  private last: Promise<void> = Promise.resolve();
  private lastMicros = 0;
  private readonly maxBatch: number;

  constructor(
    private readonly ds: DataSource,
    private readonly log: Logger,
    private readonly observe?: (entry: AuditEntry) => void,
    options: { maxBatch?: number } = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? defaultMaxBatch);
  }

  /**
   * Recording never fails the call it records: a lost audit line is logged instead. Hostile text
   * (a NUL in an identifier) is recorded as seen, with U+FFFD for what the database cannot store,
   * since a probe with such input is exactly what the log is for.
   */
  record(entry: AuditEntry): Promise<void> {
    this.observe?.(entry);
    const text = (value: string | null | undefined) => (value == null ? null : storableText(value));
    const event: NewAuditEvent = {
      occurredAt: this.now(),
      type: entry.type,
      outcome: entry.outcome,
      actorId: entry.actorId ?? null,
      identifier: text(entry.identifier),
      ip: text(entry.ip),
      userAgent: text(entry.userAgent),
      detail: entry.reason ? { reason: entry.reason } : {},
    };
    const written = new Promise<void>((resolve) => this.queue.push({ event, entry, written: resolve }));
    this.last = written;
    this.schedule();
    return written;
  }

  /** Writes what is queued now; resolves once every event recorded before the call is stored (or logged as lost). */
  flush(): Promise<void> {
    if (!this.writing) this.writeNext();
    return this.last;
  }

  async list(filter: AuditFilter, page: { offset: number; limit: number }): Promise<{ items: AuditRecord[]; total: number }> {
    await this.flush();
    return listAuditEvents(this.ds, filter, page);
  }

  private schedule(): void {
    if (this.writing) return; // the write in progress takes the queue up when it ends
    if (this.queue.length >= this.maxBatch) return this.writeNext();
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.writing) this.writeNext();
    });
  }

  private writeNext(): void {
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    const next = () => {
      this.writing = undefined;
      // What queued meanwhile has waited a whole write already: out at once.
      if (this.queue.length > 0) this.writeNext();
    };
    this.writing = this.write(batch).then(next, next);
  }

  private async write(batch: Queued[]): Promise<void> {
    try {
      await insertAuditEvents(
        this.ds,
        batch.map((q) => q.event),
      );
    } catch (err) {
      if (batch.length === 1) this.lost(err, batch[0]!.entry);
      // One event the database refuses must not take the others with it: each on its own.
      else
        for (const q of batch) {
          await insertAuditEvents(this.ds, [q.event]).catch((e: unknown) => this.lost(e, q.entry));
        }
    } finally {
      for (const q of batch) q.written();
    }
  }

  private lost(err: unknown, entry: AuditEntry): void {
    this.log.error({ err, event: { ...entry } }, 'audit event not recorded');
  }

  /**
   * When the event happened (not when its batch is written): this process's clock in microseconds,
   * strictly increasing, so events keep the order they were recorded in, within a batch too.
   */
  private now(): string {
    const micros = Math.max(Date.now() * 1000, this.lastMicros + 1);
    this.lastMicros = micros;
    return `${new Date(Math.floor(micros / 1000)).toISOString().slice(0, -1)}${String(micros % 1000).padStart(3, '0')}Z`;
  }
}
