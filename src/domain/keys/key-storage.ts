import type { NewSigningKey, SigningKeyRecord } from '../../db/repositories/signing-keys.js';

/** The stored keys, read or changed: what the key store needs of storage. */
export interface SigningKeyRows {
  /** The keys whose unpublish time is not set or after `at`, in any order. */
  published(at: Date): Promise<SigningKeyRecord[]>;
  insert(key: NewSigningKey): Promise<void>;
  /** Sets when a key stops signing and when it leaves the JWKS. */
  retire(kid: string, retiredAt: Date, unpublishAt: Date): Promise<void>;
}

/**
 * The key store's storage contract (implemented for PostgreSQL by db/repositories/signing-keys.ts).
 * `exclusively` runs a change of the key set alone, across server instances, and all or nothing.
 * A fake for tests is an array and a filter: `exclusively` just calls `work` with itself.
 */
export interface SigningKeyStorage extends SigningKeyRows {
  exclusively<T>(work: (keys: SigningKeyRows) => Promise<T>): Promise<T>;
}
