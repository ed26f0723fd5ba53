import type { ServiceImpl } from '@connectrpc/connect';
import { AppRegistryService } from '../../gen/sso/appregistry/v1/app_registry_service_pb.js';
import type { Deps } from '../server/deps.js';

/** Thin handlers: proto in, domain call, proto out. Methods not here answer `unimplemented`. */
export function createAppRegistryService(_deps: Deps): Partial<ServiceImpl<typeof AppRegistryService>> {
  return {};
}
