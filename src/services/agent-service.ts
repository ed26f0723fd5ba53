import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { AgentKeySchema, AgentSchema, AgentService, type Agent, type AgentKey } from '../../gen/sso/agent/v1/agent_service_pb.js';
import type { AgentKeyRecord } from '../db/repositories/agent-keys.js';
import type { AgentRecord } from '../db/repositories/agents.js';
import { AgentKeys } from '../domain/agents/agent-keys.js';
import { AgentLogin } from '../domain/agents/agent-login.js';
import { Agents } from '../domain/agents/agents.js';
import { page } from '../domain/paging.js';
import { callInfoOf } from '../interceptors/call-context.js';
import type { DataSource } from 'typeorm';
import type { Tokens } from '../domain/tokens.js';
import type { Audiences } from '../domain/audiences.js';
import type { AuditLog } from '../domain/audit.js';
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

/** What the agents' handlers are built from. */
export interface AgentServiceDeps {
  ds: DataSource;
  tokens: Tokens;
  audiences: Audiences;
  audit: AuditLog;
  config: { issuer: string };
}

/** Thin handlers: proto in, domain call, proto out. */
export function createAgentService(deps: AgentServiceDeps): ServiceImpl<typeof AgentService> {
  const agents = new Agents(deps.ds);
  const keys = new AgentKeys(deps.ds);
  const login = new AgentLogin({
    ds: deps.ds,
    tokens: deps.tokens,
    audiences: deps.audiences,
    audit: deps.audit,
    issuer: deps.config.issuer,
  });
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
