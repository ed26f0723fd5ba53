import type { DataSource } from 'typeorm';
import type { PasswordHasher } from '../../auth/index.js';
import {
  countIdentifiers,
  findUserBasics,
  findUserIdByNumber,
  listUserBasics,
  lockUser,
  setIdentifierOfType,
  type UserBasics,
} from '../../db/repositories/directory-users.js';
import { insertUser, type UserRecord } from '../../db/repositories/users.js';
import { AppError } from '../../errors/index.js';
import type { AuditLog } from '../audit.js';
import type { LoginGuard } from '../auth/login-guard.js';
import { parseIdentifier } from '../identifiers.js';
import { checkNewPassword } from '../passwords-policy.js';
import type { Actor } from './actor.js';
import { proveOwnPassword } from './password-proof.js';
import { recordUserChange } from './user-audit.js';
import { applyUserChanges } from './user-changes.js';
import type { Client } from './users.js';

/**
 * What the ASF shape of a user is made from (see `toLegacyUser`): `number` is the user's stable
 * sequential number, shown as the legacy `id`.
 */
export type LegacyUserRecord = Pick<UserRecord, 'number' | 'identifiers' | 'isActive' | 'isAdmin' | 'createdAt' | 'updatedAt'>;

function legacyRecord(user: UserBasics): LegacyUserRecord {
  return {
    number: user.legacyId,
    identifiers: user.identifiers,
    isActive: user.isActive,
    isAdmin: user.isAdmin,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}

export interface LegacyChanges {
  username?: string;
  /** "" removes the e-mail address. */
  email?: string;
  password?: string;
  isActive?: boolean;
  isAdmin?: boolean;
  /** The caller's current password, proving a change of its own password. */
  currentPassword?: string;
}

/**
 * The ASF admin surface over the same users as the USSO one (administrators only, enforced by
 * the RPCs' access rule): a username and an e-mail address are two identifiers, the username
 * primary.
 */
export class LegacyUsers {
  constructor(
    private readonly ds: DataSource,
    private readonly passwords: PasswordHasher,
    private readonly audit: AuditLog,
    private readonly guard: LoginGuard,
  ) {}

  async list(): Promise<LegacyUserRecord[]> {
    return (await listUserBasics(this.ds)).map(legacyRecord);
  }

  async create(
    actor: Actor,
    input: { username: string; email: string; password: string; isAdmin: boolean },
    client: Client,
  ): Promise<LegacyUserRecord> {
    const username = parseIdentifier(input.username, 'username');
    const identifiers = input.email.trim() ? [username, parseIdentifier(input.email, 'email')] : [username];
    checkNewPassword(input.password);
    const passwordHash = await this.passwords.hash(input.password);
    const user = await this.ds.transaction((tx) =>
      insertUser(tx, { identifiers, passwordHash, isAdmin: input.isAdmin, isActive: true, bootstrapAdmin: false }),
    );
    await recordUserChange(this.audit, 'user.create', actor, username.value, client);
    return this.byId(user.id);
  }

  /** Changes only the fields sent, on the user with this sequential number. */
  async update(actor: Actor, number: number, input: LegacyChanges, client: Client): Promise<LegacyUserRecord> {
    if (!Number.isInteger(number) || number <= 0) throw new AppError('INVALID_ID', 'user_id must be a positive integer.');
    const username = input.username === undefined ? undefined : parseIdentifier(input.username, 'username').value;
    const email = input.email === undefined ? undefined : input.email.trim() === '' ? null : parseIdentifier(input.email, 'email').value;
    if (input.password !== undefined) {
      checkNewPassword(input.password);
      const targetId = await findUserIdByNumber(this.ds, number);
      if (targetId) {
        await proveOwnPassword(
          { db: this.ds, passwords: this.passwords, guard: this.guard, audit: this.audit },
          actor,
          targetId,
          input.currentPassword,
          client,
        );
      }
    }
    const passwordHash = input.password === undefined ? undefined : await this.passwords.hash(input.password);
    const id = await this.ds.transaction(async (tx) => {
      const user = await lockUser(tx, { number });
      if (!user) throw new AppError('USER_NOT_FOUND');
      if (username !== undefined) await setIdentifierOfType(tx, user.id, 'username', username);
      if (email !== undefined) {
        await setIdentifierOfType(tx, user.id, 'email', email);
        if (email === null && (await countIdentifiers(tx, user.id)) === 0) {
          throw new AppError('INVALID_ARGUMENT', "The e-mail address is the user's only identifier and cannot be removed.");
        }
      }
      await applyUserChanges(tx, actor, user, { isActive: input.isActive, isAdmin: input.isAdmin, passwordHash });
      return user.id;
    });
    const view = await this.byId(id);
    await recordUserChange(this.audit, 'user.update', actor, view.identifiers[0]?.value, client);
    return view;
  }

  private async byId(id: string): Promise<LegacyUserRecord> {
    const user = await findUserBasics(this.ds, id);
    if (!user) throw new AppError('USER_NOT_FOUND');
    return legacyRecord(user);
  }
}
