// TOTP (RFC 6238): the only user of otplib. SHA-1, 6 digits, 30-second steps: what every
// authenticator app reads from an otpauth:// URI without asking.
import { generate, generateSecret, generateURI, verify } from 'otplib';
import { openText, sealText, type SealPurpose } from './sealed-text.js';

export const TOTP_PERIOD_SECONDS = 30;

/** A new secret: 20 random bytes (160 bits, RFC 4226's recommendation), base32. */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export function totpUri(secret: string, issuer: string, account: string): string {
  return generateURI({ issuer, label: account, secret, period: TOTP_PERIOD_SECONDS });
}

/**
 * The time step a code belongs to, when it is right for the step now or one step either side
 * (clock drift) and later than `afterStep` (the last step accepted: a code is good once);
 * undefined otherwise. The caller records the step atomically before trusting it.
 */
export async function totpStepOf(secret: string, code: string, afterStep: number | null): Promise<number | undefined> {
  if (!/^\d{6}$/.test(code)) return undefined;
  const result = await verify({
    secret,
    token: code,
    period: TOTP_PERIOD_SECONDS,
    epochTolerance: TOTP_PERIOD_SECONDS,
    ...(afterStep === null ? {} : { afterTimeStep: afterStep }),
  });
  // otplib's result type covers HOTP too; a TOTP result names its time step.
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}

/** The current code (tests, and nothing else in the server, need to make one). */
export function totpCode(secret: string, epochSeconds?: number): Promise<string> {
  return generate({ secret, period: TOTP_PERIOD_SECONDS, ...(epochSeconds === undefined ? {} : { epoch: epochSeconds }) });
}

/** Bound to the user: a sealed secret copied to another user's row does not open. */
function totpPurpose(userId: string): SealPurpose {
  return { noun: 'TOTP secret', info: 'sso totp-secret encryption v1', aad: `sso-totp-secret:v1:${userId}` };
}

export function sealTotpSecret(secret: string, keySecret: string, userId: string): string {
  return sealText(secret, keySecret, totpPurpose(userId));
}

export function openTotpSecret(blob: string, keySecret: string, userId: string): string {
  return openText(blob, keySecret, totpPurpose(userId));
}
