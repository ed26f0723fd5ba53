import { generateApiKey, parseApiKey, safeEqualHex, sha256Hex } from '../../auth/index.js';
import { findAppKey, type StoredKey } from '../../db/repositories/apps.js';
import type { Db } from '../../db/repositories/sql.js';

/** A new app key: the plaintext (shown once) and what is stored of it. */
export function newAppKey(): { plaintext: string; stored: StoredKey } {
  const key = generateApiKey('app');
  return { plaintext: key.plaintext, stored: { keyId: key.id, keyHash: key.hash, keyPrefix: key.displayPrefix } };
}

/**
 * The id of the active app owning this key, or undefined. The key's public id finds the row in
 * one index lookup; the hash of the whole key is then compared in constant time. A deactivated
 * or deleted app's key, and a key replaced by rotation, match nothing.
 */
export async function appForKey(db: Db, plaintext: string): Promise<string | undefined> {
  const parsed = parseApiKey(plaintext);
  if (!parsed || parsed.kind !== 'app') return undefined;
  const app = await findAppKey(db, parsed.id);
  if (!app || !app.isActive) return undefined;
  return safeEqualHex(sha256Hex(plaintext), app.keyHash) ? app.id : undefined;
}
