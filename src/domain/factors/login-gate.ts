import type { DataSource } from 'typeorm';
import { newMfaToken, sha256Hex } from '../../auth/index.js';
import { factorSummary, hasSecondFactor, loginHoldFacts } from '../../db/repositories/factor-summary.js';
import { findLiveMfaToken, insertMfaToken, type MfaTokenPurpose, type MfaTokenRecord } from '../../db/repositories/mfa-tokens.js';
import { AppError } from '../../errors/index.js';

/** How long a login's mfa_token lives, in seconds: time to open an authenticator app, not more. */
export const MFA_TOKEN_SECONDS = 300;

/** A login held up between its password and its second step: no tokens, an mfa_token instead. */
export interface LoginHold {
  status: 'mfa_required' | 'mfa_enrollment_required';
  mfaToken: string;
  /** The factors that complete it (`mfa_required`), or the kinds that may be enrolled. */
  factors: string[];
  expiresIn: number;
}

/** What a held login continues with: the token's record, and its hash (the key of its state). */
export interface OpenHold {
  record: MfaTokenRecord;
  tokenHash: string;
}

/**
 * The door between a login's password and its tokens. A user with a second factor (a confirmed
 * TOTP or a passkey; recovery codes alone are only a way back in) is held for it; a user the
 * policy covers who has none is held to enrol one. The mfa_token is random, stored as its hash,
 * short-lived and single-use (spent by whoever completes the login).
 */
export class LoginGate {
  constructor(private readonly ds: DataSource) {}

  /** Why the user's login must wait, if it must. */
  async holdFor(userId: string): Promise<MfaTokenPurpose | undefined> {
    const { summary, policyCovers } = await loginHoldFacts(this.ds, userId);
    if (hasSecondFactor(summary)) return 'mfa';
    return policyCovers ? 'enroll' : undefined;
  }

  async hold(
    userId: string,
    purpose: MfaTokenPurpose,
    login: { identifier: string; audience: string; workspaceId: string | null },
  ): Promise<LoginHold> {
    const mfaToken = newMfaToken();
    await insertMfaToken(this.ds, sha256Hex(mfaToken), { purpose, userId, ...login }, MFA_TOKEN_SECONDS);
    return {
      status: purpose === 'mfa' ? 'mfa_required' : 'mfa_enrollment_required',
      mfaToken,
      factors: await this.factorsOf(userId, purpose),
      expiresIn: MFA_TOKEN_SECONDS,
    };
  }

  /** The factors that complete a held login (`mfa`), or the kinds that may be enrolled (`enroll`). */
  async factorsOf(userId: string, purpose: MfaTokenPurpose): Promise<string[]> {
    if (purpose === 'enroll') return ['totp', 'passkey'];
    const s = await factorSummary(this.ds, userId);
    return [...(s.totp ? ['totp'] : []), ...(s.recoveryCodesLeft > 0 ? ['recovery_code'] : []), ...(s.passkeys > 0 ? ['passkey'] : [])];
  }

  /** A live, unused mfa_token for one of these purposes; INVALID_MFA_TOKEN otherwise. */
  async open(mfaToken: string, purposes: MfaTokenPurpose[]): Promise<OpenHold> {
    if (typeof mfaToken !== 'string' || !mfaToken.startsWith('mfa_')) throw new AppError('INVALID_MFA_TOKEN');
    const tokenHash = sha256Hex(mfaToken);
    const record = await findLiveMfaToken(this.ds, tokenHash);
    if (!record || !purposes.includes(record.purpose)) throw new AppError('INVALID_MFA_TOKEN');
    return { record, tokenHash };
  }
}
