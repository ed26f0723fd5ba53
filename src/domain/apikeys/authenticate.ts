import type { DataSource } from 'typeorm';
import type { Principal } from '../principal.js';
import { resolveApiKey } from './key-lookup.js';

/**
 * Turns a presented API key into its owner's principal, limited to the key's scopes (and to what
 * the owner still holds); throws AppError('INVALID_API_KEY') for anything else.
 */
export async function authenticateApiKey(ds: DataSource, key: string): Promise<Principal> {
  const k = await resolveApiKey(ds, key);
  return { kind: k.kind, id: k.ownerId, isAdmin: k.isAdmin, scopes: k.scopes, roles: k.roles, via: 'api_key', apiKeyId: k.keyId };
}
