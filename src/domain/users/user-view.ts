import type { Db } from '../../db/repositories/sql.js';
import { loadGrants } from '../../db/repositories/grants.js';
import type { IdentifierRecord, UserRecord } from '../../db/repositories/users.js';

/** A user as every surface shows it: identifiers (primary first) and what it holds. */
export interface UserView {
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
