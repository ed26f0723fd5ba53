import { AppError } from '../../errors/index.js';
import { foreignKeyViolation } from './foreign-key.js';
import { one, rows, run, setClauses, uniqueViolation, type Db, type Page } from './sql.js';

export interface RoleRecord {
  id: string;
  workspaceId: string | null;
  name: string;
  slug: string;
  description: string;
  scopes: string[];
  createdAt: Date;
  updatedAt: Date;
}

const columns = `id, workspace_id AS "workspaceId", name, slug, description, scopes,
  created_at AS "createdAt", updated_at AS "updatedAt"`;

export interface NewRole {
  workspaceId: string | null;
  name: string;
  slug: string;
  description: string;
  scopes: string[];
}

export async function insertRole(db: Db, role: NewRole): Promise<RoleRecord> {
  try {
    return (await one<RoleRecord>(
      db,
      `INSERT INTO roles (workspace_id, name, slug, description, scopes) VALUES ($1, $2, $3, $4, $5) RETURNING ${columns}`,
      [role.workspaceId, role.name, role.slug, role.description, role.scopes],
    ))!;
  } catch (e) {
    if (uniqueViolation(e)) throw new AppError('ROLE_SLUG_TAKEN');
    if (foreignKeyViolation(e)) throw new AppError('WORKSPACE_NOT_FOUND');
    throw e;
  }
}

export function findRoleById(db: Db, id: string): Promise<RoleRecord | undefined> {
  return one<RoleRecord>(db, `SELECT ${columns} FROM roles WHERE id = $1`, [id]);
}

export function findGlobalRoleBySlug(db: Db, slug: string): Promise<RoleRecord | undefined> {
  return one<RoleRecord>(db, `SELECT ${columns} FROM roles WHERE slug = $1 AND workspace_id IS NULL`, [slug]);
}

/** Roles in creation order: all, or only one workspace's. */
export async function listRoles(db: Db, filter: { workspaceId?: string }, page: Page): Promise<{ items: RoleRecord[]; total: number }> {
  const where = filter.workspaceId ? 'WHERE workspace_id = $1' : '';
  const params = filter.workspaceId ? [filter.workspaceId] : [];
  const n = params.length;
  const [items, count] = await Promise.all([
    rows<RoleRecord>(db, `SELECT ${columns} FROM roles ${where} ORDER BY created_at, id LIMIT $${n + 1} OFFSET $${n + 2}`, [
      ...params,
      page.limit,
      page.offset,
    ]),
    one<{ total: number }>(db, `SELECT count(*)::int AS total FROM roles ${where}`, params),
  ]);
  return { items, total: count?.total ?? 0 };
}

export interface RoleChanges {
  name?: string;
  description?: string;
  scopes?: string[];
}

export async function updateRole(db: Db, id: string, changes: RoleChanges): Promise<RoleRecord | undefined> {
  const params: unknown[] = [id];
  const sets = [
    'updated_at = now()',
    ...setClauses(params, { name: changes.name, description: changes.description, scopes: changes.scopes }),
  ];
  return (await run<RoleRecord>(db, `UPDATE roles SET ${sets.join(', ')} WHERE id = $1 RETURNING ${columns}`, params)).rows[0];
}

/** Deletes a role; its holders lose it with it (the holder tables cascade). */
export async function deleteRole(db: Db, id: string): Promise<boolean> {
  return (await run(db, 'DELETE FROM roles WHERE id = $1', [id])).count > 0;
}

/**
 * The roles with these slugs, global (workspaceId null) or of one workspace, locked against
 * deletion until the transaction ends, so granting them cannot race a DeleteRole.
 */
export function lockRolesBySlug(tx: Db, slugs: string[], workspaceId: string | null): Promise<RoleRecord[]> {
  return workspaceId === null
    ? rows<RoleRecord>(tx, `SELECT ${columns} FROM roles WHERE workspace_id IS NULL AND slug = ANY($1::text[]) FOR KEY SHARE`, [slugs])
    : rows<RoleRecord>(tx, `SELECT ${columns} FROM roles WHERE workspace_id = $2 AND slug = ANY($1::text[]) FOR KEY SHARE`, [
        slugs,
        workspaceId,
      ]);
}
