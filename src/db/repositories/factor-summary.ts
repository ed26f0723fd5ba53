import { policyCoversSql } from './mfa-policy.js';
import { one, type Db } from './sql.js';

/** What second factors a user has, in one round trip. */
export interface FactorSummary {
  totp: boolean;
  passkeys: number;
  recoveryCodesLeft: number;
}

const summaryColumns = `EXISTS (SELECT 1 FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL) AS totp,
  (SELECT count(*)::int FROM passkeys WHERE user_id = $1) AS passkeys,
  (SELECT count(*)::int FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL) AS "recoveryCodesLeft"`;

export async function factorSummary(db: Db, userId: string): Promise<FactorSummary> {
  return (await one<FactorSummary>(db, `SELECT ${summaryColumns}`, [userId]))!;
}

/**
 * What decides whether a login waits for a second step (domain/factors/login-gate.ts), in the one
 * round trip every password login pays: the user's factors, and whether the policy covers them.
 */
export async function loginHoldFacts(db: Db, userId: string): Promise<{ summary: FactorSummary; policyCovers: boolean }> {
  const row = (await one<FactorSummary & { policyCovers: boolean }>(
    db,
    `SELECT ${summaryColumns}, ${policyCoversSql} AS "policyCovers"`,
    [userId],
    'login_hold_facts',
  ))!;
  const { policyCovers, ...summary } = row;
  return { summary, policyCovers };
}

/** Whether the user has a factor that holds a login up (recovery codes alone do not). */
export function hasSecondFactor(s: FactorSummary): boolean {
  return s.totp || s.passkeys > 0;
}
