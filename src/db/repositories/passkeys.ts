import { one, rows, run, type Db } from './sql.js';

export interface PasskeyRecord {
  id: string;
  userId: string;
  credentialId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  name: string;
  deviceType: string;
  backedUp: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

const columns = `id, user_id AS "userId", credential_id AS "credentialId", public_key AS "publicKey", counter::float8 AS counter,
  transports, name, device_type AS "deviceType", backed_up AS "backedUp", created_at AS "createdAt", last_used_at AS "lastUsedAt"`;

export function listPasskeys(db: Db, userId: string): Promise<PasskeyRecord[]> {
  return rows<PasskeyRecord>(db, `SELECT ${columns} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id`, [userId]);
}

export function findPasskeyByCredentialId(db: Db, credentialId: string): Promise<PasskeyRecord | undefined> {
  return one<PasskeyRecord>(db, `SELECT ${columns} FROM passkeys WHERE credential_id = $1`, [credentialId]);
}

/** A passkey as registered: the row less what the database fills in. */
export type NewPasskey = Omit<PasskeyRecord, 'id' | 'createdAt' | 'lastUsedAt'>;

/** Undefined when the credential is already registered (to anyone). */
export async function insertPasskey(db: Db, p: NewPasskey): Promise<PasskeyRecord | undefined> {
  return one<PasskeyRecord>(
    db,
    `INSERT INTO passkeys (user_id, credential_id, public_key, counter, transports, name, device_type, backed_up)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (credential_id) DO NOTHING RETURNING ${columns}`,
    [p.userId, p.credentialId, Buffer.from(p.publicKey), p.counter, p.transports, p.name, p.deviceType, p.backedUp],
  );
}

/**
 * Records a use: the signature counter moves only forward (or stays 0 for an authenticator that
 * keeps none), in one conditional UPDATE, so two requests replaying one counter value cannot both
 * pass. Returns whether it was recorded.
 */
export async function recordPasskeyUse(db: Db, id: string, newCounter: number): Promise<boolean> {
  const { count } = await run(
    db,
    `UPDATE passkeys SET counter = $2, last_used_at = now()
      WHERE id = $1 AND (counter < $2 OR ($2 = 0 AND counter = 0))`,
    [id, newCounter],
  );
  return count > 0;
}

export function renamePasskey(db: Db, userId: string, id: string, name: string): Promise<PasskeyRecord | undefined> {
  return one<PasskeyRecord>(db, `UPDATE passkeys SET name = $3 WHERE id = $1 AND user_id = $2 RETURNING ${columns}`, [id, userId, name]);
}

export async function deletePasskey(db: Db, userId: string, id: string): Promise<boolean> {
  return (await run(db, 'DELETE FROM passkeys WHERE id = $1 AND user_id = $2', [id, userId])).count > 0;
}

export async function deletePasskeys(db: Db, userId: string): Promise<number> {
  return (await run(db, 'DELETE FROM passkeys WHERE user_id = $1', [userId])).count;
}
