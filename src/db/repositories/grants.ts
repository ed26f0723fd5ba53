import { one, type Db } from './sql.js';

/** What a user holds: role slugs and effective scopes (roles' scopes plus direct scopes). */
export interface Grants {
  roles: string[];
  scopes: string[];
  workspaceIds: string[];
}

/**
 * The one rule that decides what goes into a token's (and a user view's) `roles` and `scopes`,
 * as SQL columns over a user row `u`: the roles are the user's global roles plus, when a
 * workspace is selected, its roles in that workspace (held only while a member); the scopes are
 * the union of those roles' scopes and the user's direct scopes; the workspaces are the ones the
 * user belongs to. Sorted in code-point order (COLLATE "C") so every database answers alike.
 */
export function grantColumns(workspaceParam: string | null): string {
  const workspaceRoles =
    workspaceParam === null
      ? ''
      : `
          UNION ALL
          SELECT r.slug, r.scopes FROM workspace_member_roles m JOIN roles r ON r.id = m.role_id
           WHERE m.user_id = u.id AND m.workspace_id = ${workspaceParam}::uuid`;
  const held = `(SELECT r.slug, r.scopes FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id${workspaceRoles}) held`;
  return `
    ARRAY(SELECT DISTINCT held.slug COLLATE "C" FROM ${held} ORDER BY 1) AS roles,
    ARRAY(SELECT DISTINCT s.scope COLLATE "C"
            FROM (SELECT unnest(held.scopes) AS scope FROM ${held}
                  UNION ALL SELECT unnest(u.scopes)) s
           ORDER BY 1) AS scopes,
    ARRAY(SELECT wm.workspace_id::text FROM workspace_members wm WHERE wm.user_id = u.id
           ORDER BY wm.created_at, wm.workspace_id) AS "workspaceIds"`;
}

/** The grants of one user, with a workspace selected (a login's `workspace_id`) or none. */
export async function loadGrants(db: Db, userId: string, workspaceId?: string): Promise<Grants> {
  const row = workspaceId
    ? await one<Grants>(db, `SELECT ${grantColumns('$2')} FROM users u WHERE u.id = $1`, [userId, workspaceId])
    : await one<Grants>(db, `SELECT ${grantColumns(null)} FROM users u WHERE u.id = $1`, [userId]);
  return row ?? { roles: [], scopes: [], workspaceIds: [] };
}

/** Whether the user belongs to the workspace. */
export async function isWorkspaceMember(db: Db, userId: string, workspaceId: string): Promise<boolean> {
  return (await one(db, 'SELECT 1 FROM workspace_members WHERE workspace_id = $1 AND user_id = $2', [workspaceId, userId])) !== undefined;
}

/**
 * Everything a user can hold, whatever workspace it selects: the administrator flag, its direct
 * scopes and the scopes of all its roles (global and in every workspace). This is the bound the
 * rule of who may act on whom compares against, so it errs on the side of more.
 */
export async function loadReachableGrants(db: Db, userId: string): Promise<{ isAdmin: boolean; scopes: string[] } | undefined> {
  return one<{ isAdmin: boolean; scopes: string[] }>(
    db,
    `SELECT u.is_admin AS "isAdmin",
            ARRAY(SELECT DISTINCT s.scope COLLATE "C" FROM (
                    SELECT unnest(u.scopes) AS scope
                    UNION ALL SELECT unnest(r.scopes) FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id
                    UNION ALL SELECT unnest(r.scopes) FROM workspace_member_roles m JOIN roles r ON r.id = m.role_id WHERE m.user_id = u.id
                  ) s ORDER BY 1) AS scopes
       FROM users u WHERE u.id = $1`,
    [userId],
  );
}
