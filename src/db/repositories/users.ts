import { advisoryLocks } from './advisory-locks.js';
import { run, one, uniqueViolation, type Db } from './sql.js';
import { AppError } from '../../errors/index.js';

export type IdentifierType = 'email' | 'phone' | 'username';

export interface IdentifierRecord {
  type: IdentifierType;
  value: string;
  verified: boolean;
  isPrimary: boolean;
}

export interface UserRecord {
  id: string;
  number: number;
  passwordHash: string | null;
  isActive: boolean;
  isAdmin: boolean;
  scopes: string[];
  createdAt: Date;
  updatedAt: Date;
  identifiers: IdentifierRecord[];
}

const userColumns = `u.id, u.number, u.password_hash AS "passwordHash", u.is_active AS "isActive",
  u.is_admin AS "isAdmin", u.scopes, u.created_at AS "createdAt", u.updated_at AS "updatedAt"`;

/** A user's identifiers (primary first) as one JSON column of a query over `users u`. */
export const identifiersJson = `COALESCE((
    SELECT json_agg(json_build_object('type', i.type, 'value', i.value, 'verified', i.verified, 'isPrimary', i.is_primary)
                    ORDER BY i.is_primary DESC, i.created_at, i.value)
      FROM user_identifiers i WHERE i.user_id = u.id), '[]'::json)`;

/** The user columns plus its identifiers: one round trip. */
const userWithIdentifiers = `SELECT ${userColumns}, ${identifiersJson} AS identifiers FROM users u`;

export async function findUserById(db: Db, id: string): Promise<UserRecord | undefined> {
  return one<UserRecord>(db, `${userWithIdentifiers} WHERE u.id = $1`, [id]);
}

export async function findUserByIdentifier(db: Db, type: IdentifierType, value: string): Promise<UserRecord | undefined> {
  return findUserByAnyIdentifier(db, [{ type, value }]);
}

/**
 * Finds a user by any of several readings of an identifier (the legacy routes take a "username"
 * that may be an e-mail address), in one round trip; the first reading that matches wins.
 */
export async function findUserByAnyIdentifier(db: Db, values: { type: IdentifierType; value: string }[]): Promise<UserRecord | undefined> {
  if (values.length === 0) return undefined;
  return one<UserRecord>(
    db,
    `${userWithIdentifiers}
       JOIN (SELECT m.user_id, c.ord FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(type, value, ord)
               JOIN user_identifiers m ON m.type = c.type AND m.value = c.value) hit ON hit.user_id = u.id
      ORDER BY hit.ord LIMIT 1`,
    [values.map((v) => v.type), values.map((v) => v.value)],
    'user_by_identifiers',
  );
}

export interface NewUser {
  identifiers: { type: IdentifierType; value: string; verified?: boolean }[];
  passwordHash: string | null;
  isAdmin?: boolean;
  isActive?: boolean;
  scopes?: string[];
  /** When the system has no user yet, make this one the administrator. */
  bootstrapAdmin: boolean;
}

/** Inserts a user with its identifiers; must run inside a transaction (the caller's). */
export async function insertUser(tx: Db, input: NewUser): Promise<UserRecord> {
  let isAdmin = input.isAdmin ?? false;
  if (input.bootstrapAdmin) {
    await run(tx, 'SELECT pg_advisory_xact_lock($1)', [advisoryLocks.bootstrapAdmin]);
    const any = await one(tx, 'SELECT 1 FROM users LIMIT 1');
    if (!any) isAdmin = true;
  }
  const user = await one<{ id: string }>(
    tx,
    `INSERT INTO users (password_hash, is_admin, is_active, scopes) VALUES ($1, $2, $3, $4) RETURNING id`,
    [input.passwordHash, isAdmin, input.isActive ?? true, input.scopes ?? []],
  );
  try {
    for (const [i, identifier] of input.identifiers.entries()) {
      await run(tx, `INSERT INTO user_identifiers (user_id, type, value, verified, is_primary) VALUES ($1, $2, $3, $4, $5)`, [
        user!.id,
        identifier.type,
        identifier.value,
        identifier.verified ?? false,
        i === 0,
      ]);
    }
  } catch (e) {
    if (uniqueViolation(e)) throw new AppError('IDENTIFIER_TAKEN');
    throw e;
  }
  return (await findUserById(tx, user!.id))!;
}

export async function updatePasswordHash(db: Db, userId: string, hash: string): Promise<void> {
  await run(db, 'UPDATE users SET password_hash = $2 WHERE id = $1', [userId, hash]);
}

/** Whether a user exists and may act: checked on every authenticated call. */
export async function userStanding(db: Db, userId: string): Promise<{ isActive: boolean; isAdmin: boolean } | undefined> {
  return one(db, 'SELECT is_active AS "isActive", is_admin AS "isAdmin" FROM users WHERE id = $1', [userId]);
}
