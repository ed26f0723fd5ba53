import { EntitySchema } from 'typeorm';

export type AuditOutcome = 'success' | 'failure' | 'locked';

/** An append-only record of a security-relevant event (login, refresh, key rotation...). */
export class AuditEvent {
  declare id: string;
  declare occurredAt: Date;
  declare type: string;
  declare outcome: AuditOutcome;
  declare actorId: string | null;
  declare identifier: string | null;
  declare ip: string | null;
  declare userAgent: string | null;
  declare detail: Record<string, unknown>;
}

export const AuditEventSchema = new EntitySchema<AuditEvent>({
  name: 'AuditEvent',
  target: AuditEvent,
  tableName: 'audit_events',
  columns: {
    id: { name: 'id', type: 'uuid', primary: true, generated: 'uuid' },
    occurredAt: { name: 'occurred_at', type: 'timestamptz', default: () => 'now()' },
    type: { name: 'type', type: 'text' },
    outcome: { name: 'outcome', type: 'text' },
    actorId: { name: 'actor_id', type: 'uuid', nullable: true },
    identifier: { name: 'identifier', type: 'text', nullable: true },
    ip: { name: 'ip', type: 'text', nullable: true },
    userAgent: { name: 'user_agent', type: 'text', nullable: true },
    detail: { name: 'detail', type: 'jsonb', default: () => "'{}'" },
  },
});
