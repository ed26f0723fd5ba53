import type { DataSource } from 'typeorm';
import {
  authenticationOptions,
  WEBAUTHN_CHALLENGE_SECONDS,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
  type RelyingParty,
} from '../../auth/webauthn.js';
import { policyCovers } from '../../db/repositories/mfa-policy.js';
import { spendMfaToken, type MfaTokenPurpose } from '../../db/repositories/mfa-tokens.js';
import { listPasskeys } from '../../db/repositories/passkeys.js';
import { findUserById, type UserRecord } from '../../db/repositories/users.js';
import { insertChallenge } from '../../db/repositories/webauthn-challenges.js';
import { AppError } from '../../errors/index.js';
import type { AuditLog } from '../audit.js';
import type { AuthFlows, Client, IssuedTokens } from '../auth/auth-flows.js';
import { passkeyAmr, passwordAndFactorAmr, type SecondFactorKind } from './amr.js';
import type { FactorEnrolment } from './enrolment.js';
import type { LoginGate, OpenHold } from './login-gate.js';
import { factorGiven, type FactorHolder, type SecondFactors } from './second-factors.js';

export interface LoginCompletionDeps {
  ds: DataSource;
  flows: AuthFlows;
  gate: LoginGate;
  factors: SecondFactors;
  enrolment: FactorEnrolment;
  audit: AuditLog;
  rp: RelyingParty;
}

/** The second factor a CompleteLogin call carries (exactly one). */
export interface GivenFactor {
  totpCode?: string;
  recoveryCode?: string;
  passkeyAssertion?: AuthenticationResponseJSON;
  passkeyRegistration?: RegistrationResponseJSON;
  passkeyName?: string;
}

/**
 * A login's second step, and passkey sign-ins. The mfa_token is looked at first (a wrong code
 * may be retried while it lives; each try is counted on the account), then the factor is
 * checked, then the token is spent by one conditional UPDATE: of two completions with one token
 * only one gets tokens. Only then are the login's counts lifted.
 */
export class LoginCompletion {
  constructor(private readonly d: LoginCompletionDeps) {}

  async complete(mfaToken: string, given: GivenFactor, client: Client): Promise<IssuedTokens & { recoveryCodes: string[] }> {
    const { hold, kind, recoveryCodes } = await this.prove(mfaToken, given, client);
    const user = await this.spend(hold, client);
    const issued = await this.d.flows.finishLogin(
      user,
      {
        audience: hold.record.audience,
        workspaceId: hold.record.workspaceId,
        amr: passwordAndFactorAmr(kind),
        identifier: hold.record.identifier,
      },
      client,
    );
    return { ...issued, recoveryCodes };
  }

  /**
   * The hosted sign-in page's second step: the same proof, counting, lockout and audit as
   * `complete`, but no API session: the page starts the browser session, with the `amr` returned.
   */
  async completeSignIn(
    mfaToken: string,
    given: GivenFactor,
    client: Client,
  ): Promise<{ user: UserRecord; amr: string[]; recoveryCodes: string[] }> {
    const { hold, kind, recoveryCodes } = await this.prove(mfaToken, given, client);
    const user = await this.spend(hold, client);
    await this.d.audit.record({ type: 'login', outcome: 'success', actorId: user.id, identifier: hold.record.identifier, ...client });
    return { user, amr: passwordAndFactorAmr(kind), recoveryCodes };
  }

  /** What a held login waits for (the page shows the matching form); INVALID_MFA_TOKEN when it is over. */
  async step(mfaToken: string): Promise<{ purpose: MfaTokenPurpose; factors: string[] }> {
    const hold = await this.d.gate.open(mfaToken, ['mfa', 'enroll']);
    return { purpose: hold.record.purpose, factors: await this.d.gate.factorsOf(hold.record.userId, hold.record.purpose) };
  }

  /** Checks the factor a held login is given (counted and audited); the token is not spent yet. */
  private async prove(
    mfaToken: string,
    given: GivenFactor,
    client: Client,
  ): Promise<{ hold: OpenHold; kind: SecondFactorKind; recoveryCodes: string[] }> {
    const hold = await this.d.gate.open(mfaToken, ['mfa', 'enroll']);
    const h: FactorHolder = { userId: hold.record.userId, identifier: hold.record.identifier };
    let kind: SecondFactorKind;
    let recoveryCodes: string[] = [];
    if (hold.record.purpose === 'enroll') {
      // Held to enrol: the factor is the one enrolled with this token, confirmed now.
      if (given.totpCode && !given.passkeyRegistration) {
        kind = 'totp';
        recoveryCodes = await this.d.enrolment.confirmTotp(h, given.totpCode, client);
      } else if (given.passkeyRegistration && !given.totpCode) {
        kind = 'passkey';
        recoveryCodes = (
          await this.d.enrolment.registerPasskey(
            h,
            given.passkeyRegistration,
            given.passkeyName ?? '',
            { purpose: 'enroll', mfaTokenHash: hold.tokenHash },
            client,
          )
        ).recoveryCodes;
      } else {
        throw new AppError('SECOND_FACTOR_MISSING');
      }
    } else {
      kind = factorGiven({ totpCode: given.totpCode, recoveryCode: given.recoveryCode, passkey: given.passkeyAssertion });
      if (kind === 'totp') await this.d.factors.checkTotp(h, given.totpCode!, client);
      else if (kind === 'recovery_code') await this.d.factors.checkRecoveryCode(h, given.recoveryCode!, client);
      else {
        await this.d.factors.checkPasskey(h, given.passkeyAssertion!, { purpose: 'second_factor', mfaTokenHash: hold.tokenHash }, client);
      }
    }
    return { hold, kind, recoveryCodes };
  }

  /** Spends the token (of two completions only one gets past) and lifts the login's counts. */
  private async spend(hold: OpenHold, client: Client): Promise<UserRecord> {
    if (!(await spendMfaToken(this.d.ds, hold.tokenHash))) throw new AppError('INVALID_MFA_TOKEN');
    const user = await findUserById(this.d.ds, hold.record.userId);
    if (!user) throw new AppError('INVALID_MFA_TOKEN');
    if (!user.isActive) throw new AppError('USER_INACTIVE');
    await this.d.factors.succeeded({ identifier: hold.record.identifier, userId: user.id, ip: client.ip });
    return user;
  }

  /** Starts enrolling a factor during a login held to enrol one (the token allows nothing else). */
  async enroll(mfaToken: string, kind: string, client: Client): Promise<{ otpauthUri?: string; passkeyOptions?: Record<string, unknown> }> {
    const hold = await this.d.gate.open(mfaToken, ['enroll']);
    const user = await findUserById(this.d.ds, hold.record.userId);
    if (!user) throw new AppError('INVALID_MFA_TOKEN');
    const h: FactorHolder = { userId: user.id, identifier: user.identifiers[0]?.value ?? hold.record.identifier };
    if (kind === 'totp') return { otpauthUri: await this.d.enrolment.startTotp(h, client) };
    if (kind === 'passkey')
      return { passkeyOptions: await this.d.enrolment.passkeyOptions(h, { purpose: 'enroll', mfaTokenHash: hold.tokenHash }) };
    throw new AppError('INVALID_ARGUMENT', 'kind must be "totp" or "passkey".');
  }

  /**
   * WebAuthn request options with a stored challenge: for a held login's user's passkeys, or
   * (no mfa_token) for any discoverable passkey.
   */
  async passkeyChallenge(mfaToken: string): Promise<Record<string, unknown>> {
    const hold = mfaToken ? await this.d.gate.open(mfaToken, ['mfa']) : undefined;
    const allow = hold ? await listPasskeys(this.d.ds, hold.record.userId) : [];
    if (hold && allow.length === 0) throw new AppError('INVALID_SECOND_FACTOR', 'This account has no passkey.');
    const options = await authenticationOptions(this.d.rp, allow);
    await insertChallenge(
      this.d.ds,
      {
        challenge: options.challenge,
        purpose: hold ? 'second_factor' : 'login',
        userId: hold?.record.userId ?? null,
        mfaTokenHash: hold?.tokenHash ?? null,
      },
      WEBAUTHN_CHALLENGE_SECONDS,
    );
    return options as unknown as Record<string, unknown>;
  }

  /**
   * A passwordless sign-in: the passkey names its user. It is a whole sign-in, so the login's
   * rules (active account, audience, workspace) apply as after a password.
   */
  async passkeyLogin(
    assertion: AuthenticationResponseJSON,
    input: { audience: string; workspaceId: string },
    client: Client,
  ): Promise<IssuedTokens> {
    const { user, identifier, amr } = await this.passwordless(assertion, client);
    return this.d.flows.loginProven(user, input, amr, identifier, client);
  }

  /** The hosted page's passwordless sign-in: as passkeyLogin, the page starting the browser session. */
  async passkeySignIn(assertion: AuthenticationResponseJSON, client: Client): Promise<{ user: UserRecord; amr: string[] }> {
    const { user, identifier, amr } = await this.passwordless(assertion, client);
    if (!user.isActive) {
      await this.d.audit.record({ type: 'login', outcome: 'failure', actorId: user.id, identifier, reason: 'USER_INACTIVE', ...client });
      throw new AppError('USER_INACTIVE');
    }
    await this.d.audit.record({ type: 'login', outcome: 'success', actorId: user.id, identifier, ...client });
    return { user, amr };
  }

  /**
   * The passkey's check, and the policy's: a passkey that did not verify its user (no PIN or
   * biometric) is possession alone, one factor, which is not enough for a user the MFA policy
   * covers (they sign in with the password, then the passkey). The counts are lifted only after.
   */
  private async passwordless(
    assertion: AuthenticationResponseJSON,
    client: Client,
  ): Promise<{ user: UserRecord; identifier: string; amr: string[] }> {
    const { holder, userVerified } = await this.d.factors.checkPasskey(
      undefined,
      assertion,
      { purpose: 'login', mfaTokenHash: null },
      client,
    );
    const user = await findUserById(this.d.ds, holder.userId);
    if (!user) throw new AppError('INVALID_SECOND_FACTOR');
    if (!userVerified && (await policyCovers(this.d.ds, user.id))) {
      await this.d.audit.record({
        type: 'login',
        outcome: 'failure',
        actorId: user.id,
        identifier: holder.identifier,
        reason: 'MFA_REQUIRED',
        ...client,
      });
      throw new AppError('MFA_REQUIRED');
    }
    await this.d.factors.succeeded({ identifier: holder.identifier, userId: user.id, ip: client.ip });
    return { user, identifier: holder.identifier, amr: passkeyAmr(userVerified) };
  }
}
