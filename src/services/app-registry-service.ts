import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  type AppRegistryService,
  AppSchema,
  LegacyAppSchema,
  type App,
  type LegacyApp,
  type UpdateAppRequest,
} from '../../gen/sso/appregistry/v1/app_registry_service_pb.js';
import type { AppRecord } from '../db/repositories/apps.js';
import type { AppRegistry, AppUpdate } from '../domain/apps/app-registry.js';
import type { AppVerifier } from '../domain/apps/verify.js';
import { page, uuid } from '../domain/paging.js';
import { callInfoOf } from '../interceptors/call-context.js';
import { toLegacyUser, toUser, ts } from './mappers.js';
import { fieldsToChange } from './update-mask.js';

/**
 * The plaintext key and client secret are set only in the answer that created or rotated them
 * (or, for the secret, the update that made the client confidential). The client id is the app id.
 */
function toApp(app: AppRecord, shown: { apiKey?: string; clientSecret?: string } = {}): App {
  return create(AppSchema, {
    id: app.id,
    legacyId: app.number,
    name: app.name,
    url: app.url,
    description: app.description,
    audience: app.audience,
    redirectUris: app.redirectUris,
    allowedOrigins: app.allowedOrigins,
    apiKey: shown.apiKey ?? '',
    apiKeyPrefix: app.keyPrefix,
    isActive: app.isActive,
    createdAt: ts(app.createdAt),
    updatedAt: ts(app.updatedAt),
    clientId: app.id,
    clientType: app.clientType,
    clientSecret: shown.clientSecret ?? '',
    postLogoutRedirectUris: app.postLogoutRedirectUris,
    allowedScopes: app.allowedScopes,
  });
}

/** The ASF shape: `api_key` is the plaintext when just created, afterwards the key's display prefix. */
function toLegacyApp(app: AppRecord, apiKey?: string): LegacyApp {
  return create(LegacyAppSchema, {
    id: app.number,
    name: app.name,
    url: app.url,
    apiKey: apiKey ?? app.keyPrefix,
    isActive: app.isActive,
    createdAt: ts(app.createdAt),
  });
}

/** What an update changes (see ./update-mask.ts for which fields count as sent). */
function changesOf(req: UpdateAppRequest): AppUpdate {
  const sent = fieldsToChange(req.updateMask, {
    name: req.name !== undefined,
    url: req.url !== undefined,
    description: req.description !== undefined,
    audience: req.audience !== undefined,
    redirect_uris: req.redirectUris.length > 0,
    allowed_origins: req.allowedOrigins.length > 0,
    post_logout_redirect_uris: req.postLogoutRedirectUris.length > 0,
    client_type: req.clientType !== undefined,
    allowed_scopes: req.allowedScopes.length > 0,
    is_active: req.isActive !== undefined,
  });
  return {
    name: sent('name') ? (req.name ?? '') : undefined,
    url: sent('url') ? (req.url ?? '') : undefined,
    description: sent('description') ? (req.description ?? '') : undefined,
    audience: sent('audience') ? (req.audience ?? '') : undefined,
    redirectUris: sent('redirect_uris') ? req.redirectUris : undefined,
    allowedOrigins: sent('allowed_origins') ? req.allowedOrigins : undefined,
    postLogoutRedirectUris: sent('post_logout_redirect_uris') ? req.postLogoutRedirectUris : undefined,
    clientType: sent('client_type') ? (req.clientType ?? '') : undefined,
    allowedScopes: sent('allowed_scopes') ? req.allowedScopes : undefined,
    isActive: sent('is_active') ? (req.isActive ?? false) : undefined,
  };
}

/** The domain objects the app registry's handlers call (built once, in server/deps.ts). */
export interface AppRegistryServiceDeps {
  appRegistry: AppRegistry;
  appVerifier: AppVerifier;
}

/** Thin handlers: proto in, domain call, proto out. */
export function createAppRegistryService(deps: AppRegistryServiceDeps): ServiceImpl<typeof AppRegistryService> {
  const { appRegistry: registry, appVerifier: verifier } = deps;
  return {
    async createApp(req) {
      const { app, apiKey, clientSecret } = await registry.create({
        name: req.name,
        url: req.url,
        description: req.description,
        audience: req.audience,
        redirectUris: req.redirectUris,
        allowedOrigins: req.allowedOrigins,
        postLogoutRedirectUris: req.postLogoutRedirectUris,
        clientType: req.clientType,
        allowedScopes: req.allowedScopes,
      });
      return { app: toApp(app, { apiKey, clientSecret }) };
    },
    async listApps(req) {
      const p = page(req.offset, req.limit);
      const { items, total } = await registry.list(p);
      return { items: items.map((a) => toApp(a)), total, ...p };
    },
    async getApp(req) {
      return { app: toApp(await registry.get(uuid(req.id))) };
    },
    async updateApp(req) {
      const { app, clientSecret } = await registry.update(uuid(req.id), changesOf(req));
      return { app: toApp(app, { clientSecret }) };
    },
    async deleteApp(req) {
      await registry.delete(uuid(req.id));
      return { success: true };
    },
    async rotateAppApiKey(req) {
      const { app, apiKey } = await registry.rotateKey(uuid(req.id));
      return { app: toApp(app, { apiKey }) };
    },
    async rotateAppClientSecret(req) {
      const { app, clientSecret } = await registry.rotateClientSecret(uuid(req.id));
      return { app: toApp(app, { clientSecret }) };
    },
    async assignAppUser(req) {
      await registry.assign(uuid(req.appId, 'app_id'), uuid(req.userId, 'user_id'));
      return { success: true };
    },
    async unassignAppUser(req) {
      return { success: await registry.unassign(uuid(req.appId, 'app_id'), uuid(req.userId, 'user_id')) };
    },
    async listAppUsers(req) {
      const p = page(req.offset, req.limit);
      const { items, total } = await registry.listUsers(uuid(req.appId, 'app_id'), p);
      return { items: items.map(toUser), total, ...p };
    },
    async listUserApps(req) {
      const p = page(req.offset, req.limit);
      const { items, total } = await registry.listUserApps(uuid(req.userId, 'user_id'), p);
      return { items: items.map((a) => toApp(a)), total, ...p };
    },
    async listLegacyApps() {
      return { apps: (await registry.list()).items.map((a) => toLegacyApp(a)) };
    },
    async createLegacyApp(req) {
      // The ASF shape has no client fields: a default (confidential) client whose secret nobody
      // sees until it is rotated through the USSO API.
      const { app, apiKey } = await registry.create({
        name: req.name,
        url: req.url,
        description: '',
        audience: '',
        redirectUris: [],
        allowedOrigins: [],
        postLogoutRedirectUris: [],
        clientType: '',
        allowedScopes: [],
      });
      return { app: toLegacyApp(app, apiKey) };
    },
    async assignLegacyUser(req) {
      await registry.assignByNumbers(req.appId, req.userId);
      return { message: 'User assigned to application' };
    },
    async verify(req, ctx) {
      const outcome = await verifier.verify({ username: req.username, password: req.password, apiKey: req.apiKey }, callInfoOf(ctx));
      return outcome.authorized
        ? { authorized: true, message: outcome.message, user: toLegacyUser(outcome.user) }
        : { authorized: false, message: outcome.message };
    },
  };
}
