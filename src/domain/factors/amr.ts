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

/**
 * The `acr` of tokens whose sign-in showed two factors (`mfa` in the amr): OpenID PAPE's
 * multi-factor policy URI, the value relying parties already look for. It is what the MFA policy
 * asks of the users it covers (a password alone, or a passkey that did not verify its user,
 * never gets it), so an app can require it. Tokens of single-factor sign-ins carry no `acr`
 * rather than a level that promises nothing (OpenID Connect Core 2: "0" is discouraged).
 */
export const MFA_ACR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

export function acrOf(amr: readonly string[]): string | undefined {
  return amr.includes('mfa') ? MFA_ACR : undefined;
}
