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

const columns = `kid, alg, public_jwk AS "publicJwk", private_key_encrypted AS "privateKeyEncrypted",
  created_at AS "createdAt", activates_at AS "activatesAt", retired_at AS "retiredAt", unpublish_at AS "unpublishAt"`;

/** Keys still published (they may verify a live token), newest first. */
export async function listPublishedKeys(db: Db): Promise<SigningKeyRecord[]> {
  return rows<SigningKeyRecord>(
    db,
    `SELECT ${columns} FROM signing_keys WHERE unpublish_at IS NULL OR unpublish_at > now() ORDER BY activates_at DESC, created_at DESC`,
  );
}

export async function insertSigningKey(db: Db, key: Omit<SigningKeyRecord, 'createdAt' | 'retiredAt' | 'unpublishAt'>): Promise<void> {
  await run(db, `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_encrypted, activates_at) VALUES ($1, $2, $3, $4, $5)`, [
    key.kid,
    key.alg,
    JSON.stringify(key.publicJwk),
    key.privateKeyEncrypted,
    key.activatesAt,
  ]);
}

/** Schedules every key that is not yet retired to stop signing at `at` and leave the JWKS at `unpublishAt`. */
export async function retireKeysBefore(db: Db, exceptKid: string, at: Date, unpublishAt: Date): Promise<void> {
  await run(db, `UPDATE signing_keys SET retired_at = $2, unpublish_at = $3 WHERE kid <> $1 AND (retired_at IS NULL OR retired_at > $2)`, [
    exceptKid,
    at,
    unpublishAt,
  ]);
}

const keyLockKey = 7_134_228_002;

/** Serializes key creation across server instances (inside the caller's transaction). */
export async function lockSigningKeys(tx: Db): Promise<void> {
  await run(tx, 'SELECT pg_advisory_xact_lock($1)', [keyLockKey]);
}
