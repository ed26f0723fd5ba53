/**
 * How a user signed in, as a token's `amr` (RFC 8176) and the session's `amr` column.
 *
 * A plain password login keeps the contract's `["password"]` exactly. Logins that took a second
 * factor (or a passkey) add RFC 8176's registered values, and say `pwd` next to `password`: a
 * reader of RFC 8176 finds `pwd`, one written against the contract still finds `password`.
 *   - TOTP:           `otp`
 *   - passkey:        `hwk` (a key held by an authenticator), and `user` when it verified the user
 *                     (PIN or biometric)
 *   - recovery code:  nothing of its own (RFC 8176 has no value for it); `mfa` says a second factor
 *   - `mfa` whenever two factors were shown (a password and a second factor, or a passkey that
 *     verified its user: possession plus knowledge or inherence).
 */
export type SecondFactorKind = 'totp' | 'recovery_code' | 'passkey';

export const PASSWORD_AMR: readonly string[] = ['password'];

export function passwordAndFactorAmr(factor: SecondFactorKind): string[] {
  const second = factor === 'totp' ? ['otp'] : factor === 'passkey' ? ['hwk'] : [];
  return ['password', 'pwd', ...second, 'mfa'];
}

export function passkeyAmr(userVerified: boolean): string[] {
  return userVerified ? ['hwk', 'user', 'mfa'] : ['hwk'];
}
