import { create } from '@bufbuild/protobuf';
import { timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { UserSchema, type User } from '../../gen/sso/directory/v1/user_pb.js';
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
