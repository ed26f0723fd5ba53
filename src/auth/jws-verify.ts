// Compact JWS verification with node:crypto: the other half of jws-sign.ts.
//
// jose 6 verifies through WebCrypto only, whose promise and DOMException glue cost about as much
// CPU as the signature check itself; and a refresh token is verified exactly once (it is
// single-use), so the memo of verified tokens never spares a refresh that cost. Verification
// parses what callers send, so this keeps every check jose made, in the same order and with the
// same TokenError reason (test/auth/tokens-hostile.test.ts pins them):
//   - the token is three base64url segments; a segment of 4n+1 characters is not base64url;
//   - the protected header is a JSON object (well-formed UTF-8); its alg is one the caller
//     accepts (never `none`), its kid a non-empty string;
//   - a `crit` header is a non-empty array of non-empty strings naming only `b64`, which must
//     then be present and a boolean (a JWT with `b64: false` is refused after the signature
//     check, as jose did);
//   - the key is a public CryptoKey or KeyObject of the alg's type (a P-256 key for ES256, an
//     RSA key of 2048 bits or more bound to SHA-256 for RS256, an Ed25519 key for EdDSA), and a
//     CryptoKey must allow `verify`.
// The claims are checked by jwt-claims.ts.
import { KeyObject, verify } from 'node:crypto';
import type { SigningAlg } from './signing-keys.js';
import { TokenError, tokenError } from './token-error.js';

/** header.payload.signature; the signature may be empty only for `alg: none`, which is refused with a reason of its own. */
export const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface CompactJws {
  alg: SigningAlg;
  kid: string;
  /** False only for a `b64: false` header made critical (RFC 7797): never a JWT. */
  b64: boolean;
  /** What the signature covers: the first two segments as sent. */
  signingInput: string;
  payload: string;
  signature: string;
}

/** Splits a compact JWS and checks its protected header (everything that needs no key). */
export function parseCompactJws(token: string, algorithms: readonly SigningAlg[]): CompactJws {
  if (!COMPACT_JWS.test(token)) throw new TokenError('malformed');
  const firstDot = token.indexOf('.');
  const lastDot = token.lastIndexOf('.');
  const header = jsonObjectOf(token.slice(0, firstDot));
  if (header === undefined) throw tokenError('malformed', 'the protected header is not a JSON object');
  const { alg, kid } = header;
  if (typeof alg !== 'string' || !(algorithms as readonly string[]).includes(alg)) throw tokenError('invalid', 'alg not allowed');
  // We always set a kid: a token without one is not ours.
  if (typeof kid !== 'string' || kid.length === 0) throw tokenError('invalid', 'no kid');
  return {
    alg: alg as SigningAlg,
    kid,
    b64: b64Of(header),
    signingInput: token.slice(0, lastDot),
    payload: token.slice(firstDot + 1, lastDot),
    signature: token.slice(lastDot + 1),
  };
}

/** The `crit` rules (RFC 7515 section 4.1.11): the only extension understood is b64 (RFC 7797). */
function b64Of(header: Record<string, unknown>): boolean {
  const { crit } = header;
  if (crit === undefined) return true;
  if (!Array.isArray(crit) || crit.length === 0 || crit.some((name) => typeof name !== 'string' || name.length === 0)) {
    throw tokenError('malformed', '"crit" must be an array of non-empty strings');
  }
  for (const name of crit as string[]) {
    if (name !== 'b64') throw tokenError('invalid', `extension header parameter "${name}" is not understood`);
    if (!Object.hasOwn(header, name)) throw tokenError('malformed', `extension header parameter "${name}" is missing`);
  }
  if (typeof header.b64 !== 'boolean') throw tokenError('malformed', '"b64" must be a boolean');
  return header.b64;
}

/** Throws unless `signature` is `alg`'s signature of the signing input under `key`. */
export function checkSignature(jws: CompactJws, key: unknown): void {
  const signature = bytesOf(jws.signature);
  if (signature === undefined) throw tokenError('malformed', 'the signature is not base64url');
  const how = VERIFY_WITH[jws.alg];
  const nodeKey = verifyKeyOf(key, jws.alg);
  let valid = false;
  try {
    const data = Buffer.from(jws.signingInput, 'latin1');
    valid = verify(how.digest, data, how.dsaEncoding ? { key: nodeKey, dsaEncoding: how.dsaEncoding } : nodeKey, signature);
  } catch (cause) {
    throw new TokenError('invalid', { cause });
  }
  if (!valid) throw tokenError('invalid', 'signature verification failed');
}

/** The JSON object a base64url segment holds, or undefined (not base64url, not UTF-8, not JSON, not an object). */
export function jsonObjectOf(segment: string): Record<string, unknown> | undefined {
  const bytes = bytesOf(segment);
  if (bytes === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(STRICT_UTF8.decode(bytes));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

// Refuses ill-formed UTF-8 and drops a leading byte order mark, as jose's decoding did.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** base64url's bytes (the alphabet is COMPACT_JWS's); 4n+1 characters can hold no whole byte. */
function bytesOf(segment: string): Buffer | undefined {
  return segment.length % 4 === 1 ? undefined : Buffer.from(segment, 'base64url');
}

interface VerifyWith {
  /** The digest node:crypto is given; null for Ed25519, which hashes internally. */
  digest: string | null;
  /** RFC 7518 section 3.4: an ECDSA signature is R || S, not node's default DER. */
  dsaEncoding?: 'ieee-p1363';
  /** Whether a WebCrypto key's algorithm is this alg's. */
  fitsCryptoKey(algorithm: Record<string, unknown>): boolean;
  fitsKeyObject(key: KeyObject): boolean;
}

const VERIFY_WITH: Record<SigningAlg, VerifyWith> = {
  ES256: {
    digest: 'sha256',
    dsaEncoding: 'ieee-p1363',
    fitsCryptoKey: (a) => a.name === 'ECDSA' && a.namedCurve === 'P-256',
    fitsKeyObject: (k) => k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1',
  },
  RS256: {
    digest: 'sha256',
    fitsCryptoKey: (a) =>
      a.name === 'RSASSA-PKCS1-v1_5' &&
      (a.hash as { name?: unknown } | undefined)?.name === 'SHA-256' &&
      (a.modulusLength as number) >= 2048,
    fitsKeyObject: (k) => k.asymmetricKeyType === 'rsa' && (k.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048,
  },
  EdDSA: {
    digest: null,
    fitsCryptoKey: (a) => a.name === 'Ed25519',
    fitsKeyObject: (k) => k.asymmetricKeyType === 'ed25519',
  },
};

/**
 * Each verification key as node:crypto sees it, with the alg it was found fit for: checked once
 * per key object (keys are immutable; `asymmetricKeyDetails` builds a new object on every read).
 */
const fitKeys = new WeakMap<object, { alg: SigningAlg; nodeKey: KeyObject }>();

function verifyKeyOf(key: unknown, alg: SigningAlg): KeyObject {
  if (typeof key !== 'object' || key === null) throw tokenError('invalid', 'no key object');
  const known = fitKeys.get(key);
  if (known?.alg === alg) return known.nodeKey;
  const how = VERIFY_WITH[alg];
  let nodeKey: KeyObject;
  // The global CryptoKey: node:crypto's webcrypto namespace does not export the class on Node 20.
  if (key instanceof CryptoKey) {
    if (
      key.type !== 'public' ||
      !key.usages.includes('verify') ||
      !how.fitsCryptoKey(key.algorithm as unknown as Record<string, unknown>)
    ) {
      throw tokenError('invalid', `the key is not a public ${alg} verification key`);
    }
    nodeKey = KeyObject.from(key);
  } else if (key instanceof KeyObject) {
    if (key.type !== 'public' || !how.fitsKeyObject(key)) throw tokenError('invalid', `the key is not a public ${alg} key`);
    nodeKey = key;
  } else {
    throw tokenError('invalid', 'the key is neither a CryptoKey nor a KeyObject');
  }
  fitKeys.set(key, { alg, nodeKey });
  return nodeKey;
}
