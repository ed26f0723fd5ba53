import type { JsonObject } from '@bufbuild/protobuf';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { LegacyUserSchema, UserSchema, type LegacyUser, type User } from '../../gen/sso/directory/v1/user_pb.js';
import type { UserRecord } from '../db/repositories/users.js';
import {
  RoleSchema,
  WorkspaceMemberSchema,
  WorkspaceSchema,
  type Role,
  type Workspace,
  type WorkspaceMember,
} from '../../gen/sso/directory/v1/workspace_pb.js';
import type { RoleRecord } from '../domain/directory/roles.js';
import type { MemberRecord, WorkspaceRecord } from '../domain/directory/workspaces.js';
import type { UserView } from '../domain/users/user-view.js';

/** Proto timestamps from domain dates; an absent date stays unset (omitted in JSON). */
export function ts(date: Date | null | undefined): Timestamp | undefined {
  return date ? timestampFromDate(date) : undefined;
}

export function toUser(view: UserView): User {
  return create(UserSchema, {
    id: view.id,
    legacyId: view.legacyId,
    identifiers: view.identifiers.map((i) => ({ type: i.type, identifier: i.value, verified: i.verified, primary: i.isPrimary })),
    roles: view.roles,
    scopes: view.scopes,
    directScopes: view.directScopes,
    isActive: view.isActive,
    isAdmin: view.isAdmin,
    workspaceIds: view.workspaceIds,
    createdAt: ts(view.createdAt),
    updatedAt: ts(view.updatedAt),
  });
}

/**
 * A user as the legacy ASF routes show it: `username` is its username identifier (its primary
 * identifier when it has none), `email` its e-mail address or empty, `id` its sequential number.
 */
export function toLegacyUser(
  user: Pick<UserRecord, 'number' | 'identifiers' | 'isActive' | 'isAdmin' | 'createdAt' | 'updatedAt'>,
): LegacyUser {
  const of = (type: string) => user.identifiers.find((i) => i.type === type)?.value;
  const primary = user.identifiers.find((i) => i.isPrimary) ?? user.identifiers[0];
  return create(LegacyUserSchema, {
    username: of('username') ?? primary?.value ?? '',
    email: of('email') ?? '',
    isActive: user.isActive,
    isAdmin: user.isAdmin,
    id: user.number,
    createdAt: ts(user.createdAt),
    updatedAt: ts(user.updatedAt),
  });
}

export function toWorkspace(w: WorkspaceRecord): Workspace {
  return create(WorkspaceSchema, {
    id: w.id,
    name: w.name,
    slug: w.slug,
    description: w.description,
    ownerId: w.ownerId ?? '',
    createdAt: ts(w.createdAt),
    updatedAt: ts(w.updatedAt),
  });
}

export function toWorkspaceMember(m: MemberRecord): WorkspaceMember {
  return create(WorkspaceMemberSchema, {
    workspaceId: m.workspaceId,
    userId: m.userId,
    roles: m.roles,
    isOwner: m.isOwner,
    createdAt: ts(m.createdAt),
  });
}

export function toRole(r: RoleRecord): Role {
  return create(RoleSchema, {
    id: r.id,
    name: r.name,
    slug: r.slug,
    scopes: r.scopes,
    description: r.description,
    workspaceId: r.workspaceId ?? '',
    createdAt: ts(r.createdAt),
    updatedAt: ts(r.updatedAt),
  });
}

/**
 * WebAuthn options (from @simplewebauthn/server) as a `google.protobuf.Struct`: through JSON, so
 * the fields the library leaves `undefined` are dropped rather than becoming a Value without a
 * kind, which protobuf cannot serialize.
 */
export function webauthnStruct(value: unknown): JsonObject {
  return JSON.parse(JSON.stringify(value ?? {})) as JsonObject;
}

/**
 * A WebAuthn credential as the browser serialized it (a JSON object carried in a Struct), or
 * undefined when absent or empty; its fields are checked by the WebAuthn library.
 */
export function webauthnJson<T>(value: JsonObject | undefined): T | undefined {
  return value && Object.keys(value).length > 0 ? (value as unknown as T) : undefined;
}
