import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { DirectoryService } from '../../gen/sso/directory/v1/directory_service_pb.js';
import type { LegacyUsers } from '../domain/directory/legacy-users.js';
import type { Roles } from '../domain/directory/roles.js';
import type { DirectoryUsers } from '../domain/directory/users.js';
import type { Workspaces } from '../domain/directory/workspaces.js';
import { page } from '../domain/paging.js';
import { callInfoOf } from '../interceptors/call-context.js';
import { actorOf } from './actor-of.js';
import { fieldsToChange } from './update-mask.js';
import { toLegacyUser, toRole, toUser, toWorkspace, toWorkspaceMember } from './mappers.js';

function clientOf(ctx: HandlerContext) {
  const { ip, userAgent } = callInfoOf(ctx);
  return { ip, userAgent };
}

/** The domain objects the Directory's handlers call (built once, in server/deps.ts). */
export interface DirectoryServiceDeps {
  directoryUsers: DirectoryUsers;
  legacyUsers: LegacyUsers;
  workspaces: Workspaces;
  roles: Roles;
}

/** Thin handlers: proto in, domain call, proto out. */
export function createDirectoryService(deps: DirectoryServiceDeps): ServiceImpl<typeof DirectoryService> {
  const { directoryUsers: users, legacyUsers: legacy, workspaces, roles } = deps;

  return {
    async listUsers(req) {
      const p = page(req.offset, req.limit);
      const { items, total } = await users.list({ identifier: req.identifier, role: req.role, isActive: req.isActive }, p);
      return { items: items.map(toUser), total, ...p };
    },
    async getUser(req) {
      return { user: toUser(await users.get(req.id)) };
    },
    async createUser(req, ctx) {
      const identifiers = [
        ...(req.identifier ? [{ type: '', identifier: req.identifier, verified: false }] : []),
        ...req.identifiers.map((i) => ({ type: i.type, identifier: i.identifier, verified: i.verified })),
      ];
      const user = await users.create(
        actorOf(ctx),
        {
          identifiers,
          password: req.password,
          roles: req.roles,
          scopes: req.scopes,
          isAdmin: req.isAdmin,
          isActive: req.isActive,
        },
        clientOf(ctx),
      );
      return { user: toUser(user) };
    },
    async updateUser(req, ctx) {
      // current_password is proof, not a change; REST puts every body key in the mask.
      const sent = fieldsToChange(req.updateMask, {
        roles: req.roles.length > 0,
        scopes: req.scopes.length > 0,
        is_active: req.isActive !== undefined,
        is_admin: req.isAdmin !== undefined,
        password: req.password !== undefined,
        current_password: false,
      });
      const user = await users.update(
        actorOf(ctx),
        req.id,
        {
          roles: sent('roles') ? req.roles : undefined,
          scopes: sent('scopes') ? req.scopes : undefined,
          isActive: sent('is_active') ? (req.isActive ?? false) : undefined,
          isAdmin: sent('is_admin') ? (req.isAdmin ?? false) : undefined,
          password: sent('password') ? (req.password ?? '') : undefined,
          currentPassword: req.currentPassword,
        },
        clientOf(ctx),
      );
      return { user: toUser(user) };
    },
    async deleteUser(req, ctx) {
      return { success: await users.delete(actorOf(ctx), req.id, clientOf(ctx)) };
    },

    async listLegacyUsers() {
      return { users: (await legacy.list()).map(toLegacyUser) };
    },
    async createLegacyUser(req, ctx) {
      const user = await legacy.create(
        actorOf(ctx),
        { username: req.username, email: req.email, password: req.password, isAdmin: req.isAdmin },
        clientOf(ctx),
      );
      return { user: toLegacyUser(user) };
    },
    async updateLegacyUser(req, ctx) {
      const user = await legacy.update(
        actorOf(ctx),
        req.userId,
        {
          username: req.username,
          email: req.email,
          password: req.password,
          isActive: req.isActive,
          isAdmin: req.isAdmin,
          currentPassword: req.currentPassword,
        },
        clientOf(ctx),
      );
      return { user: toLegacyUser(user) };
    },

    async createWorkspace(req, ctx) {
      return {
        workspace: toWorkspace(await workspaces.create(actorOf(ctx), { name: req.name, slug: req.slug, description: req.description })),
      };
    },
    async listWorkspaces(req, ctx) {
      const p = page(req.offset, req.limit);
      const { items, total } = await workspaces.list(actorOf(ctx), p);
      return { items: items.map(toWorkspace), total, ...p };
    },
    async getWorkspace(req, ctx) {
      return { workspace: toWorkspace(await workspaces.get(actorOf(ctx), req.id)) };
    },
    async updateWorkspace(req, ctx) {
      const workspace = await workspaces.update(actorOf(ctx), req.id, { name: req.name, slug: req.slug, description: req.description });
      return { workspace: toWorkspace(workspace) };
    },
    async deleteWorkspace(req, ctx) {
      return { success: await workspaces.delete(actorOf(ctx), req.id) };
    },
    async addWorkspaceMember(req, ctx) {
      return { member: toWorkspaceMember(await workspaces.addMember(actorOf(ctx), req.workspaceId, req.userId, req.roles)) };
    },
    async listWorkspaceMembers(req, ctx) {
      const actor = actorOf(ctx);
      const p = page(req.offset, req.limit);
      const { items, total } = await workspaces.listMembers(actor, req.workspaceId, p);
      return { items: items.map(toWorkspaceMember), total, ...p };
    },
    async updateWorkspaceMember(req, ctx) {
      return { member: toWorkspaceMember(await workspaces.updateMember(actorOf(ctx), req.workspaceId, req.userId, req.roles)) };
    },
    async removeWorkspaceMember(req, ctx) {
      return { success: await workspaces.removeMember(actorOf(ctx), req.workspaceId, req.userId) };
    },

    async createRole(req, ctx) {
      const role = await roles.create(actorOf(ctx), {
        name: req.name,
        slug: req.slug,
        scopes: req.scopes,
        description: req.description,
        workspaceId: req.workspaceId,
      });
      return { role: toRole(role) };
    },
    async listRoles(req) {
      const p = page(req.offset, req.limit);
      const { items, total } = await roles.list({ workspaceId: req.workspaceId }, p);
      return { items: items.map(toRole), total, ...p };
    },
    async getRole(req) {
      return { role: toRole(await roles.get(req.id)) };
    },
    async updateRole(req, ctx) {
      const sent = fieldsToChange(req.updateMask, {
        name: req.name !== undefined,
        scopes: req.scopes.length > 0,
        description: req.description !== undefined,
      });
      const role = await roles.update(actorOf(ctx), req.id, {
        name: sent('name') ? (req.name ?? '') : undefined,
        scopes: sent('scopes') ? req.scopes : undefined,
        description: sent('description') ? (req.description ?? '') : undefined,
      });
      return { role: toRole(role) };
    },
    async deleteRole(req) {
      return { success: await roles.delete(req.id) };
    },
  };
}
