import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { AgentKeySchema, AgentSchema, type AgentService, type Agent, type AgentKey } from '../../gen/sso/agent/v1/agent_service_pb.js';
import type { AgentKeyRecord } from '../db/repositories/agent-keys.js';
import type { AgentRecord } from '../db/repositories/agents.js';
import type { AgentKeys } from '../domain/agents/agent-keys.js';
import type { AgentLogin } from '../domain/agents/agent-login.js';
import type { Agents } from '../domain/agents/agents.js';
import { page } from '../domain/paging.js';
import { callInfoOf } from '../interceptors/call-context.js';
import { actorOf } from './actor-of.js';
import { ts } from './mappers.js';
import { fieldsToChange } from './update-mask.js';

export function toAgent(a: AgentRecord): Agent {
  return create(AgentSchema, {
    id: a.id,
    name: a.name,
    description: a.description,
    scopes: a.scopes,
    isActive: a.isActive,
    workspaceId: a.workspaceId ?? '',
    createdBy: a.createdBy ?? '',
    createdAt: ts(a.createdAt),
    updatedAt: ts(a.updatedAt),
  });
}

function toAgentKey(k: AgentKeyRecord): AgentKey {
  return create(AgentKeySchema, {
    kid: k.kid,
    agentId: k.agentId,
    alg: k.alg,
    jwk: { ...k.publicJwk },
    name: k.name,
    createdAt: ts(k.createdAt),
    lastUsedAt: ts(k.lastUsedAt),
  });
}

/** The domain objects the agents' handlers call (built once, in server/deps.ts). */
export interface AgentServiceDeps {
  agents: Agents;
  agentKeys: AgentKeys;
  agentLogin: AgentLogin;
}

/** Thin handlers: proto in, domain call, proto out. */
export function createAgentService(deps: AgentServiceDeps): ServiceImpl<typeof AgentService> {
  const { agents, agentKeys: keys, agentLogin: login } = deps;
  return {
    async createAgent(req, ctx) {
      const agent = await agents.create(actorOf(ctx), {
        name: req.name,
        scopes: req.scopes,
        description: req.description,
        workspaceId: req.workspaceId,
      });
      return { agent: toAgent(agent) };
    },
    async listAgents(req) {
      const p = page(req.offset, req.limit);
      const { items, total } = await agents.list(p);
      return { items: items.map(toAgent), total, ...p };
    },
    async getAgent(req) {
      return { agent: toAgent(await agents.get(req.id)) };
    },
    async updateAgent(req, ctx) {
      const sent = fieldsToChange(req.updateMask, {
        name: req.name !== undefined,
        description: req.description !== undefined,
        scopes: req.scopes.length > 0,
        is_active: req.isActive !== undefined,
      });
      const agent = await agents.update(actorOf(ctx), req.id, {
        ...(sent('name') ? { name: req.name ?? '' } : {}),
        ...(sent('description') ? { description: req.description ?? '' } : {}),
        ...(sent('scopes') ? { scopes: req.scopes } : {}),
        ...(sent('is_active') ? { isActive: req.isActive ?? false } : {}),
      });
      return { agent: toAgent(agent) };
    },
    async deleteAgent(req, ctx) {
      await agents.delete(actorOf(ctx), req.id);
      return { success: true };
    },
    async createAgentKey(req, ctx) {
      const key = await keys.register(actorOf(ctx), req.agentId, { jwk: req.jwk, publicKey: req.publicKey, name: req.name });
      return { key: toAgentKey(key) };
    },
    async listAgentKeys(req, ctx) {
      return { items: (await keys.list(actorOf(ctx), req.agentId)).map(toAgentKey) };
    },
    async deleteAgentKey(req, ctx) {
      await keys.remove(actorOf(ctx), req.agentId, req.kid);
      return { success: true };
    },
    async authenticateAgent(req, ctx) {
      const t = await login.authenticate(
        { authorization: ctx.requestHeader.get('authorization'), assertion: req.assertion, audience: req.audience },
        callInfoOf(ctx),
      );
      return {
        accessToken: t.accessToken,
        tokenType: 'Bearer',
        expiresIn: t.expiresIn,
        scope: t.scopes.join(' '),
        agent: toAgent(t.agent),
        tokens: { access: t.accessToken },
      };
    },
  };
}
