import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { AgentKeySchema, AgentSchema, AgentService, type Agent, type AgentKey } from '../../gen/sso/agent/v1/agent_service_pb.js';
import type { AgentKeyRecord } from '../db/repositories/agent-keys.js';
import type { AgentRecord } from '../db/repositories/agents.js';
import { AgentKeys } from '../domain/agents/agent-keys.js';
import { AgentLogin } from '../domain/agents/agent-login.js';
import { Agents } from '../domain/agents/agents.js';
import type { Actor } from '../domain/directory/actor.js';
import { page } from '../domain/paging.js';
import { holds } from '../interceptors/authorization.js';
import { callInfoOf, principalOf } from '../interceptors/call-context.js';
import type { Deps } from '../server/deps.js';
import { ts } from './mappers.js';

function actorOf(ctx: HandlerContext): Actor {
  const principal = principalOf(ctx);
  return { principal, may: (permission) => holds(principal, permission) };
}

export function toAgent(a: AgentRecord): Agent {
  return create(AgentSchema, {
    id: a.id, name: a.name, description: a.description, scopes: a.scopes, isActive: a.isActive,
    workspaceId: a.workspaceId ?? '', createdBy: a.createdBy ?? '', createdAt: ts(a.createdAt), updatedAt: ts(a.updatedAt),
  });
}

function toAgentKey(k: AgentKeyRecord): AgentKey {
  return create(AgentKeySchema, {
    kid: k.kid, agentId: k.agentId, alg: k.alg, jwk: { ...k.publicJwk }, name: k.name,
    createdAt: ts(k.createdAt), lastUsedAt: ts(k.lastUsedAt),
  });
}

/** Thin handlers: proto in, domain call, proto out. */
export function createAgentService(deps: Deps): Partial<ServiceImpl<typeof AgentService>> {
  const agents = new Agents(deps.ds);
  const keys = new AgentKeys(deps.ds);
  const login = new AgentLogin({ ds: deps.ds, tokens: deps.tokens, audiences: deps.audiences, audit: deps.audit, issuer: deps.config.issuer });
  return {
    async createAgent(req, ctx) {
      const agent = await agents.create(actorOf(ctx), { name: req.name, scopes: req.scopes, description: req.description, workspaceId: req.workspaceId });
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
      // REST fills the mask with the fields in the body; an RPC without one sends what it sets.
      const mask = req.updateMask?.paths ?? [];
      const sent = (field: string, set: boolean) => (mask.length > 0 ? mask.includes(field) : set);
      const agent = await agents.update(actorOf(ctx), req.id, {
        ...(sent('name', req.name !== undefined) ? { name: req.name ?? '' } : {}),
        ...(sent('description', req.description !== undefined) ? { description: req.description ?? '' } : {}),
        ...(sent('scopes', req.scopes.length > 0) ? { scopes: req.scopes } : {}),
        ...(sent('is_active', req.isActive !== undefined) ? { isActive: req.isActive ?? false } : {}),
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
        { authorization: ctx.requestHeader.get('authorization'), assertion: req.assertion, audience: req.audience }, callInfoOf(ctx));
      return {
        accessToken: t.accessToken, tokenType: 'Bearer', expiresIn: t.expiresIn, scope: t.scopes.join(' '),
        agent: toAgent(t.agent), tokens: { access: t.accessToken },
      };
    },
  };
}
