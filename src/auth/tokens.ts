// Signing and verifying our own JWTs.
//
// The caller owns the claims; this module owns the cryptography (jws-sign.ts, jws-verify.ts) and
// the claim rules (jwt-claims.ts), and turns every failure into a TokenError with a small, stable
// `reason`, so no library internals (or token contents) reach API responses.
import { randomFillSync } from 'node:crypto';
import { checkClaims } from './jwt-claims.js';
import { signCompact } from './jws-sign.js';
import { checkSignature, COMPACT_JWS, jsonObjectOf, parseCompactJws } from './jws-verify.js';
import type { KeyLike, SigningAlg } from './signing-keys.js';
import { isSigningAlg } from './signing-keys.js';
import { TokenError, tokenError } from './token-error.js';
import { VerifiedTokens } from './verified-tokens.js';

export { TokenError, type TokenErrorReason } from './token-error.js';

export interface SigningKeyRef {
  kid: string;
  alg: SigningAlg;
  privateKey: KeyLike;
}

/**
 * Signs `payload` as a compact JWS. The protected header is exactly
 * `{ alg, typ: 'JWT', kid }`; no claims are added, the caller sets
 * iss/sub/aud/iat/nbf/exp/jti.
 */
export async function signJwt(payload: Record<string, unknown>, key: SigningKeyRef): Promise<string> {
  if (!isSigningAlg(key.alg)) throw new Error(`unsupported signing algorithm: ${String(key.alg)}`);
  if (typeof key.kid !== 'string' || key.kid.length === 0) throw new Error('signing key needs a kid');
  return signCompact({ alg: key.alg, typ: 'JWT', kid: key.kid }, payload, key.alg, key.privateKey);
}

export interface VerifyJwtOptions {
  /**
   * Looks up the verification key for a kid. Return undefined for an unknown
   * kid. Errors thrown here (e.g. the database is down) propagate unchanged,
   * so an outage isn't reported to the client as a bad token.
   */
  resolveKey: (kid: string, alg: string) => Promise<KeyLike | undefined>;
  issuer: string;
  audience?: string | string[];
  /** When set, the `token_type` claim must equal this. */
  tokenType?: string;
  algorithms: SigningAlg[];
  /** Allowed clock skew for exp/nbf/iat, in seconds. Default 0. */
  clockToleranceSec?: number;
  /** The time to check exp/nbf against, in ms (default: the system clock). */
  now?: number;
  /**
   * Whether the verified token is kept for its next presentation (default true). A token
   * presented once (a refresh token: its rotation retires it) is not: kept, it would only push
   * out tokens that do come back, and a busy server would verify those again.
   */
  remember?: boolean;
}

const verifiedTokens = new VerifiedTokens();

/** Whether `token` is kept as verified now (tests look). */
export function remembersToken(token: string): boolean {
  return verifiedTokens.header(token) !== undefined;
}

/**
 * Verifies signature and standard claims and returns the payload. `exp` is
 * required: a token without an expiry would be valid forever.
 */
export async function verifyJwt(token: string, opts: VerifyJwtOptions): Promise<Record<string, unknown>> {
  if (typeof token !== 'string') throw new TokenError('malformed');
  const algorithms = opts.algorithms.filter(isSigningAlg);
  if (algorithms.length === 0) throw new Error('verifyJwt needs at least one allowed algorithm');
  const clockTolerance = opts.clockToleranceSec ?? 0;

  // Same token, same options, same key object, still in its time window: verified before. The
  // token's header was checked then (a well-formed compact JWS, an accepted alg, a kid), and the
  // same string has the same header, so a hit needs neither the pattern nor the header again.
  const optionsKey = JSON.stringify([algorithms, opts.issuer, opts.audience, opts.tokenType, clockTolerance]);
  const remembered = verifiedTokens.header(token);
  if (remembered !== undefined) {
    // Resolver errors propagate unchanged, as they do below.
    const currentKey = await opts.resolveKey(remembered.kid, remembered.alg);
    const payload = verifiedTokens.get(token, optionsKey, currentKey, clockTolerance, opts.now ?? Date.now());
    if (payload !== undefined) return payload;
  }

  // The order of the checks is the order of their reasons: malformed or refused headers first,
  // then the key (an unknown kid), the signature, and only then what the payload says.
  const jws = parseCompactJws(token, algorithms);
  // Errors thrown here (the database is down) propagate unchanged: an outage is not a bad token.
  const key = await opts.resolveKey(jws.kid, jws.alg);
  if (!key) throw new TokenError('unknown_key');
  checkSignature(jws, key);
  // RFC 7797's unencoded payloads are not JWTs.
  if (!jws.b64) throw tokenError('malformed', 'a JWT must not use an unencoded payload');
  const payload = jsonObjectOf(jws.payload);
  if (payload === undefined) throw tokenError('malformed', 'the claims set is not a JSON object');
  // The time as a Date would hold it (whole milliseconds, within its range), as before.
  const nowMs = opts.now === undefined ? Date.now() : new Date(opts.now).getTime();
  checkClaims(
    payload,
    { issuer: opts.issuer, audience: opts.audience, tokenType: opts.tokenType, clockToleranceSec: clockTolerance },
    nowMs,
  );
  if (opts.remember !== false) verifiedTokens.set(token, optionsKey, { kid: jws.kid, alg: jws.alg }, key, payload);
  return payload;
}

const MAX_SNIFF_LENGTH = 16 * 1024;

/**
 * Cheap check (no verification) whether a bearer value is a JWT rather than
 * an API key: three base64url segments whose first decodes to a JSON object
 * with an `alg`.
 */
export function looksLikeJwt(value: string): boolean {
  if (typeof value !== 'string' || value.length > MAX_SNIFF_LENGTH || !COMPACT_JWS.test(value)) return false;
  try {
    const header: unknown = JSON.parse(Buffer.from(value.slice(0, value.indexOf('.')), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && !Array.isArray(header) && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

/** A fresh random identifier (128 bits, base64url) for jti, session ids and the like. */
export function newTokenId(): string {
  // From a pool refilled 256 ids at a time (as node's randomUUID does): the same CSPRNG, one
  // call into it instead of one per id. Each id's bytes are used once.
  if (poolOffset + 16 > idPool.length) {
    randomFillSync(idPool);
    poolOffset = 0;
  }
  const id = idPool.toString('base64url', poolOffset, poolOffset + 16);
  poolOffset += 16;
  return id;
}

const idPool = Buffer.alloc(16 * 256);
let poolOffset = idPool.length;
