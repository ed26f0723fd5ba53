import { sha256Hex } from '../../auth/index.js';
import { AppError } from '../../errors/index.js';

/** An Ed25519 public key as a JWK: exactly the members RFC 8037 defines for it. */
export interface Ed25519Jwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
}

/** The DER start of every Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 key bytes follow it. */
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');

function invalid(message: string): AppError {
  return new AppError('INVALID_PUBLIC_KEY', message);
}

function rawKeyOf(text: string): Buffer {
  const trimmed = text.trim();
  if (/PRIVATE KEY/.test(trimmed)) throw invalid('That is a private key: register the public key only.');
  const pem = /^-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----$/.exec(trimmed);
  if (pem) {
    const der = Buffer.from(pem[1]!.replace(/\s+/g, ''), 'base64');
    if (der.length !== spkiPrefix.length + 32 || !der.subarray(0, spkiPrefix.length).equals(spkiPrefix)) {
      throw invalid('The PEM public key is not an Ed25519 key.');
    }
    return der.subarray(spkiPrefix.length);
  }
  if (!/^[A-Za-z0-9_+/-]+={0,2}$/.test(trimmed))
    throw invalid('public_key must be a PEM public key or the base64url of the 32 raw key bytes.');
  const raw = Buffer.from(trimmed.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
  if (raw.length !== 32) throw invalid('An Ed25519 public key is 32 bytes.');
  return raw;
}

function jwkOf(jwk: Record<string, unknown>): Ed25519Jwk {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') throw invalid('The JWK must have "kty": "OKP" and "crv": "Ed25519".');
  if ('d' in jwk) throw invalid('That is a private key: register the public key only.');
  if (typeof jwk.x !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(jwk.x) || Buffer.from(jwk.x, 'base64url').length !== 32) {
    throw invalid('The JWK\'s "x" must be the base64url of the 32 key bytes.');
  }
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
}

/**
 * An agent's public key from what the caller sent (a JWK, a PEM public key, or the raw key bytes
 * in base64url), with its key id: the RFC 7638 thumbprint, which the agent's assertions name as
 * `kid`. The same key always gets the same id.
 */
export function ed25519PublicKey(input: { jwk?: Record<string, unknown>; publicKey: string }): { jwk: Ed25519Jwk; kid: string } {
  const given = (input.jwk && Object.keys(input.jwk).length > 0 ? 1 : 0) + (input.publicKey.trim() ? 1 : 0);
  if (given !== 1) throw invalid('Send the key once: as "jwk" or as "public_key".');
  const jwk =
    input.jwk && Object.keys(input.jwk).length > 0
      ? jwkOf(input.jwk)
      : { kty: 'OKP' as const, crv: 'Ed25519' as const, x: rawKeyOf(input.publicKey).toString('base64url') };
  // RFC 7638: the required members, in lexicographic order, without whitespace.
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return { jwk, kid: Buffer.from(sha256Hex(canonical), 'hex').toString('base64url') };
}
