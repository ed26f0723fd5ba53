import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../../auth/index.js';

/**
 * A new OpenID Connect client secret: the plaintext (shown once) and the SHA-256 hex stored of it.
 * 256 random bits leave nothing to guess, so a plain hash is enough and lets client
 * authentication (domain/oidc/clients.ts) compare digests in constant time.
 */
export function newClientSecret(): { plaintext: string; hash: string } {
  const plaintext = randomBytes(32).toString('base64url');
  return { plaintext, hash: sha256Hex(plaintext) };
}
