import { advisoryLocks } from './advisory-locks.js';
import { AppError } from '../../errors/index.js';
import { grantColumns } from './grants.js';
import { one, rows, run, setClauses, uniqueViolation, type Db, type Page } from './sql.js';
import { identifiersJson, type IdentifierRecord, type IdentifierType } from './users.js';

/** A user as the Directory shows it: its row, identifiers (primary first) and global grants. */
export interface UserViewRow {
  id: string;
  legacyId: number;
  identifiers: IdentifierRecord[];
  roles: string[];
  scopes: string[];
  directScopes: string[];
  isActive: boolean;
  isAdmin: boolean;
  workspaceIds: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** A user's row and identifiers, without grants (the legacy surface shows no roles). */
export type UserBasics = Omit<UserViewRow, 'roles' | 'scopes' | 'workspaceIds'>;

const basicColumns = `u.id, u.number AS "legacyId", u.is_active AS "isActive", u.is_admin AS "isAdmin",
  u.scopes AS "directScopes", u.created_at AS "createdAt", u.updated_at AS "updatedAt", ${identifiersJson} AS identifiers`;

const viewColumns = `${basicColumns}, ${grantColumns(null)}`;

export interface UserFilter {
  /** Substring of any identifier, case-insensitive. */
  identifier?: string;
  /** Slug of a global role the user holds. */
  role?: string;
  isActive?: boolean;
}

/** `%`, `_` and `\` are LIKE's metacharacters; a filter matches them literally. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function whereOf(filter: UserFilter): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (filter.isActive !== undefined) {
    params.push(filter.isActive);
    clauses.push(`u.is_active = $${params.length}`);
  }
  if (filter.identifier) {
    // Identifiers are stored normalized (e-mail addresses and usernames in lower case, phones as
    // + and digits), so a lower-cased pattern matches regardless of case, without calling lower()
    // on every row (eight times slower on the embedded database at 100,000 users).
    params.push(likePattern(filter.identifier.toLowerCase()));
    clauses.push(`u.id IN (SELECT i.user_id FROM user_identifiers i WHERE i.value LIKE $${params.length})`);
  }
  if (filter.role) {
    params.push(filter.role);
    clauses.push(`u.id IN (SELECT ur.user_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                            WHERE r.slug = $${params.length} AND r.workspace_id IS NULL)`);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/**
 * One page of users in creation order, and how many match. The page is picked from the
 * (is_active, number) / number indexes alone, and only its rows are joined to their identifiers
 * and grants, so a late page costs an index walk, not 100,000 row builds.
 */
export async function listUserViews(db: Db, filter: UserFilter, page: Page): Promise<{ items: UserViewRow[]; total: number }> {
  const { where, params } = whereOf(filter);
  const n = params.length;
  const [items, count] = await Promise.all([
    rows<UserViewRow>(
      db,
      `WITH picked AS (SELECT u.number FROM users u ${where} ORDER BY u.number LIMIT $${n + 1} OFFSET $${n + 2})
       SELECT ${viewColumns} FROM picked p JOIN users u ON u.number = p.number ORDER BY u.number`,
      [...params, page.limit, page.offset],
    ),
    // Unfiltered, the count migration 0013 keeps: count(*) would read every user.
    where === ''
      ? one<{ total: number }>(db, 'SELECT n::int AS total FROM user_count', [], 'user_count')
      : one<{ total: number }>(db, `SELECT count(*)::int AS total FROM users u ${where}`, params),
  ]);
  return { items, total: count?.total ?? 0 };
}

/** A user with its grants in one round trip: global ones, plus the selected workspace's when given. */
export async function findUserView(db: Db, id: string, workspaceId?: string | null): Promise<UserViewRow | undefined> {
  // Named: GET /me's read, prepared once per PostgreSQL connection.
  if (!workspaceId) return one<UserViewRow>(db, `SELECT ${viewColumns} FROM users u WHERE u.id = $1`, [id], 'user_view');
  return one<UserViewRow>(
    db,
    `SELECT ${basicColumns}, ${grantColumns('$2')} FROM users u WHERE u.id = $1`,
    [id, workspaceId],
    'user_view_in_workspace',
  );
}

/** Every user, oldest first (the legacy list has no paging). */
export async function listUserBasics(db: Db): Promise<UserBasics[]> {
  return rows<UserBasics>(db, `SELECT ${basicColumns} FROM users u ORDER BY u.number`);
}

export async function findUserBasics(db: Db, id: string): Promise<UserBasics | undefined> {
  return one<UserBasics>(db, `SELECT ${basicColumns} FROM users u WHERE u.id = $1`, [id]);
}

/** The id of the user with this sequential number (the legacy routes' `id`). */
export async function findUserIdByNumber(db: Db, number: number): Promise<string | undefined> {
  return (await one<{ id: string }>(db, 'SELECT id FROM users WHERE number = $1', [number]))?.id;
}

/** Locks a user's row for the rest of the transaction; returns its id and flags, or undefined. */
export async function lockUser(
  tx: Db,
  by: { id: string } | { number: number },
): Promise<{ id: string; isAdmin: boolean; isActive: boolean } | undefined> {
  const [column, value] = 'id' in by ? ['id', by.id] : ['number', by.number];
  return one(tx, `SELECT id, is_admin AS "isAdmin", is_active AS "isActive" FROM users WHERE ${column} = $1 FOR UPDATE`, [value]);
}

export interface UserFieldChanges {
  isActive?: boolean;
  isAdmin?: boolean;
  scopes?: string[];
  passwordHash?: string;
}

/** Applies the given fields (and always bumps updated_at). */
export async function updateUserFields(tx: Db, id: string, changes: UserFieldChanges): Promise<void> {
  const params: unknown[] = [id];
  const sets = setClauses(params, {
    is_active: changes.isActive,
    is_admin: changes.isAdmin,
    scopes: changes.scopes,
    password_hash: changes.passwordHash,
  });
  await run(tx, `UPDATE users SET ${['updated_at = now()', ...sets].join(', ')} WHERE id = $1`, params);
}

/** Replaces the user's global roles. */
export async function setUserRoles(tx: Db, userId: string, roleIds: string[]): Promise<void> {
  await run(tx, 'DELETE FROM user_roles WHERE user_id = $1', [userId]);
  if (roleIds.length) {
    await run(tx, 'INSERT INTO user_roles (user_id, role_id) SELECT $1::uuid, unnest($2::uuid[])', [userId, roleIds]);
  }
}

export async function deleteUserRow(tx: Db, id: string): Promise<boolean> {
  return (await run(tx, 'DELETE FROM users WHERE id = $1', [id])).count > 0;
}

/** Whether, as this transaction sees it, an active administrator remains. */
export async function activeAdminExists(tx: Db): Promise<boolean> {
  return (await one(tx, 'SELECT 1 FROM users WHERE is_admin AND is_active LIMIT 1')) !== undefined;
}

export async function lockAdminGuard(tx: Db): Promise<void> {
  await run(tx, 'SELECT pg_advisory_xact_lock($1)', [advisoryLocks.lastAdminGuard]);
}

/**
 * Gives the user this identifier of this type: the first one of the type changes its value (and
 * loses `verified` when the value changes), or a new one is added (primary only when the user has
 * none). `null` removes every identifier of the type; another one then becomes primary.
 */
export async function setIdentifierOfType(tx: Db, userId: string, type: IdentifierType, value: string | null): Promise<void> {
  try {
    if (value === null) {
      await run(tx, 'DELETE FROM user_identifiers WHERE user_id = $1 AND type = $2', [userId, type]);
      await run(
        tx,
        `UPDATE user_identifiers SET is_primary = true
          WHERE id = (SELECT id FROM user_identifiers WHERE user_id = $1 ORDER BY created_at, value LIMIT 1)
            AND NOT EXISTS (SELECT 1 FROM user_identifiers WHERE user_id = $1 AND is_primary)`,
        [userId],
      );
      return;
    }
    const { count } = await run(
      tx,
      `UPDATE user_identifiers SET verified = verified AND value = $3, value = $3
        WHERE id = (SELECT id FROM user_identifiers WHERE user_id = $1 AND type = $2
                     ORDER BY is_primary DESC, created_at, value LIMIT 1)`,
      [userId, type, value],
    );
    if (count === 0) {
      await run(
        tx,
        `INSERT INTO user_identifiers (user_id, type, value, is_primary)
         VALUES ($1, $2, $3, NOT EXISTS (SELECT 1 FROM user_identifiers WHERE user_id = $1 AND is_primary))`,
        [userId, type, value],
      );
    }
  } catch (e) {
    if (uniqueViolation(e)) throw new AppError('IDENTIFIER_TAKEN');
    throw e;
  }
}

export async function countIdentifiers(tx: Db, userId: string): Promise<number> {
  return (await one<{ n: number }>(tx, 'SELECT count(*)::int AS n FROM user_identifiers WHERE user_id = $1', [userId]))?.n ?? 0;
}
