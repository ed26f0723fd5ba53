import { advisoryLocks } from './advisory-locks.js';
import { DataSource } from 'typeorm';
import type { JWK } from '../../auth/index.js';
import { run, rows, type Db } from './sql.js';

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  publicJwk: JWK;
  privateKeyEncrypted: string;
  createdAt: Date;
  activatesAt: Date;
  retiredAt: Date | null;
  unpublishAt: Date | null;
}

export type NewSigningKey = Omit<SigningKeyRecord, 'createdAt' | 'retiredAt' | 'unpublishAt'>;

const columns = `kid, alg, public_jwk AS "publicJwk", private_key_encrypted AS "privateKeyEncrypted",
  created_at AS "createdAt", activates_at AS "activatesAt", retired_at AS "retiredAt", unpublish_at AS "unpublishAt"`;

/** The keys still published at `at` (no unpublish time, or a later one), in no particular order. */
export async function listPublishedKeys(db: Db, at: Date = new Date()): Promise<SigningKeyRecord[]> {
  return rows<SigningKeyRecord>(db, `SELECT ${columns} FROM signing_keys WHERE unpublish_at IS NULL OR unpublish_at > $1`, [at]);
}

/**
 * The signing_keys table as the key store's storage (domain/keys/key-storage.ts). Which key signs
 * and which retire when is the domain's; this file keeps the rows, and makes a change of the key
 * set one transaction under an advisory lock, so two instances starting at once do not both
 * create a first key.
 */
export class SqlSigningKeys {
  constructor(private readonly db: Db) {}

  published(at: Date): Promise<SigningKeyRecord[]> {
    return listPublishedKeys(this.db, at);
  }

  async insert(key: NewSigningKey): Promise<void> {
    await run(this.db, `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_encrypted, activates_at) VALUES ($1, $2, $3, $4, $5)`, [
      key.kid,
      key.alg,
      JSON.stringify(key.publicJwk),
      key.privateKeyEncrypted,
      key.activatesAt,
    ]);
  }

  async retire(kid: string, retiredAt: Date, unpublishAt: Date): Promise<void> {
    await run(this.db, `UPDATE signing_keys SET retired_at = $2, unpublish_at = $3 WHERE kid = $1`, [kid, retiredAt, unpublishAt]);
  }

  exclusively<T>(work: (keys: SqlSigningKeys) => Promise<T>): Promise<T> {
    if (!(this.db instanceof DataSource)) throw new Error('a key-set change opens its own transaction');
    return this.db.transaction(async (tx) => {
      await run(tx, 'SELECT pg_advisory_xact_lock($1)', [advisoryLocks.signingKeys]);
      return work(new SqlSigningKeys(tx));
    });
  }
}
