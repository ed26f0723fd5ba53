import type { DataSource } from 'typeorm';
import { readMfaPolicy, writeMfaPolicy, type MfaPolicyRecord } from '../../db/repositories/mfa-policy.js';
import { deletePasskeys } from '../../db/repositories/passkeys.js';
import { deleteRecoveryCodes } from '../../db/repositories/recovery-codes.js';
import { deleteTotpFactor } from '../../db/repositories/totp-factors.js';
import { AppError } from '../../errors/index.js';
import { checkMayActOnUser } from '../access/targets.js';
import type { AuditLog } from '../audit.js';
import type { Principal } from '../principal.js';
import type { Client } from './second-factors.js';

const SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** What administrators decide about second factors: resets and the policy. */
export class FactorAdmin {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditLog,
  ) {}

  /**
   * Removes every factor of a user who lost them. Resetting someone's factors weakens their
   * account, so it is acting on them: an administrator may reset anyone's; others need
   * `update:users` (the proto's rule) and the rule of who may act on whom. Nobody resets their
   * own this way: that would strip a factor without proving one (DeleteTotp asks for proof).
   * All in one transaction.
   */
  async reset(principal: Principal, userId: string, client: Client): Promise<boolean> {
    if (principal.kind === 'user' && principal.id === userId) {
      throw new AppError('PERMISSION_DENIED', 'Remove your own factors with proof of a current one (DeleteTotp, DeletePasskey).');
    }
    await checkMayActOnUser(this.ds, principal, userId);
    const removed = await this.ds.transaction(async (tx) => {
      const totp = await deleteTotpFactor(tx, userId);
      const passkeys = await deletePasskeys(tx, userId);
      const codes = await deleteRecoveryCodes(tx, userId);
      return totp || passkeys > 0 || codes > 0;
    });
    await this.audit.record({
      type: 'mfa.reset',
      outcome: 'success',
      actorId: userId,
      identifier: `by ${principal.kind}:${principal.id}`,
      ...client,
    });
    return removed;
  }

  policy(): Promise<MfaPolicyRecord> {
    return readMfaPolicy(this.ds);
  }

  async setPolicy(principal: Principal, p: Omit<MfaPolicyRecord, 'updatedAt'>, client: Client): Promise<MfaPolicyRecord> {
    const roles = [...new Set(p.requiredRoles.map((r) => r.trim().toLowerCase()))];
    if (roles.some((r) => !SLUG.test(r))) throw new AppError('INVALID_SLUG');
    const saved = await writeMfaPolicy(this.ds, { ...p, requiredRoles: roles });
    await this.audit.record({ type: 'mfa.policy.update', outcome: 'success', actorId: principal.id, ...client });
    return saved;
  }
}
