// The rules a verified JWT's claims must meet (RFC 7519 section 4.1, plus our token_type), in
// one place: verifyJwt applies them all once the signature checked out, and the memo of verified
// tokens applies the time window again on every use (verified-tokens.ts).
//
// They are the rules, and the order, that jose's jwtVerify applied when it verified our tokens,
// so every failure keeps the reason it had: claims that must be present are looked for first
// (iss, aud, token_type, exp), then iss and aud are matched, then iat, nbf and exp are checked.
import { TokenError, tokenError } from './token-error.js';

export interface ClaimRules {
  /** `iss` must equal it. */
  issuer: string;
  /** When set, `aud` (a string, or an array of them) must name one of these. */
  audience?: string | string[];
  /** When set, the `token_type` claim must equal this (wrong_type otherwise). */
  tokenType?: string;
  /** Allowed clock skew for exp and nbf, in seconds (finite, not negative). */
  clockToleranceSec: number;
}

/** Throws a TokenError unless `claims` meet `rules` at `nowMs` (epoch milliseconds). */
export function checkClaims(claims: Record<string, unknown>, rules: ClaimRules, nowMs: number): void {
  if (!Object.hasOwn(claims, 'iss')) throw tokenError('invalid', 'missing "iss" claim');
  if (rules.audience !== undefined && !Object.hasOwn(claims, 'aud')) throw tokenError('invalid', 'missing "aud" claim');
  // A token without a type is not of the expected type, rather than a forged one.
  if (rules.tokenType !== undefined && !Object.hasOwn(claims, 'token_type')) throw tokenError('wrong_type', 'missing "token_type" claim');
  // Required: a token without an expiry would be valid forever.
  if (!Object.hasOwn(claims, 'exp')) throw tokenError('invalid', 'missing "exp" claim');
  if (claims.iss !== rules.issuer) throw tokenError('invalid', 'unexpected "iss" claim value');
  if (rules.audience !== undefined && !audienceMatches(claims.aud, rules.audience))
    throw tokenError('invalid', 'unexpected "aud" claim value');

  const tolerance = rules.clockToleranceSec;
  if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0) throw tokenError('invalid', 'invalid clock tolerance');
  const now = Math.floor(nowMs / 1000);
  if (!Number.isFinite(now)) throw tokenError('invalid', 'invalid current time');
  if (claims.iat !== undefined && typeof claims.iat !== 'number') throw tokenError('invalid', '"iat" claim must be a number');
  const failure = timeWindowFailure(claims, tolerance, now);
  if (failure !== undefined)
    throw new TokenError(failure === 'expired' ? 'expired' : 'invalid', { cause: new Error(TIME_FAILURES[failure]) });

  if (rules.tokenType !== undefined && claims.token_type !== rules.tokenType)
    throw tokenError('wrong_type', 'unexpected "token_type" claim value');
}

/**
 * Whether a token whose claims passed checkClaims before is still inside its time window (nbf and
 * exp, with the tolerance) at `nowMs`: the only rule whose answer changes for the same token.
 */
export function inTimeWindow(claims: Record<string, unknown>, toleranceSec: number, nowMs: number): boolean {
  return timeWindowFailure(claims, toleranceSec, Math.floor(nowMs / 1000)) === undefined;
}

const TIME_FAILURES = {
  nbf_type: '"nbf" claim must be a number',
  not_yet: '"nbf" claim timestamp check failed',
  exp_type: '"exp" claim must be a number',
  expired: '"exp" claim timestamp check failed',
} as const;

/** Not yet valid when nbf > now + tolerance; expired when exp <= now - tolerance (now in seconds). */
function timeWindowFailure(claims: Record<string, unknown>, tolerance: number, now: number): keyof typeof TIME_FAILURES | undefined {
  const { nbf, exp } = claims;
  if (nbf !== undefined) {
    if (typeof nbf !== 'number') return 'nbf_type';
    if (nbf > now + tolerance) return 'not_yet';
  }
  if (typeof exp !== 'number') return 'exp_type';
  if (exp <= now - tolerance) return 'expired';
  return undefined;
}

function audienceMatches(aud: unknown, accepted: string | string[]): boolean {
  const list = typeof accepted === 'string' ? [accepted] : accepted;
  if (typeof aud === 'string') return list.includes(aud);
  return Array.isArray(aud) && list.some((a) => aud.includes(a));
}
