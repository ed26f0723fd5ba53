import { AppError } from '../../errors/index.js';
import { foreignKeyViolation } from './foreign-key.js';
import { one, rows, run, setClauses, uniqueViolation, type Db, type Page } from './sql.js';

export interface WorkspaceRecord {
  id: string;
  name: string;
  slug: string;
  description: string;
  ownerId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface MemberRecord {
  workspaceId: string;
  userId: string;
  roles: string[];
  isOwner: boolean;
  createdAt: Date;
}

const columns = `w.id, w.name, w.slug, w.description, w.owner_id AS "ownerId", w.created_at AS "createdAt", w.updated_at AS "updatedAt"`;

const memberColumns = `m.workspace_id AS "workspaceId", m.user_id AS "userId", m.is_owner AS "isOwner", m.created_at AS "createdAt",
  ARRAY(SELECT r.slug COLLATE "C" FROM workspace_member_roles mr JOIN roles r ON r.id = mr.role_id
         WHERE mr.workspace_id = m.workspace_id AND mr.user_id = m.user_id ORDER BY 1) AS roles`;

/** A workspace named by id or by slug. */
export type WorkspaceRef = { id: string } | { slug: string };

function refWhere(ref: WorkspaceRef): [string, string] {
  return 'id' in ref ? ['w.id = $1', ref.id] : ['w.slug = $1', ref.slug];
}

export async function insertWorkspace(
  tx: Db,
  w: { name: string; slug: string; description: string; ownerId: string | null },
): Promise<WorkspaceRecord> {
  try {
    return (await one<WorkspaceRecord>(
      tx,
      `INSERT INTO workspaces AS w (name, slug, description, owner_id) VALUES ($1, $2, $3, $4) RETURNING ${columns}`,
      [w.name, w.slug, w.description, w.ownerId],
    ))!;
  } catch (e) {
    if (uniqueViolation(e)) throw new AppError('WORKSPACE_SLUG_TAKEN');
    throw e;
  }
}

export function findWorkspace(db: Db, ref: WorkspaceRef): Promise<WorkspaceRecord | undefined> {
  const [where, value] = refWhere(ref);
  return one<WorkspaceRecord>(db, `SELECT ${columns} FROM workspaces w WHERE ${where}`, [value]);
}

/** The workspace and the user's membership in it, in one query; undefined when not a member. */
export async function findMembership(
  db: Db,
  ref: WorkspaceRef,
  userId: string,
): Promise<{ workspace: WorkspaceRecord; isOwner: boolean } | undefined> {
  const [where, value] = refWhere(ref);
  const row = await one<WorkspaceRecord & { isOwner: boolean }>(
    db,
    `SELECT ${columns}, m.is_owner AS "isOwner" FROM workspaces w
       JOIN workspace_members m ON m.workspace_id = w.id AND m.user_id = $2 WHERE ${where}`,
    [value, userId],
  );
  if (!row) return undefined;
  const { isOwner, ...workspace } = row;
  return { workspace, isOwner };
}

/** Workspaces in creation order: all, or only those the user belongs to. */
export async function listWorkspaces(
  db: Db,
  filter: { memberId?: string },
  page: Page,
): Promise<{ items: WorkspaceRecord[]; total: number }> {
  const where = filter.memberId ? 'WHERE w.id IN (SELECT workspace_id FROM workspace_members WHERE user_id = $1)' : '';
  const params = filter.memberId ? [filter.memberId] : [];
  const n = params.length;
  const [items, count] = await Promise.all([
    rows<WorkspaceRecord>(db, `SELECT ${columns} FROM workspaces w ${where} ORDER BY w.created_at, w.id LIMIT $${n + 1} OFFSET $${n + 2}`, [
      ...params,
      page.limit,
      page.offset,
    ]),
    one<{ total: number }>(db, `SELECT count(*)::int AS total FROM workspaces w ${where}`, params),
  ]);
  return { items, total: count?.total ?? 0 };
}

export async function updateWorkspace(
  db: Db,
  id: string,
  changes: { name?: string; slug?: string; description?: string },
): Promise<WorkspaceRecord | undefined> {
  const params: unknown[] = [id];
  const sets = ['updated_at = now()', ...setClauses(params, { name: changes.name, slug: changes.slug, description: changes.description })];
  try {
    return (await run<WorkspaceRecord>(db, `UPDATE workspaces AS w SET ${sets.join(', ')} WHERE w.id = $1 RETURNING ${columns}`, params))
      .rows[0];
  } catch (e) {
    if (uniqueViolation(e)) throw new AppError('WORKSPACE_SLUG_TAKEN');
    throw e;
  }
}

/** Deletes a workspace; its roles, memberships and their roles go with it (cascades). */
export async function deleteWorkspace(db: Db, id: string): Promise<boolean> {
  return (await run(db, 'DELETE FROM workspaces WHERE id = $1', [id])).count > 0;
}

/** Adds a membership; throws ALREADY_MEMBER or USER_NOT_FOUND. */
export async function insertMember(tx: Db, workspaceId: string, userId: string, isOwner: boolean): Promise<void> {
  try {
    await run(tx, 'INSERT INTO workspace_members (workspace_id, user_id, is_owner) VALUES ($1, $2, $3)', [workspaceId, userId, isOwner]);
  } catch (e) {
    if (uniqueViolation(e)) throw new AppError('ALREADY_MEMBER');
    if (foreignKeyViolation(e)) throw new AppError('USER_NOT_FOUND');
    throw e;
  }
}

/** Locks a membership for the rest of the transaction; false when there is none. */
export async function lockMember(tx: Db, workspaceId: string, userId: string): Promise<boolean> {
  return (
    (await one(tx, 'SELECT 1 FROM workspace_members WHERE workspace_id = $1 AND user_id = $2 FOR UPDATE', [workspaceId, userId])) !==
    undefined
  );
}

/** Replaces a member's workspace roles. */
export async function setMemberRoles(tx: Db, workspaceId: string, userId: string, roleIds: string[]): Promise<void> {
  await run(tx, 'DELETE FROM workspace_member_roles WHERE workspace_id = $1 AND user_id = $2', [workspaceId, userId]);
  if (roleIds.length) {
    await run(tx, 'INSERT INTO workspace_member_roles (workspace_id, user_id, role_id) SELECT $1::uuid, $2::uuid, unnest($3::uuid[])', [
      workspaceId,
      userId,
      roleIds,
    ]);
  }
}

export function findMember(db: Db, workspaceId: string, userId: string): Promise<MemberRecord | undefined> {
  return one<MemberRecord>(db, `SELECT ${memberColumns} FROM workspace_members m WHERE m.workspace_id = $1 AND m.user_id = $2`, [
    workspaceId,
    userId,
  ]);
}

/** Members in the order they joined. */
export async function listMembers(db: Db, workspaceId: string, page: Page): Promise<{ items: MemberRecord[]; total: number }> {
  const [items, count] = await Promise.all([
    rows<MemberRecord>(
      db,
      `SELECT ${memberColumns} FROM workspace_members m WHERE m.workspace_id = $1 ORDER BY m.created_at, m.user_id LIMIT $2 OFFSET $3`,
      [workspaceId, page.limit, page.offset],
    ),
    one<{ total: number }>(db, 'SELECT count(*)::int AS total FROM workspace_members WHERE workspace_id = $1', [workspaceId]),
  ]);
  return { items, total: count?.total ?? 0 };
}

/** Removes a membership and, by cascade, the member's roles in the workspace. */
export async function deleteMember(db: Db, workspaceId: string, userId: string): Promise<boolean> {
  return (await run(db, 'DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2', [workspaceId, userId])).count > 0;
}
