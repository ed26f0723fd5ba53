import type { DataSource } from 'typeorm';
import { normalizeRecoveryCode, openTotpSecret, sha256Hex, totpStepOf, type PasswordHasher } from '../../auth/index.js';
import { checkAssertion, type AuthenticationResponseJSON, type RelyingParty } from '../../auth/webauthn.js';
import { findPasskeyByCredentialId, recordPasskeyUse, type PasskeyRecord } from '../../db/repositories/passkeys.js';
import { spendRecoveryCode } from '../../db/repositories/recovery-codes.js';
import { findTotpFactor, takeTotpStep } from '../../db/repositories/totp-factors.js';
import { findUserById } from '../../db/repositories/users.js';
import { takeChallenge, type ChallengePurpose } from '../../db/repositories/webauthn-challenges.js';
import { AppError } from '../../errors/index.js';
import type { AuditLog } from '../audit.js';
import type { Attempt, LoginGuard } from '../auth/login-guard.js';
import type { SecondFactorKind } from './amr.js';

export interface Client {
  ip: string;
  userAgent: string;
}

export interface SecondFactorsDeps {
  ds: DataSource;
  guard: LoginGuard;
  audit: AuditLog;
  passwords: PasswordHasher;
  /** The key-encryption secret TOTP secrets are sealed with. */
  keySecret: string;
  rp: RelyingParty;
}

/** Whose factor is being checked: the account, and the login name the attempt is counted under. */
export interface FactorHolder {
  userId: string;
  identifier: string;
}

/** Proof of a current factor, for removing a factor or replacing recovery codes. */
export interface FactorProof {
  totpCode?: string;
  recoveryCode?: string;
  password?: string;
}

/**
 * Checks second factors. Every check is an attempt like a password's: counted by the login guard
 * on the account (and the login name and address) before anything is compared, so wrong codes
 * lock the account as wrong passwords do, and audited. A code is good once: a TOTP step and a
 * recovery code are each taken by one conditional UPDATE, a passkey's counter only moves forward.
 * A success lifts nothing here: the caller does (guard.succeeded) once the whole sign-in or
 * proof succeeded.
 */
export class SecondFactors {
  constructor(private readonly d: SecondFactorsDeps) {}

  private attempt(h: FactorHolder, client: Client): Attempt {
    return { identifier: h.identifier, userId: h.userId || undefined, ip: client.ip };
  }

  /** Counts the attempt (TOO_MANY_ATTEMPTS when the account, name or address is locked; audited). */
  async admit(h: FactorHolder, kind: string, client: Client): Promise<Attempt> {
    const attempt = this.attempt(h, client);
    try {
      await this.d.guard.admit(attempt);
    } catch (e) {
      if (e instanceof AppError)
        await this.d.audit.record({
          type: `mfa.${kind}`,
          outcome: 'locked',
          actorId: h.userId || null,
          identifier: h.identifier,
          reason: e.reason,
          ...client,
        });
      throw e;
    }
    return attempt;
  }

  async succeeded(attempt: Attempt): Promise<void> {
    await this.d.guard.succeeded(attempt);
  }

  private async fail(
    h: FactorHolder,
    kind: string,
    reason: string,
    client: Client,
    error: AppError = new AppError('INVALID_SECOND_FACTOR'),
  ): Promise<never> {
    await this.d.audit.record({
      type: `mfa.${kind}`,
      outcome: 'failure',
      actorId: h.userId || null,
      identifier: h.identifier,
      reason,
      ...client,
    });
    throw error;
  }

  private async used(h: FactorHolder, kind: string, client: Client): Promise<void> {
    await this.d.audit.record({ type: `mfa.${kind}`, outcome: 'success', actorId: h.userId, identifier: h.identifier, ...client });
  }

  /**
   * A TOTP code of the user's confirmed authenticator (or, with `confirm`, of the one being
   * enrolled, which the same statement then confirms): right for now ±1 step and for a step
   * later than the last one taken. Counted; throws INVALID_SECOND_FACTOR.
   */
  async checkTotp(h: FactorHolder, code: string, client: Client, opts: { confirm: boolean } = { confirm: false }): Promise<void> {
    const kind = opts.confirm ? 'totp.confirm' : 'totp';
    await this.admit(h, kind, client);
    const factor = await findTotpFactor(this.d.ds, h.userId);
    if (!factor || (factor.confirmedAt === null) !== opts.confirm) {
      return this.fail(
        h,
        kind,
        opts.confirm ? 'TOTP_NOT_PENDING' : 'TOTP_NOT_ENROLLED',
        client,
        opts.confirm ? new AppError('TOTP_NOT_PENDING') : undefined,
      );
    }
    const secret = openTotpSecret(factor.secretEncrypted, this.d.keySecret, h.userId);
    const step = await totpStepOf(secret, code.trim(), factor.lastStep);
    if (step === undefined) {
      // A right code for a step already taken is a replay; the caller is told no more than "wrong".
      const replay = factor.lastStep !== null && (await totpStepOf(secret, code.trim(), null)) !== undefined;
      return this.fail(h, kind, replay ? 'TOTP_REPLAYED' : 'INVALID_TOTP', client);
    }
    // Lost to a concurrent request with a code of this step (or a later one): a replay too.
    if (!(await takeTotpStep(this.d.ds, h.userId, step, opts))) return this.fail(h, kind, 'TOTP_REPLAYED', client);
    await this.used(h, kind, client);
  }

  /** Spends one of the user's unused recovery codes. Counted; throws INVALID_SECOND_FACTOR. */
  async checkRecoveryCode(h: FactorHolder, code: string, client: Client): Promise<void> {
    await this.admit(h, 'recovery_code', client);
    const normalized = normalizeRecoveryCode(code);
    if (!normalized || !(await spendRecoveryCode(this.d.ds, h.userId, sha256Hex(normalized)))) {
      return this.fail(h, 'recovery_code', 'INVALID_RECOVERY_CODE', client);
    }
    await this.used(h, 'recovery_code', client);
  }

  /**
   * A passkey assertion answering a challenge issued for `challenge` (its purpose, and the login
   * it belongs to), by a passkey of the user (or, for a passwordless sign-in, of whoever it
   * names: `h` undefined). Counted against the passkey's owner; returns the passkey and whether
   * the authenticator verified its user. Throws INVALID_SECOND_FACTOR.
   */
  async checkPasskey(
    h: FactorHolder | undefined,
    assertion: AuthenticationResponseJSON,
    challenge: { purpose: ChallengePurpose; mfaTokenHash: string | null },
    client: Client,
  ): Promise<{ passkey: PasskeyRecord; userVerified: boolean; holder: FactorHolder }> {
    const credentialId = typeof assertion?.id === 'string' ? assertion.id : '';
    const passkey = credentialId ? await findPasskeyByCredentialId(this.d.ds, credentialId) : undefined;
    if (!passkey || (h && passkey.userId !== h.userId)) {
      // Not the user's passkey (or nobody's): counted against the user when there is one, else
      // against the credential id as a name and the address, as an unknown login name is.
      const who = h ?? { userId: '', identifier: `passkey:${credentialId.slice(0, 100)}` };
      await this.admit(who, 'passkey', client);
      return this.fail(who, 'passkey', 'UNKNOWN_PASSKEY', client);
    }
    const holder = h ?? {
      userId: passkey.userId,
      identifier: (await findUserById(this.d.ds, passkey.userId))?.identifiers[0]?.value ?? passkey.userId,
    };
    await this.admit(holder, 'passkey', client);
    const checked = await checkAssertion(this.d.rp, assertion, passkey, (c) =>
      takeChallenge(this.d.ds, {
        challenge: c,
        purpose: challenge.purpose,
        userId: h ? h.userId : null,
        mfaTokenHash: challenge.mfaTokenHash,
      }),
    );
    if (!checked) return this.fail(holder, 'passkey', 'PASSKEY_NOT_VERIFIED', client);
    // A counter that did not move forward means a cloned authenticator (WebAuthn 6.1.1).
    if (!(await recordPasskeyUse(this.d.ds, passkey.id, checked.newCounter)))
      return this.fail(holder, 'passkey', 'PASSKEY_COUNTER', client);
    await this.used(holder, 'passkey', client);
    return { passkey, userVerified: checked.userVerified, holder };
  }

  /**
   * Proof of a current factor for a sensitive change to one's own factors: exactly one of a TOTP
   * code, a recovery code or the password, counted and audited like a sign-in's. The counts are
   * lifted on success.
   */
  async prove(h: FactorHolder, proof: FactorProof, client: Client): Promise<void> {
    const given = [proof.totpCode, proof.recoveryCode, proof.password].filter((v) => v !== undefined && v !== '');
    if (given.length !== 1) throw new AppError('FACTOR_PROOF_REQUIRED');
    try {
      if (proof.totpCode) await this.checkTotp(h, proof.totpCode, client);
      else if (proof.recoveryCode) await this.checkRecoveryCode(h, proof.recoveryCode, client);
      else await this.checkPassword(h, proof.password!, client);
    } catch (e) {
      if (e instanceof AppError && e.reason === 'INVALID_SECOND_FACTOR') throw new AppError('FACTOR_PROOF_INCORRECT');
      throw e;
    }
    await this.succeeded(this.attempt(h, client));
  }

  private async checkPassword(h: FactorHolder, password: string, client: Client): Promise<void> {
    await this.admit(h, 'password', client);
    const user = await findUserById(this.d.ds, h.userId);
    const { ok } = await this.d.passwords.verify(password, user?.passwordHash ?? undefined);
    if (!ok) return this.fail(h, 'password', 'INVALID_PASSWORD', client);
  }
}

/** Which second factor a request names (exactly one). */
export function factorGiven(f: { totpCode?: string; recoveryCode?: string; passkey?: unknown }): SecondFactorKind {
  const given: SecondFactorKind[] = [];
  if (f.totpCode) given.push('totp');
  if (f.recoveryCode) given.push('recovery_code');
  if (f.passkey) given.push('passkey');
  if (given.length !== 1) throw new AppError('SECOND_FACTOR_MISSING');
  return given[0]!;
}
