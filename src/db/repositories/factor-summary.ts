import { one, type Db } from './sql.js';

/** What second factors a user has, in one round trip. */
export interface FactorSummary {
  totp: boolean;
  passkeys: number;
  recoveryCodesLeft: number;
}

export async function factorSummary(db: Db, userId: string): Promise<FactorSummary> {
  return (await one<FactorSummary>(
    db,
    `SELECT EXISTS (SELECT 1 FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL) AS totp,
            (SELECT count(*)::int FROM passkeys WHERE user_id = $1) AS passkeys,
            (SELECT count(*)::int FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL) AS "recoveryCodesLeft"`,
    [userId],
  ))!;
}

/** Whether the user has a factor that holds a login up (recovery codes alone do not). */
export function hasSecondFactor(s: FactorSummary): boolean {
  return s.totp || s.passkeys > 0;
}
