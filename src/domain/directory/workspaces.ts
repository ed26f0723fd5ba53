import type { DataSource } from 'typeorm';
import type { Page } from '../../db/repositories/sql.js';
import {
  deleteMember,
  deleteWorkspace,
  findMember,
  findMembership,
  findWorkspace,
  insertMember,
  insertWorkspace,
  listMembers,
  listWorkspaces,
  lockMember,
  setMemberRoles,
  updateWorkspace,
  type MemberRecord,
  type WorkspaceRecord,
  type WorkspaceRef,
} from '../../db/repositories/workspaces.js';
import { AppError } from '../../errors/index.js';
import { isUuid, uuid } from '../paging.js';
import type { Actor } from './actor.js';
import { grantableRoleIds } from './roles.js';
import { nameOf, slugOf } from './rules.js';

export type { MemberRecord, WorkspaceRecord };

type Action = 'read' | 'update' | 'delete';

/**
 * Who may do what to a workspace. A holder of `<action>:workspaces` may act on any workspace;
 * anyone else only on workspaces it belongs to: members may read, owners may also change and
 * delete them and manage their members. Decided before the workspace is looked up, so a caller
 * that is neither learns nothing: it gets 403 whether or not the workspace exists (or the id is
 * even well formed).
 */
export class Workspaces {
  constructor(private readonly ds: DataSource) {}

  private async authorize(actor: Actor, ref: string, action: Action, acceptSlug = false): Promise<WorkspaceRecord> {
    const denied = () =>
      new AppError(
        'PERMISSION_DENIED',
        `This call needs the permission "${action}:workspaces" or ${action === 'read' ? 'membership in' : 'ownership of'} the workspace.`,
      );
    const holder = actor.may(`${action}:workspaces` as const);
    let parsed: WorkspaceRef;
    try {
      parsed = acceptSlug && !isUuid(ref) ? { slug: slugOf(ref) } : { id: uuid(ref) };
    } catch (e) {
      if (holder) throw e;
      throw denied();
    }
    if (holder) {
      const workspace = await findWorkspace(this.ds, parsed);
      if (!workspace) throw new AppError('WORKSPACE_NOT_FOUND');
      return workspace;
    }
    if (actor.principal.kind !== 'user') throw denied();
    const membership = await findMembership(this.ds, parsed, actor.principal.id);
    if (!membership || (action !== 'read' && !membership.isOwner)) throw denied();
    return membership.workspace;
  }

  /** The creator (a user) becomes the workspace's owner and first member. */
  async create(actor: Actor, input: { name: string; slug: string; description: string }): Promise<WorkspaceRecord> {
    const name = nameOf(input.name);
    const slug = slugOf(input.slug);
    const ownerId = actor.principal.kind === 'user' ? actor.principal.id : null;
    return this.ds.transaction(async (tx) => {
      const workspace = await insertWorkspace(tx, { name, slug, description: input.description.trim(), ownerId });
      if (ownerId) await insertMember(tx, workspace.id, ownerId, true);
      return workspace;
    });
  }

  /** All workspaces for a holder of `read:workspaces`; otherwise the caller's own. */
  list(actor: Actor, page: Page): Promise<{ items: WorkspaceRecord[]; total: number }> {
    if (actor.may('read:workspaces')) return listWorkspaces(this.ds, {}, page);
    if (actor.principal.kind !== 'user') return Promise.resolve({ items: [], total: 0 });
    return listWorkspaces(this.ds, { memberId: actor.principal.id }, page);
  }

  /** By id or slug. */
  get(actor: Actor, ref: string): Promise<WorkspaceRecord> {
    return this.authorize(actor, ref, 'read', true);
  }

  async update(actor: Actor, id: string, changes: { name?: string; slug?: string; description?: string }): Promise<WorkspaceRecord> {
    const workspace = await this.authorize(actor, id, 'update');
    const updated = await updateWorkspace(this.ds, workspace.id, {
      name: changes.name === undefined ? undefined : nameOf(changes.name),
      slug: changes.slug === undefined ? undefined : slugOf(changes.slug),
      description: changes.description?.trim(),
    });
    if (!updated) throw new AppError('WORKSPACE_NOT_FOUND');
    return updated;
  }

  /** Deletes the workspace with its roles and memberships. */
  async delete(actor: Actor, id: string): Promise<boolean> {
    const workspace = await this.authorize(actor, id, 'delete');
    if (!(await deleteWorkspace(this.ds, workspace.id))) throw new AppError('WORKSPACE_NOT_FOUND');
    return true;
  }

  /** Adds a user with roles of this workspace (by slug). */
  async addMember(actor: Actor, workspaceRef: string, userRef: string, roleSlugs: string[]): Promise<MemberRecord> {
    const workspace = await this.authorize(actor, workspaceRef, 'update');
    const userId = uuid(userRef, 'user_id');
    return this.ds.transaction(async (tx) => {
      await insertMember(tx, workspace.id, userId, false);
      await setMemberRoles(tx, workspace.id, userId, await grantableRoleIds(tx, actor, roleSlugs, workspace.id));
      return (await findMember(tx, workspace.id, userId))!;
    });
  }

  async listMembers(actor: Actor, workspaceRef: string, page: Page): Promise<{ items: MemberRecord[]; total: number }> {
    const workspace = await this.authorize(actor, workspaceRef, 'read');
    return listMembers(this.ds, workspace.id, page);
  }

  /** Replaces a member's roles in this workspace. */
  async updateMember(actor: Actor, workspaceRef: string, userRef: string, roleSlugs: string[]): Promise<MemberRecord> {
    const workspace = await this.authorize(actor, workspaceRef, 'update');
    const userId = uuid(userRef, 'user_id');
    return this.ds.transaction(async (tx) => {
      if (!(await lockMember(tx, workspace.id, userId))) throw new AppError('MEMBER_NOT_FOUND');
      await setMemberRoles(tx, workspace.id, userId, await grantableRoleIds(tx, actor, roleSlugs, workspace.id));
      return (await findMember(tx, workspace.id, userId))!;
    });
  }

  /** Removes a member, and with it its roles in the workspace. */
  async removeMember(actor: Actor, workspaceRef: string, userRef: string): Promise<boolean> {
    const workspace = await this.authorize(actor, workspaceRef, 'update');
    if (!(await deleteMember(this.ds, workspace.id, uuid(userRef, 'user_id')))) throw new AppError('MEMBER_NOT_FOUND');
    return true;
  }
}
