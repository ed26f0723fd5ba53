import type { DataSource } from 'typeorm';
import type { PasswordHasher } from '../../auth/index.js';
import {
  deleteUserRow,
  findUserView,
  listUserViews,
  lockUser,
  type UserFilter,
  type UserViewRow,
} from '../../db/repositories/directory-users.js';
import type { Page } from '../../db/repositories/sql.js';
import { insertUser } from '../../db/repositories/users.js';
import { AppError } from '../../errors/index.js';
import type { AuditLog } from '../audit.js';
import type { LoginGuard } from '../auth/login-guard.js';
import { parseIdentifier, type IdentifierType } from '../identifiers.js';
import { uuid } from '../paging.js';
import { checkNewPassword } from '../passwords-policy.js';
import { checkMayActOnUser } from '../access/targets.js';
import { isSelf, type Actor } from './actor.js';
import { checkGrantable, scopesOf, slugOf, slugsOf } from './rules.js';
import { proveOwnPassword } from './password-proof.js';
import { recordUserChange } from './user-audit.js';
import { applyUserChanges, ensureAdminRemains } from './user-changes.js';

export type { UserViewRow };

export interface Client {
  ip: string;
  userAgent: string;
}

export interface NewUserInput {
  /** The first is primary. `type` empty means detected. */
  identifiers: { type: string; identifier: string; verified: boolean }[];
  /** Empty: the user has no password (it cannot log in with one until given one). */
  password: string;
  roles: string[];
  scopes: string[];
  isAdmin: boolean;
  isActive?: boolean;
}

/** What UpdateUser may change; undefined = not sent. */
export interface UserChangesInput {
  roles?: string[];
  scopes?: string[];
  isActive?: boolean;
  isAdmin?: boolean;
  password?: string;
  /** The caller's current password, proving a change of its own password. */
  currentPassword?: string;
}

/** Parsed, normalized identifiers; the same one twice in one request is a mistake, not a conflict. */
export function identifiersOf(raw: NewUserInput['identifiers']): { type: IdentifierType; value: string; verified: boolean }[] {
  const parsed = raw.map((i) => ({ ...parseIdentifier(i.identifier, i.type || undefined), verified: i.verified }));
  if (parsed.length === 0) throw new AppError('MISSING_FIELD', 'identifier or identifiers is required.');
  const seen = new Set<string>();
  for (const i of parsed) {
    const key = `${i.type}:${i.value}`;
    if (seen.has(key)) throw new AppError('INVALID_ARGUMENT', `The identifier "${i.value}" is given twice.`);
    seen.add(key);
  }
  return parsed;
}

/** The rules of people in the directory: listing, creating, changing and deleting users. */
export class DirectoryUsers {
  constructor(
    private readonly ds: DataSource,
    private readonly passwords: PasswordHasher,
    private readonly audit: AuditLog,
    private readonly guard: LoginGuard,
  ) {}

  list(filter: { identifier: string; role: string; isActive?: boolean }, page: Page): Promise<{ items: UserViewRow[]; total: number }> {
    const f: UserFilter = { isActive: filter.isActive };
    if (filter.identifier.trim()) f.identifier = filter.identifier.trim();
    if (filter.role) f.role = slugOf(filter.role);
    return listUserViews(this.ds, f, page);
  }

  async get(id: string): Promise<UserViewRow> {
    const user = await findUserView(this.ds, uuid(id));
    if (!user) throw new AppError('USER_NOT_FOUND');
    return user;
  }

  /** Creates a user; never the bootstrap administrator, and an administrator only at an administrator's hand. */
  async create(actor: Actor, input: NewUserInput, client: Client): Promise<UserViewRow> {
    if (input.isAdmin && !actor.principal.isAdmin) throw new AppError('ADMIN_REQUIRED', 'Only administrators may create administrators.');
    const identifiers = identifiersOf(input.identifiers);
    const scopes = scopesOf(input.scopes);
    checkGrantable(actor, scopes);
    const roleSlugs = slugsOf(input.roles);
    if (input.password) checkNewPassword(input.password);
    const passwordHash = input.password ? await this.passwords.hash(input.password) : null;
    const id = await this.ds.transaction(async (tx) => {
      const user = await insertUser(tx, {
        identifiers,
        passwordHash,
        isAdmin: input.isAdmin,
        isActive: input.isActive ?? true,
        scopes,
        bootstrapAdmin: false,
      });
      if (roleSlugs.length) await applyUserChanges(tx, actor, user, { roles: roleSlugs });
      return user.id;
    });
    await recordUserChange(this.audit, 'user.create', actor, identifiers[0]!.value, client);
    return this.get(id);
  }

  /**
   * Changes only what was sent. The caller may change its own password without `update:users`
   * (the interceptor lets it through for its own id; signed in with its current password, not
   * with an API key), but its own roles, scopes and active flag need that permission, and the
   * administrator flag needs an administrator, whoever the target. Another user may be changed
   * only by a caller holding everything that user holds (../access/act-on.ts).
   */
  async update(actor: Actor, id: string, input: UserChangesInput, client: Client): Promise<UserViewRow> {
    if (input.isAdmin !== undefined && !actor.principal.isAdmin)
      throw new AppError('ADMIN_REQUIRED', 'Only administrators may change the administrator flag.');
    if (isSelf(actor, id) && !actor.may('update:users')) {
      if (input.roles !== undefined || input.scopes !== undefined || input.isActive !== undefined) {
        throw new AppError('PERMISSION_DENIED', 'Changing your own roles, scopes or active flag needs the permission "update:users".');
      }
    }
    const userId = uuid(id);
    if (input.password !== undefined) {
      await proveOwnPassword(
        { db: this.ds, passwords: this.passwords, guard: this.guard, audit: this.audit },
        actor,
        userId,
        input.currentPassword,
        client,
      );
    }
    const scopes = input.scopes === undefined ? undefined : scopesOf(input.scopes);
    if (scopes) checkGrantable(actor, scopes);
    const roles = input.roles === undefined ? undefined : slugsOf(input.roles);
    if (input.password !== undefined) checkNewPassword(input.password);
    const passwordHash = input.password === undefined ? undefined : await this.passwords.hash(input.password);
    await this.ds.transaction(async (tx) => {
      const user = await lockUser(tx, { id: userId });
      if (!user) throw new AppError('USER_NOT_FOUND');
      await checkMayActOnUser(tx, actor.principal, userId);
      await applyUserChanges(tx, actor, user, { roles, scopes, isActive: input.isActive, isAdmin: input.isAdmin, passwordHash });
    });
    const view = await this.get(userId);
    await recordUserChange(this.audit, 'user.update', actor, view.identifiers[0]?.value, client);
    return view;
  }

  /** Deletes a user: its sessions (and API keys) go with it, so its tokens stop working at once. */
  async delete(actor: Actor, id: string, client: Client): Promise<boolean> {
    const userId = uuid(id);
    const before = await findUserView(this.ds, userId);
    await this.ds.transaction(async (tx) => {
      const user = await lockUser(tx, { id: userId });
      if (!user) throw new AppError('USER_NOT_FOUND');
      await checkMayActOnUser(tx, actor.principal, userId);
      await deleteUserRow(tx, userId);
      if (user.isAdmin && user.isActive) await ensureAdminRemains(tx);
    });
    await recordUserChange(this.audit, 'user.delete', actor, before?.identifiers[0]?.value, client);
    return true;
  }
}
