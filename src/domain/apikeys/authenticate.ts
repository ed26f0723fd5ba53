import type { DataSource } from 'typeorm';
import { AppError } from '../../errors/index.js';
import type { Principal } from '../principal.js';

/** Turns a presented API key into its owner's principal, limited to the key's scopes. */
export async function authenticateApiKey(_ds: DataSource, _key: string): Promise<Principal> {
  throw new AppError('INVALID_API_KEY');
}
