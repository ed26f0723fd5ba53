// Compact JWS signing with node:crypto key objects.
//
// jose 6 signs through WebCrypto only (a KeyObject is turned into a CryptoKey first), which costs
// about three times the CPU of node:crypto for one ES256 signature here (≈ 210 µs against 70 µs,
// most of it promise and DOMException glue), and every token the server issues is one signature.
// Signing is the simple half of JWS (our own header and claims in, no hostile input to parse), so
// it is done here; verification, which parses what callers send, stays with jose (tokens.ts).
import { KeyObject, sign } from 'node:crypto';
import type { KeyLike, SigningAlg } from './signing-keys.js';

interface SignWith {
  /** The digest node:crypto is given; null for Ed25519, which hashes internally. */
  digest: string | null;
  /** RFC 7518 section 3.4: an ECDSA signature is R || S, not node's default DER. */
  dsaEncoding?: 'ieee-p1363';
  /** RSA signing takes milliseconds: it runs on libuv's thread pool, not on the event loop. */
  offLoop: boolean;
  fits(key: KeyObject): boolean;
}

const SIGN_WITH: Record<SigningAlg, SignWith> = {
  ES256: {
    digest: 'sha256',
    dsaEncoding: 'ieee-p1363',
    offLoop: false,
    fits: (k) => k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1',
  },
  RS256: {
    digest: 'sha256',
    offLoop: true,
    fits: (k) => k.asymmetricKeyType === 'rsa' && (k.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048,
  },
  EdDSA: { digest: null, offLoop: false, fits: (k) => k.asymmetricKeyType === 'ed25519' },
};

/** Each signing key as node:crypto sees it, converted once (the key store keeps CryptoKeys). */
const nodeKeys = new WeakMap<object, KeyObject>();
/**
 * The alg each key was found fit for. Checked once per key and alg: `asymmetricKeyDetails` builds
 * a new object in C++ on every read.
 */
const fitFor = new WeakMap<KeyObject, SigningAlg>();

function nodeKeyOf(key: KeyLike, alg: SigningAlg): KeyObject {
  let nodeKey = key instanceof KeyObject ? key : nodeKeys.get(key);
  if (!nodeKey) {
    nodeKey = KeyObject.from(key as CryptoKey);
    nodeKeys.set(key, nodeKey);
  }
  if (fitFor.get(nodeKey) === alg) return nodeKey;
  // A key of another type would sign something no verifier accepts under this alg: refuse early.
  if (nodeKey.type !== 'private' || !SIGN_WITH[alg].fits(nodeKey)) throw new Error(`the signing key is not a private ${alg} key`);
  fitFor.set(nodeKey, alg);
  return nodeKey;
}

/** The encoded protected headers in use (a handful: one per signing key), by their JSON. */
const encodedHeaders = new Map<string, string>();

function encodedHeader(header: Record<string, unknown>): string {
  const json = JSON.stringify(header);
  let encoded = encodedHeaders.get(json);
  if (encoded === undefined) {
    encoded = base64url(json);
    // Bounded whatever callers pass: headers are ours, but a cache must not grow without end.
    if (encodedHeaders.size >= 64) encodedHeaders.clear();
    encodedHeaders.set(json, encoded);
  }
  return encoded;
}

const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** `header.payload.signature`, the header and payload serialized exactly as given. */
export async function signCompact(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  alg: SigningAlg,
  key: KeyLike,
): Promise<string> {
  const how = SIGN_WITH[alg];
  const nodeKey = nodeKeyOf(key, alg);
  const input = `${encodedHeader(header)}.${base64url(JSON.stringify(payload))}`;
  const data = Buffer.from(input, 'latin1');
  const options = how.dsaEncoding ? { key: nodeKey, dsaEncoding: how.dsaEncoding } : nodeKey;
  const signature = how.offLoop
    ? await new Promise<Buffer>((resolve, reject) => sign(how.digest, data, options, (err, sig) => (err ? reject(err) : resolve(sig))))
    : sign(how.digest, data, options);
  return `${input}.${signature.toString('base64url')}`;
}
