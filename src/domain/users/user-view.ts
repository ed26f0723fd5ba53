import type { Db } from '../../db/repositories/sql.js';
import { loadGrants } from '../../db/repositories/grants.js';
import type { UserViewRow } from '../../db/repositories/directory-users.js';
import type { UserRecord } from '../../db/repositories/users.js';

/** A user as every surface shows it: identifiers (primary first) and what it holds. */
export type UserView = UserViewRow;

export async function viewUser(db: Db, user: UserRecord, workspaceId?: string | null): Promise<UserView> {
  const grants = await loadGrants(db, user.id, workspaceId ?? undefined);
  return {
    id: user.id,
    legacyId: user.number,
    identifiers: [...user.identifiers].sort((a, b) => Number(b.isPrimary) - Number(a.isPrimary)),
    roles: grants.roles,
    scopes: grants.scopes,
    directScopes: user.scopes,
    isActive: user.isActive,
    isAdmin: user.isAdmin,
    workspaceIds: grants.workspaceIds,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}
