import type { DataSource } from 'typeorm';
import { newRecoveryCode, newTotpSecret, normalizeRecoveryCode, sealTotpSecret, sha256Hex, totpUri } from '../../auth/index.js';
import {
  checkRegistration,
  registrationOptions,
  WEBAUTHN_CHALLENGE_SECONDS,
  type RegistrationResponseJSON,
  type RelyingParty,
} from '../../auth/webauthn.js';
import { insertPasskey, listPasskeys, type PasskeyRecord } from '../../db/repositories/passkeys.js';
import { hasRecoveryCodes, replaceRecoveryCodes } from '../../db/repositories/recovery-codes.js';
import { run } from '../../db/repositories/sql.js';
import { putPendingTotp } from '../../db/repositories/totp-factors.js';
import { findUserById } from '../../db/repositories/users.js';
import { insertChallenge, takeChallenge } from '../../db/repositories/webauthn-challenges.js';
import { AppError } from '../../errors/index.js';
import type { AuditLog } from '../audit.js';
import type { Client, FactorHolder, SecondFactors } from './second-factors.js';

export const RECOVERY_CODE_COUNT = 10;

export interface FactorEnrolmentDeps {
  ds: DataSource;
  audit: AuditLog;
  factors: SecondFactors;
  keySecret: string;
  rp: RelyingParty;
  /** The name authenticator apps show for this service. */
  issuerName: string;
}

/** Where a passkey registration happens: a signed-in user's own call, or a login held to enrol. */
export interface RegistrationScope {
  purpose: 'register' | 'enroll';
  mfaTokenHash: string | null;
}

/**
 * Enrolling second factors: a TOTP authenticator (pending until a first code confirms it),
 * passkeys, and the recovery codes that come with the first factor. Secrets are shown once: the
 * TOTP secret is stored sealed, recovery codes as hashes.
 */
export class FactorEnrolment {
  constructor(private readonly d: FactorEnrolmentDeps) {}

  /** A new TOTP secret as an otpauth:// URI; TOTP_ALREADY_ENROLLED when one is confirmed. */
  async startTotp(h: FactorHolder, client: Client): Promise<string> {
    const secret = newTotpSecret();
    if (!(await putPendingTotp(this.d.ds, h.userId, sealTotpSecret(secret, this.d.keySecret, h.userId)))) {
      throw new AppError('TOTP_ALREADY_ENROLLED');
    }
    await this.d.audit.record({ type: 'mfa.totp.enroll', outcome: 'success', actorId: h.userId, identifier: h.identifier, ...client });
    return totpUri(secret, this.d.issuerName, h.identifier);
  }

  /** Confirms the pending TOTP with a first code (counted); the first factor's recovery codes. */
  async confirmTotp(h: FactorHolder, code: string, client: Client): Promise<string[]> {
    await this.d.factors.checkTotp(h, code, client, { confirm: true });
    return this.firstFactorCodes(h, client);
  }

  async passkeyOptions(h: FactorHolder, scope: RegistrationScope): Promise<Record<string, unknown>> {
    const existing = await listPasskeys(this.d.ds, h.userId);
    const options = await registrationOptions(this.d.rp, { id: h.userId, name: h.identifier }, existing);
    await insertChallenge(
      this.d.ds,
      { challenge: options.challenge, purpose: scope.purpose, userId: h.userId, mfaTokenHash: scope.mfaTokenHash },
      WEBAUTHN_CHALLENGE_SECONDS,
    );
    return options as unknown as Record<string, unknown>;
  }

  /** Registers a passkey answering a challenge of this scope; the first factor's recovery codes. */
  async registerPasskey(
    h: FactorHolder,
    response: RegistrationResponseJSON,
    name: string,
    scope: RegistrationScope,
    client: Client,
  ): Promise<{ passkey: PasskeyRecord; recoveryCodes: string[] }> {
    const checked = await checkRegistration(this.d.rp, response, (c) =>
      takeChallenge(this.d.ds, { challenge: c, purpose: scope.purpose, userId: h.userId, mfaTokenHash: scope.mfaTokenHash }),
    );
    if (!checked) {
      await this.d.audit.record({
        type: 'mfa.passkey.register',
        outcome: 'failure',
        actorId: h.userId,
        identifier: h.identifier,
        reason: 'INVALID_PASSKEY',
        ...client,
      });
      throw new AppError('INVALID_PASSKEY');
    }
    const passkey = await insertPasskey(this.d.ds, {
      userId: h.userId,
      credentialId: checked.credentialId,
      publicKey: checked.publicKey,
      counter: checked.counter,
      transports: checked.transports,
      name: passkeyName(name),
      deviceType: checked.deviceType,
      backedUp: checked.backedUp,
    });
    if (!passkey) throw new AppError('PASSKEY_TAKEN');
    await this.d.audit.record({ type: 'mfa.passkey.register', outcome: 'success', actorId: h.userId, identifier: h.identifier, ...client });
    return { passkey, recoveryCodes: await this.firstFactorCodes(h, client) };
  }

  /**
   * Recovery codes come with the first factor: none yet, so ten new ones, shown this once. The
   * user row is locked meanwhile, so two first factors enrolled at once give one set.
   */
  private async firstFactorCodes(h: FactorHolder, client: Client): Promise<string[]> {
    const codes = await this.d.ds.transaction(async (tx) => {
      await run(tx, 'SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [h.userId]);
      if (await hasRecoveryCodes(tx, h.userId)) return [];
      return this.storeNewCodes(tx, h.userId);
    });
    if (codes.length) await this.recordCodesGenerated(h, client);
    return codes;
  }

  /** Ten new recovery codes in place of the old ones (the caller proved a current factor). */
  async regenerateCodes(h: FactorHolder, client: Client): Promise<string[]> {
    const codes = await this.d.ds.transaction((tx) => this.storeNewCodes(tx, h.userId));
    await this.recordCodesGenerated(h, client);
    return codes;
  }

  private recordCodesGenerated(h: FactorHolder, client: Client): Promise<void> {
    return this.d.audit.record({
      type: 'mfa.recovery_codes.generate',
      outcome: 'success',
      actorId: h.userId,
      identifier: h.identifier,
      ...client,
    });
  }

  private async storeNewCodes(tx: Parameters<typeof replaceRecoveryCodes>[0], userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await replaceRecoveryCodes(
      tx,
      userId,
      codes.map((c) => sha256Hex(normalizeRecoveryCode(c)!)),
    );
    return codes;
  }
}

/** A passkey's name: trimmed, at most 100 characters, `Passkey` when none is given. */
export function passkeyName(name: string | undefined): string {
  const trimmed = (name ?? '').trim().slice(0, 100);
  return trimmed || 'Passkey';
}

/** The account a factor is enrolled for: the user's first identifier names it in authenticators. */
export async function holderOf(ds: DataSource, userId: string): Promise<FactorHolder> {
  const user = await findUserById(ds, userId);
  if (!user) throw new AppError('USER_NOT_FOUND');
  return { userId, identifier: user.identifiers[0]?.value ?? userId };
}
