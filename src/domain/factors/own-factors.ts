import type { DataSource } from 'typeorm';
import type { RegistrationResponseJSON } from '../../auth/webauthn.js';
import { factorSummary, hasSecondFactor, type FactorSummary } from '../../db/repositories/factor-summary.js';
import { policyCovers } from '../../db/repositories/mfa-policy.js';
import { deletePasskey, listPasskeys, renamePasskey, type PasskeyRecord } from '../../db/repositories/passkeys.js';
import { deleteRecoveryCodes } from '../../db/repositories/recovery-codes.js';
import type { Db } from '../../db/repositories/sql.js';
import { deleteTotpFactor } from '../../db/repositories/totp-factors.js';
import { AppError } from '../../errors/index.js';
import type { AuditLog } from '../audit.js';
import type { Principal } from '../principal.js';
import { holderOf, passkeyName, type FactorEnrolment } from './enrolment.js';
import type { Client, FactorHolder, FactorProof, SecondFactors } from './second-factors.js';

export interface OwnFactorsDeps {
  ds: DataSource;
  audit: AuditLog;
  factors: SecondFactors;
  enrolment: FactorEnrolment;
}

/**
 * A signed-in user's own factors. Only a user signed in with a token manages them: an API key
 * is a narrower credential than its owner and never adds or removes a way to sign in (as it
 * never changes the password). Adding is open to the session (it asks more of the next login,
 * never less); removing a factor or replacing recovery codes needs proof of a current factor, so
 * a stolen access token cannot strip the account's second factor or mint a way past it.
 */
export class OwnFactors {
  constructor(private readonly d: OwnFactorsDeps) {}

  private async holder(principal: Principal): Promise<FactorHolder> {
    if (principal.kind !== 'user') throw new AppError('PERMISSION_DENIED', 'Only users have second factors.');
    if (principal.via === 'api_key')
      throw new AppError('PERMISSION_DENIED', "An API key cannot manage its owner's second factors; sign in to do that.");
    return holderOf(this.d.ds, principal.id);
  }

  async list(principal: Principal): Promise<{ summary: FactorSummary; passkeys: PasskeyRecord[]; required: boolean }> {
    const h = await this.holder(principal);
    const [summary, passkeys, required] = await Promise.all([
      factorSummary(this.d.ds, h.userId),
      listPasskeys(this.d.ds, h.userId),
      policyCovers(this.d.ds, h.userId),
    ]);
    return { summary, passkeys, required };
  }

  async startTotp(principal: Principal, client: Client): Promise<string> {
    return this.d.enrolment.startTotp(await this.holder(principal), client);
  }

  async confirmTotp(principal: Principal, code: string, client: Client): Promise<string[]> {
    const h = await this.holder(principal);
    const codes = await this.d.enrolment.confirmTotp(h, code, client);
    await this.d.factors.succeeded({ identifier: h.identifier, userId: h.userId, ip: client.ip });
    return codes;
  }

  async deleteTotp(principal: Principal, proof: FactorProof, client: Client): Promise<boolean> {
    const h = await this.holder(principal);
    await this.d.factors.prove(h, proof, client);
    return this.removeFactor(h, 'mfa.totp.remove', (tx) => deleteTotpFactor(tx, h.userId), client, 'TOTP_NOT_ENROLLED');
  }

  async regenerateCodes(principal: Principal, proof: FactorProof, client: Client): Promise<string[]> {
    const h = await this.holder(principal);
    await this.d.factors.prove(h, proof, client);
    if (!hasSecondFactor(await factorSummary(this.d.ds, h.userId))) {
      throw new AppError('INVALID_ARGUMENT', 'Recovery codes come with a second factor: enrol one first.');
    }
    return this.d.enrolment.regenerateCodes(h, client);
  }

  async passkeyOptions(principal: Principal): Promise<Record<string, unknown>> {
    return this.d.enrolment.passkeyOptions(await this.holder(principal), { purpose: 'register', mfaTokenHash: null });
  }

  async registerPasskey(
    principal: Principal,
    registration: RegistrationResponseJSON,
    name: string,
    client: Client,
  ): Promise<{ passkey: PasskeyRecord; recoveryCodes: string[] }> {
    return this.d.enrolment.registerPasskey(
      await this.holder(principal),
      registration,
      name,
      { purpose: 'register', mfaTokenHash: null },
      client,
    );
  }

  async renamePasskey(principal: Principal, id: string, name: string, client: Client): Promise<PasskeyRecord> {
    const h = await this.holder(principal);
    const renamed = await renamePasskey(this.d.ds, h.userId, id, passkeyName(name));
    if (!renamed) throw new AppError('PASSKEY_NOT_FOUND');
    await this.d.audit.record({ type: 'mfa.passkey.rename', outcome: 'success', actorId: h.userId, identifier: h.identifier, ...client });
    return renamed;
  }

  async deletePasskey(principal: Principal, id: string, proof: FactorProof, client: Client): Promise<boolean> {
    const h = await this.holder(principal);
    // Another user's passkey id is not found here, before any proof is asked or counted.
    if (!(await listPasskeys(this.d.ds, h.userId)).some((p) => p.id === id)) throw new AppError('PASSKEY_NOT_FOUND');
    await this.d.factors.prove(h, proof, client);
    return this.removeFactor(h, 'mfa.passkey.remove', (tx) => deletePasskey(tx, h.userId, id), client);
  }

  /**
   * Removes a factor with `remove` and, in the same transaction, the recovery codes when no factor
   * is left (they are a way back to a second factor: without one they go too); audits the outcome,
   * with `notFoundReason` when there was nothing to remove.
   */
  private async removeFactor(
    h: FactorHolder,
    type: 'mfa.totp.remove' | 'mfa.passkey.remove',
    remove: (tx: Db) => Promise<boolean>,
    client: Client,
    notFoundReason?: string,
  ): Promise<boolean> {
    const removed = await this.d.ds.transaction(async (tx) => {
      const gone = await remove(tx);
      if (!hasSecondFactor(await factorSummary(tx, h.userId))) await deleteRecoveryCodes(tx, h.userId);
      return gone;
    });
    await this.d.audit.record({
      type,
      outcome: removed ? 'success' : 'failure',
      actorId: h.userId,
      identifier: h.identifier,
      ...(removed || !notFoundReason ? {} : { reason: notFoundReason }),
      ...client,
    });
    return removed;
  }
}
