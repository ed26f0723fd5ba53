import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { ApiKeySchema, type ApiKeyService, type ApiKey } from '../../gen/sso/apikey/v1/api_key_service_pb.js';
import type { ApiKeyRecord } from '../db/repositories/api-keys.js';
import type { ApiKeys } from '../domain/apikeys/api-keys.js';
import { page } from '../domain/paging.js';
import { actorOf } from './actor-of.js';
import { ts } from './mappers.js';

/** What every answer shows of a key; a new key's answer has these at its top level, beside the secret. */
function keyFields(k: ApiKeyRecord) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    userId: k.userId ?? '',
    agentId: k.agentId ?? '',
    scopes: k.scopes,
    expiresAt: ts(k.expiresAt),
    createdAt: ts(k.createdAt),
  };
}

function toApiKey(k: ApiKeyRecord): ApiKey {
  return create(ApiKeySchema, { ...keyFields(k), lastUsedAt: ts(k.lastUsedAt), revokedAt: ts(k.revokedAt) });
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** What the API keys' handlers call (built once, in server/deps.ts) and the issuer and audience they name. */
export interface ApiKeyServiceDeps {
  apiKeys: ApiKeys;
  config: { issuer: string; audience: string };
}

/** Thin handlers: proto in, domain call, proto out. */
export function createApiKeyService(deps: ApiKeyServiceDeps): ServiceImpl<typeof ApiKeyService> {
  const { apiKeys } = deps;
  return {
    async createApiKey(req, ctx) {
      const { plaintext, key } = await apiKeys.create(actorOf(ctx), {
        agentId: req.agentId,
        name: req.name,
        scopes: req.scopes,
        expiresInDays: req.expiresInDays,
      });
      return { key: plaintext, apiKey: plaintext, ...keyFields(key) };
    },
    async listApiKeys(req, ctx) {
      const p = page(req.offset, req.limit);
      const { items, total } = await apiKeys.list(
        actorOf(ctx),
        { userId: req.userId, agentId: req.agentId, includeRevoked: req.includeRevoked },
        p,
      );
      return { items: items.map(toApiKey), total, ...p };
    },
    async getApiKey(req, ctx) {
      return { apiKey: toApiKey(await apiKeys.get(actorOf(ctx), req.id)) };
    },
    async deleteApiKey(req, ctx) {
      const { revoked, key } = await apiKeys.revoke(actorOf(ctx), req.id);
      return { success: revoked, apiKey: toApiKey(key) };
    },
    async verifyApiKey(req) {
      const k = await apiKeys.verify(req.apiKey);
      // token_type is what the bearer may be used as, and the USSO SDK's UserData accepts only
      // access, refresh, secure, one_time or temporary. A key is used exactly as an access token
      // is (it presents its owner's grants on each call; it cannot mint tokens like a refresh
      // token, and it is neither single-use nor short-lived), so it is `access`; how it was
      // proven stays visible in `amr: ["api_key"]`.
      return {
        claims: {
          iss: deps.config.issuer,
          sub: k.ownerId,
          aud: deps.config.audience,
          iat: seconds(k.createdAt),
          nbf: seconds(k.createdAt),
          exp: k.expiresAt ? seconds(k.expiresAt) : 0,
          jti: k.keyId,
          tokenType: 'access',
          roles: k.roles,
          scopes: k.scopes,
          amr: ['api_key'],
          isAdmin: k.isAdmin,
          ...(k.kind === 'agent' ? { agentId: k.ownerId } : { userId: k.ownerId }),
        },
      };
    },
  };
}
