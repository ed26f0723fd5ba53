// Signing and verifying our own JWTs.
//
// The caller owns the claims; this module owns the cryptography and turns
// every jose failure into a TokenError with a small, stable `reason`, so no
// jose internals (or token contents) reach API responses.
import { randomFillSync } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTVerifyOptions } from 'jose';
import { signCompact } from './jws-sign.js';
import type { KeyLike, SigningAlg } from './signing-keys.js';
import { isSigningAlg } from './signing-keys.js';
import { VerifiedTokens } from './verified-tokens.js';

export type TokenErrorReason = 'expired' | 'invalid' | 'unknown_key' | 'wrong_type' | 'malformed';

const MESSAGES: Record<TokenErrorReason, string> = {
  expired: 'token has expired',
  invalid: 'token is invalid',
  unknown_key: 'token was signed with an unknown key',
  wrong_type: 'token is not of the expected type',
  malformed: 'token is malformed',
};

export class TokenError extends Error {
  readonly reason: TokenErrorReason;

  // The message is fixed per reason so it is safe to show to clients; the
  // underlying jose error (if any) is kept only as `cause` for server logs.
  constructor(reason: TokenErrorReason, options?: { cause?: unknown }) {
    super(MESSAGES[reason], options);
    this.name = 'TokenError';
    this.reason = reason;
  }
}

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
}

const verifiedTokens = new VerifiedTokens();

// Thrown from inside the key resolver and recognised again in the catch
// block, so resolver errors can be told apart from jose errors.
class ResolverFailure {
  constructor(readonly error: unknown) {}
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
    // Resolver errors propagate unchanged, as they do from inside jose below.
    const currentKey = await opts.resolveKey(remembered.kid, remembered.alg);
    const payload = verifiedTokens.get(token, optionsKey, currentKey, clockTolerance, opts.now ?? Date.now());
    if (payload !== undefined) return payload;
  }
  if (!COMPACT_JWS.test(token)) throw new TokenError('malformed');

  // Checked before jose so the reasons are ours: `alg: none` or an alg we
  // don't accept is invalid, a missing kid is invalid (we always set one).
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (cause) {
    throw new TokenError('malformed', { cause });
  }
  if (typeof header.alg !== 'string' || !(algorithms as string[]).includes(header.alg)) {
    throw new TokenError('invalid');
  }
  if (typeof header.kid !== 'string' || header.kid.length === 0) throw new TokenError('invalid');

  const requiredClaims = ['exp'];
  if (opts.tokenType !== undefined) requiredClaims.push('token_type');
  const verifyOptions: JWTVerifyOptions = {
    algorithms,
    issuer: opts.issuer,
    requiredClaims,
    clockTolerance,
  };
  if (opts.audience !== undefined) verifyOptions.audience = opts.audience;
  if (opts.now !== undefined) verifyOptions.currentDate = new Date(opts.now);

  let payload: Record<string, unknown>;
  let usedKey: KeyLike | undefined;
  try {
    const result = await jwtVerify(
      token,
      async (protectedHeader) => {
        const { kid, alg } = protectedHeader;
        if (typeof kid !== 'string' || kid.length === 0) throw new TokenError('invalid');
        let key: KeyLike | undefined;
        try {
          key = await opts.resolveKey(kid, alg);
        } catch (error) {
          throw new ResolverFailure(error);
        }
        if (!key) throw new TokenError('unknown_key');
        usedKey = key;
        return key;
      },
      verifyOptions,
    );
    payload = result.payload as Record<string, unknown>;
  } catch (error) {
    throw toTokenError(error);
  }

  // Only looked at after the signature checked out.
  if (opts.tokenType !== undefined && payload.token_type !== opts.tokenType) {
    throw new TokenError('wrong_type');
  }
  if (usedKey !== undefined) verifiedTokens.set(token, optionsKey, { kid: header.kid, alg: header.alg }, usedKey, payload);
  return payload;
}

function toTokenError(error: unknown): unknown {
  if (error instanceof ResolverFailure) return error.error;
  if (error instanceof TokenError) return error;
  if (error instanceof joseErrors.JWTExpired) return new TokenError('expired', { cause: error });
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    // A missing token_type is a wrong-type token, not a forged one.
    if (error.claim === 'token_type') return new TokenError('wrong_type', { cause: error });
    return new TokenError('invalid', { cause: error });
  }
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) {
    return new TokenError('malformed', { cause: error });
  }
  // Signature mismatch, alg not allowed, key type mismatch (TypeError), ...
  return new TokenError('invalid', { cause: error });
}

// header.payload.signature; the signature may be empty only for `alg: none`,
// which is rejected later with a proper reason rather than as malformed.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
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
