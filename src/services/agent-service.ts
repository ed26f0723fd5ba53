import type { ServiceImpl } from '@connectrpc/connect';
import { AgentService } from '../../gen/sso/agent/v1/agent_service_pb.js';
import type { Deps } from '../server/deps.js';

/** Thin handlers: proto in, domain call, proto out. Methods not here answer `unimplemented`. */
export function createAgentService(_deps: Deps): Partial<ServiceImpl<typeof AgentService>> {
  return {};
}
