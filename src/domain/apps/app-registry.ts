import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import {
  assignUser,
  assignUserByNumbers,
  listAssignedApps,
  listAssignedUserIds,
  unassignUser,
} from '../../db/repositories/app-assignments.js';
import {
  deleteApp,
  findAppById,
  insertApp,
  listApps,
  replaceAppKey,
  replaceClientSecret,
  updateApp,
  type AppChanges,
  type AppRecord,
} from '../../db/repositories/apps.js';
import { uniqueViolation, type Page } from '../../db/repositories/sql.js';
import { findUserById } from '../../db/repositories/users.js';
import { AppError } from '../../errors/index.js';
import { findUserView } from '../../db/repositories/directory-users.js';
import type { UserView } from '../users/user-view.js';
import {
  checkAllowedOrigins,
  checkAllowedScopes,
  checkAppFields,
  checkAudience,
  checkClientType,
  checkName,
  checkPostLogoutRedirectUris,
  checkRedirectUris,
  checkUrl,
  defaultAudience,
  type AppInput,
} from './app-fields.js';
import { newAppKey } from './app-keys.js';
import { newClientSecret } from './client-secrets.js';

/** An app with the plaintext of a client secret, in the one answer that shows it ('' otherwise). */
export interface AppWithSecret {
  app: AppRecord;
  clientSecret: string;
}

/** The changes an update asks for; the client type is still free text, checked here. */
export type AppUpdate = Omit<AppChanges, 'clientType'> & { clientType?: string };

/** An app with the plaintext of its key, in the one answer that shows it. */
export interface AppWithKey {
  app: AppRecord;
  apiKey: string;
}

export interface AppRegistryDeps {
  ds: DataSource;
  /** The server's own default token audience, which no app may take. */
  serverAudience: string;
}

/** The rules of registering apps, their keys, and which users may use them. */
export class AppRegistry {
  constructor(private readonly d: AppRegistryDeps) {}

  /**
   * Registers an app with a fresh key. Without an explicit audience it gets its name's slug, or
   * its id when the slug is empty or already another app's (so registering two apps of one name
   * never fails); an explicit audience that is taken is a conflict. A confidential client (the
   * default) gets a secret; a public one none.
   */
  async create(input: AppInput): Promise<AppWithKey & AppWithSecret> {
    const fields = checkAppFields(input, this.d.serverAudience);
    const id = randomUUID();
    const key = newAppKey();
    const secret = fields.clientType === 'confidential' ? newClientSecret() : undefined;
    const explicit = fields.audience !== '';
    const audience = explicit ? fields.audience : defaultAudience(fields.name, id, this.d.serverAudience);
    const row = { ...fields, id, audience, key: key.stored, clientSecretHash: secret?.hash ?? null };
    let app: AppRecord;
    try {
      app = await insertApp(this.d.ds, row);
    } catch (e) {
      if (uniqueViolation(e) !== 'apps_audience_key') throw e;
      if (explicit) throw new AppError('AUDIENCE_TAKEN');
      app = await insertApp(this.d.ds, { ...row, audience: id });
    }
    return { app, apiKey: key.plaintext, clientSecret: secret?.plaintext ?? '' };
  }

  list(page?: Page): Promise<{ items: AppRecord[]; total: number }> {
    return listApps(this.d.ds, page);
  }

  async get(id: string): Promise<AppRecord> {
    const app = await findAppById(this.d.ds, id);
    if (!app) throw new AppError('APP_NOT_FOUND');
    return app;
  }

  /**
   * Changes only the fields given; deactivating an app stops its key and its audience at once.
   * Turning a client public drops its secret; turning it confidential gives it one (in the
   * answer) unless it already has one.
   */
  async update(id: string, changes: AppUpdate): Promise<AppWithSecret> {
    const checked: AppChanges = {
      name: changes.name === undefined ? undefined : checkName(changes.name),
      url: changes.url === undefined ? undefined : checkUrl(changes.url),
      description: changes.description?.trim(),
      audience: changes.audience === undefined ? undefined : checkAudience(changes.audience, this.d.serverAudience),
      redirectUris: changes.redirectUris === undefined ? undefined : checkRedirectUris(changes.redirectUris),
      allowedOrigins: changes.allowedOrigins === undefined ? undefined : checkAllowedOrigins(changes.allowedOrigins),
      postLogoutRedirectUris:
        changes.postLogoutRedirectUris === undefined ? undefined : checkPostLogoutRedirectUris(changes.postLogoutRedirectUris),
      allowedScopes: changes.allowedScopes === undefined ? undefined : checkAllowedScopes(changes.allowedScopes),
      clientType: changes.clientType === undefined ? undefined : checkClientType(changes.clientType),
      isActive: changes.isActive,
    };
    // Offered, not imposed: the statement keeps a confidential client's existing secret.
    const secret = checked.clientType === 'confidential' ? newClientSecret() : undefined;
    let updated;
    try {
      updated = await updateApp(this.d.ds, id, checked, secret?.hash);
    } catch (e) {
      if (uniqueViolation(e) === 'apps_audience_key') throw new AppError('AUDIENCE_TAKEN');
      throw e;
    }
    if (!updated) throw new AppError('APP_NOT_FOUND');
    return { app: updated.app, clientSecret: updated.secretIssued && secret ? secret.plaintext : '' };
  }

  async delete(id: string): Promise<void> {
    if (!(await deleteApp(this.d.ds, id))) throw new AppError('APP_NOT_FOUND');
  }

  /** A new key for the app; the old one matches nothing from the same statement on. */
  async rotateKey(id: string): Promise<AppWithKey> {
    const key = newAppKey();
    const app = await replaceAppKey(this.d.ds, id, key.stored);
    if (!app) throw new AppError('APP_NOT_FOUND');
    return { app, apiKey: key.plaintext };
  }

  /** A new secret for a confidential client; the old one matches nothing from the same statement on. */
  async rotateClientSecret(id: string): Promise<AppWithSecret> {
    const secret = newClientSecret();
    const app = await replaceClientSecret(this.d.ds, id, secret.hash);
    if (app) return { app, clientSecret: secret.plaintext };
    await this.get(id); // APP_NOT_FOUND when there is no app at all
    throw new AppError('NOT_A_CONFIDENTIAL_CLIENT');
  }

  async assign(appId: string, userId: string): Promise<void> {
    const found = await assignUser(this.d.ds, appId, userId);
    if (!found.app) throw new AppError('APP_NOT_FOUND');
    if (!found.user) throw new AppError('USER_NOT_FOUND');
  }

  /** The legacy assignment, by the sequential numbers the ASF routes show as ids. */
  async assignByNumbers(appNumber: number, userNumber: number): Promise<void> {
    const found = await assignUserByNumbers(this.d.ds, appNumber, userNumber);
    if (!found.user) throw new AppError('USER_NOT_FOUND');
    if (!found.app) throw new AppError('APP_NOT_FOUND');
  }

  /** Whether an assignment was removed; an unknown app is 404. */
  async unassign(appId: string, userId: string): Promise<boolean> {
    if (await unassignUser(this.d.ds, appId, userId)) return true;
    await this.get(appId);
    return false;
  }

  async listUsers(appId: string, page: Page): Promise<{ items: UserView[]; total: number }> {
    await this.get(appId);
    const { ids, total } = await listAssignedUserIds(this.d.ds, appId, page);
    const items: UserView[] = [];
    for (const id of ids) {
      const user = await findUserView(this.d.ds, id);
      if (user) items.push(user);
    }
    return { items, total };
  }

  async listUserApps(userId: string, page: Page): Promise<{ items: AppRecord[]; total: number }> {
    if (!(await findUserById(this.d.ds, userId))) throw new AppError('USER_NOT_FOUND');
    return listAssignedApps(this.d.ds, userId, page);
  }
}
