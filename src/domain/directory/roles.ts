import type { DataSource } from 'typeorm';
import {
  deleteRole,
  findGlobalRoleBySlug,
  findRoleById,
  insertRole,
  listRoles,
  lockRolesBySlug,
  updateRole,
  type RoleRecord,
} from '../../db/repositories/roles.js';
import type { Db, Page } from '../../db/repositories/sql.js';
import { findWorkspace } from '../../db/repositories/workspaces.js';
import { AppError } from '../../errors/index.js';
import { isUuid, uuid } from '../paging.js';
import type { Actor } from './actor.js';
import { checkGrantable, nameOf, scopesOf, slugOf, slugsOf } from './rules.js';

export type { RoleRecord };

/**
 * The ids of the roles with these slugs (global when workspaceId is null, else that workspace's),
 * for `actor` to give: locked until the transaction ends, and each within the scopes the actor
 * may grant. Any unknown slug refuses the whole call: a typo must not silently grant less than
 * asked.
 */
export async function grantableRoleIds(tx: Db, actor: Actor, rawSlugs: readonly string[], workspaceId: string | null): Promise<string[]> {
  const slugs = slugsOf(rawSlugs);
  if (slugs.length === 0) return [];
  const found = await lockRolesBySlug(tx, slugs, workspaceId);
  const unknown = slugs.filter((s) => !found.some((r) => r.slug === s));
  if (unknown.length) {
    const where = workspaceId === null ? 'among global roles' : 'in that workspace';
    throw new AppError('UNKNOWN_ROLE', `No role ${where} has the slug ${unknown.map((s) => `"${s}"`).join(', ')}.`);
  }
  checkGrantable(
    actor,
    found.flatMap((r) => r.scopes),
  );
  return found.map((r) => r.id);
}

export interface NewRoleInput {
  name: string;
  slug: string;
  scopes: string[];
  description: string;
  workspaceId: string;
}

export interface RoleChangesInput {
  name?: string;
  scopes?: string[];
  description?: string;
}

/** Named sets of scopes, global or of one workspace; who holds them is the users' and members' business. */
export class Roles {
  constructor(private readonly ds: DataSource) {}

  async create(actor: Actor, input: NewRoleInput): Promise<RoleRecord> {
    const name = nameOf(input.name);
    const slug = slugOf(input.slug);
    const scopes = scopesOf(input.scopes);
    checkGrantable(actor, scopes);
    const workspaceId = input.workspaceId ? uuid(input.workspaceId, 'workspace_id') : null;
    if (workspaceId && !(await findWorkspace(this.ds, { id: workspaceId }))) throw new AppError('WORKSPACE_NOT_FOUND');
    return insertRole(this.ds, { workspaceId, name, slug, description: input.description.trim(), scopes });
  }

  list(filter: { workspaceId: string }, page: Page) {
    return listRoles(this.ds, { workspaceId: filter.workspaceId ? uuid(filter.workspaceId, 'workspace_id') : undefined }, page);
  }

  /** By id, or by slug among the global roles. */
  async get(ref: string): Promise<RoleRecord> {
    const role = isUuid(ref) ? await findRoleById(this.ds, ref.toLowerCase()) : await findGlobalRoleBySlug(this.ds, slugOf(ref));
    if (!role) throw new AppError('ROLE_NOT_FOUND');
    return role;
  }

  /** A change of scopes shows in every holder's next token (login or refresh). */
  async update(actor: Actor, id: string, changes: RoleChangesInput): Promise<RoleRecord> {
    const roleId = uuid(id);
    const name = changes.name === undefined ? undefined : nameOf(changes.name);
    const scopes = changes.scopes === undefined ? undefined : scopesOf(changes.scopes);
    if (scopes) checkGrantable(actor, scopes);
    const role = await updateRole(this.ds, roleId, { name, scopes, description: changes.description?.trim() });
    if (!role) throw new AppError('ROLE_NOT_FOUND');
    return role;
  }

  /** Removes the role from every holder with it. */
  async delete(id: string): Promise<boolean> {
    if (!(await deleteRole(this.ds, uuid(id)))) throw new AppError('ROLE_NOT_FOUND');
    return true;
  }
}
