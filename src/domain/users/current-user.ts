import type { DataSource } from 'typeorm';
import { findUserView } from '../../db/repositories/directory-users.js';
import { AppError } from '../../errors/index.js';
import { cachedStanding } from '../auth/standing-cache.js';
import type { Principal } from '../principal.js';
import type { UserView } from './user-view.js';

/**
 * The calling user as GET /me shows it: its row, identifiers and grants as of now (with the
 * token's workspace's roles when it selected one). Kept by the revocation cache (standing-cache.ts)
 * until the database announces a change to anything the view shows (migration 0012's `v:<user>`,
 * 0010's `u:<user>` and `roles`); like every cached standing it is used only after a barrier begun
 * after the call arrived, so a change committed before the call is always seen. The kept view is
 * frozen: callers share it.
 */
export async function currentUserView(ds: DataSource, principal: Principal): Promise<UserView> {
  if (principal.kind !== 'user') throw new AppError('USER_NOT_FOUND', 'The caller is not a user.');
  const view = await userView(ds, principal.id, principal.workspaceId);
  if (!view) throw new AppError('USER_NOT_FOUND');
  return view;
}

/**
 * A user's view (with a workspace's roles when one is given), kept as currentUserView says: what
 * GET /me shows and what a login's or a refresh's tokens carry. Undefined when there is no such user.
 */
export async function userView(ds: DataSource, userId: string, workspaceId: string | null | undefined): Promise<UserView | undefined> {
  const workspace = workspaceId ?? undefined;
  return cachedStanding(
    ds,
    userViewKey(userId, workspace),
    async () => frozen(await findUserView(ds, userId, workspace)),
    (v) => (v ? { tags: [`v:${userId}`, `u:${userId}`, 'roles'], expiresAt: null } : undefined),
  );
}

/** Where the revocation cache keeps a user's view (with a workspace selected, or none). */
export function userViewKey(userId: string, workspaceId: string | undefined): string {
  return `view ${userId} ${workspaceId ?? ''}`;
}

function frozen(view: UserView | undefined): UserView | undefined {
  if (!view) return undefined;
  for (const identifier of view.identifiers) Object.freeze(identifier);
  for (const list of [view.identifiers, view.roles, view.scopes, view.directScopes, view.workspaceIds]) Object.freeze(list);
  return Object.freeze(view);
}
