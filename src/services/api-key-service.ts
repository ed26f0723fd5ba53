import type { ServiceImpl } from '@connectrpc/connect';
import { ApiKeyService } from '../../gen/sso/apikey/v1/api_key_service_pb.js';
import type { Deps } from '../server/deps.js';

/** Thin handlers: proto in, domain call, proto out. Methods not here answer `unimplemented`. */
export function createApiKeyService(_deps: Deps): Partial<ServiceImpl<typeof ApiKeyService>> {
  return {};
}
