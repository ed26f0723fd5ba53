// A bounded memo of JWS signatures already verified, so a client presenting the same access
// token on every call pays for one ES256/RS256/EdDSA verification, not one per call (about
// 170 µs of CPU each through WebCrypto here, the largest single cost of an authenticated read).
//
// What it may and may not skip: a signature is a pure function of the token's bytes and the key,
// so a hit needs the very same token string, verified under the same options, and the key the
// resolver returns now must be the same key object that verified it (a removed or reloaded key
// misses). Time moves on, so exp and nbf are checked again on every hit; anything else about the
// token (its session, its agent, revocation) is the caller's, checked on every call as before.
import { inTimeWindow } from './jwt-claims.js';
import type { KeyLike } from './signing-keys.js';

interface Entry {
  options: string;
  /** The token's protected header's kid and alg (what the key resolver is asked on a hit). */
  kid: string;
  alg: string;
  key: KeyLike;
  payload: Record<string, unknown>;
}

export class VerifiedTokens {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = 4096) {}

  /** The kid and alg of a token verified before (to resolve its key again), or undefined. */
  header(token: string): { kid: string; alg: string } | undefined {
    return this.entries.get(token);
  }

  /** The payload of `token` if it was verified under `options` with `key` and is still in its time window. */
  get(token: string, options: string, key: KeyLike | undefined, toleranceSec: number, nowMs: number): Record<string, unknown> | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.options !== options || entry.key !== key || !inTimeWindow(entry.payload, toleranceSec, nowMs)) {
      this.entries.delete(token);
      return undefined;
    }
    // A copy: callers own what they get back, the memo's stays as verified.
    return copyJson(entry.payload) as Record<string, unknown>;
  }

  set(token: string, options: string, header: { kid: string; alg: string }, key: KeyLike, payload: Record<string, unknown>): void {
    if (this.entries.size >= this.capacity) {
      // Oldest first (Map keeps insertion order): bounded memory whatever clients send.
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(token, { options, kid: header.kid, alg: header.alg, key, payload: copyJson(payload) as Record<string, unknown> });
  }
}

/**
 * A deep copy of a JWT payload, which is JSON (it was parsed from the token): plain objects,
 * arrays and primitives only. A few times cheaper than structuredClone, which serializes.
 */
function copyJson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copyJson((value as Record<string, unknown>)[key]);
  return out;
}
