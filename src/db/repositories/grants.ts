import { one, type Db } from './sql.js';

/** What a user holds: role slugs and effective scopes (roles' scopes plus direct scopes). */
export interface Grants { roles: string[]; scopes: string[]; workspaceIds: string[] }

/**
 * The one query that decides what goes into a token's `roles` and `scopes`. Roles and workspaces
 * join in once the Directory has them; until then a user holds its direct scopes.
 */
export async function loadGrants(db: Db, userId: string, _workspaceId?: string): Promise<Grants> {
  const row = await one<{ scopes: string[] }>(db, 'SELECT scopes FROM users WHERE id = $1', [userId]);
  return { roles: [], scopes: [...new Set(row?.scopes ?? [])].sort(), workspaceIds: [] };
}

/** Whether the user belongs to the workspace (always false until workspaces exist). */
export async function isWorkspaceMember(_db: Db, _userId: string, _workspaceId: string): Promise<boolean> {
  return false;
}
