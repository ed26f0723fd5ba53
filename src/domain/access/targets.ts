import { loadReachableGrants } from '../../db/repositories/grants.js';
import type { Db } from '../../db/repositories/sql.js';
import { AppError } from '../../errors/index.js';
import { checkMayActOn, type TargetGrants } from './act-on.js';
import type { Principal } from '../principal.js';

/** A user as a target of the rule of who may act on whom; USER_NOT_FOUND when there is none. */
export async function userTarget(db: Db, userId: string): Promise<TargetGrants> {
  const grants = await loadReachableGrants(db, userId);
  if (!grants) throw new AppError('USER_NOT_FOUND');
  return { kind: 'user', id: userId, isAdmin: grants.isAdmin, scopes: grants.scopes };
}

/** An agent as a target: it holds its scopes and is never an administrator. */
export function agentTarget(agent: { id: string; scopes: readonly string[] }): TargetGrants {
  return { kind: 'agent', id: agent.id, isAdmin: false, scopes: agent.scopes };
}

/** Checks the rule for a user known by id (a read inside the caller's transaction, when it has one). */
export async function checkMayActOnUser(db: Db, principal: Principal, userId: string): Promise<void> {
  if (principal.isAdmin || (principal.kind === 'user' && principal.id === userId)) return;
  checkMayActOn(principal, await userTarget(db, userId));
}
