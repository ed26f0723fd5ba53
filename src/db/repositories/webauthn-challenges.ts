import { run, type Db } from './sql.js';

/**
 * `register`: a signed-in user adding a passkey; `login`: a passwordless sign-in; `second_factor`:
 * a login's passkey step; `enroll`: a passkey enrolled during a login a policy holds up.
 */
export type ChallengePurpose = 'register' | 'login' | 'second_factor' | 'enroll';

export async function insertChallenge(
  db: Db,
  c: { challenge: string; purpose: ChallengePurpose; userId: string | null; mfaTokenHash: string | null },
  ttlSeconds: number,
): Promise<void> {
  await run(
    db,
    `INSERT INTO webauthn_challenges (challenge, purpose, user_id, mfa_token_hash, expires_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
    [c.challenge, c.purpose, c.userId, c.mfaTokenHash, ttlSeconds],
  );
  await run(db, `DELETE FROM webauthn_challenges WHERE expires_at < now() - interval '1 hour'`);
}

/**
 * Spends a challenge issued for this purpose (and user, and login, where it had them): one
 * conditional UPDATE, so a challenge answers one ceremony only, and only while it is fresh.
 */
export async function takeChallenge(
  db: Db,
  c: { challenge: string; purpose: ChallengePurpose; userId: string | null; mfaTokenHash: string | null },
): Promise<boolean> {
  const { count } = await run(
    db,
    `UPDATE webauthn_challenges SET used_at = now()
      WHERE challenge = $1 AND purpose = $2 AND user_id IS NOT DISTINCT FROM $3::uuid
        AND mfa_token_hash IS NOT DISTINCT FROM $4 AND used_at IS NULL AND expires_at > now()`,
    [c.challenge, c.purpose, c.userId, c.mfaTokenHash],
  );
  return count > 0;
}
