import type { ServiceImpl } from '@connectrpc/connect';
import { DirectoryService } from '../../gen/sso/directory/v1/directory_service_pb.js';
import type { Deps } from '../server/deps.js';

/** Thin handlers: proto in, domain call, proto out. Methods not here answer `unimplemented`. */
export function createDirectoryService(_deps: Deps): Partial<ServiceImpl<typeof DirectoryService>> {
  return {};
}
