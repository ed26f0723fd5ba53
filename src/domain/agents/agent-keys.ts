import type { DataSource } from 'typeorm';
import { importVerifyKey } from '../../auth/index.js';
import { deleteAgentKey, insertAgentKey, listAgentKeys, type AgentKeyRecord } from '../../db/repositories/agent-keys.js';
import { findAgent } from '../../db/repositories/agents.js';
import { AppError } from '../../errors/index.js';
import type { Actor } from '../directory/actor.js';
import { checkMayActOn } from '../access/act-on.js';
import type { Permission } from '../access/permissions.js';
import { agentTarget } from '../access/targets.js';
import { uuid } from '../paging.js';
import { ed25519PublicKey } from './public-key.js';

/**
 * The public keys an agent signs its login assertions with. The agent manages its own; others
 * need `update:agents` (to add or remove) or `read:agents` (to list), and adding or removing a
 * key is acting as the agent: only for a caller holding everything the agent holds.
 */
export class AgentKeys {
  constructor(private readonly ds: DataSource) {}

  private async agentFor(actor: Actor, agentIdInput: string, permission: Permission, actsAs: boolean): Promise<string> {
    const agentId = uuid(agentIdInput, 'agent_id');
    const self = actor.principal.kind === 'agent' && actor.principal.id === agentId;
    if (!self && !actor.may(permission)) throw new AppError('PERMISSION_DENIED', `This call needs the permission "${permission}".`);
    const agent = await findAgent(this.ds, agentId);
    if (!agent) throw new AppError('AGENT_NOT_FOUND');
    if (actsAs) checkMayActOn(actor.principal, agentTarget(agent));
    return agentId;
  }

  async register(
    actor: Actor,
    agentIdInput: string,
    input: { jwk?: Record<string, unknown>; publicKey: string; name: string },
  ): Promise<AgentKeyRecord> {
    const agentId = await this.agentFor(actor, agentIdInput, 'update:agents', true);
    const { jwk, kid } = ed25519PublicKey(input);
    const name = input.name.trim();
    if (name.length > 200) throw new AppError('INVALID_NAME');
    try {
      await importVerifyKey({ ...jwk }, 'EdDSA');
    } catch {
      throw new AppError('INVALID_PUBLIC_KEY');
    }
    return insertAgentKey(this.ds, { kid, agentId, publicJwk: { ...jwk }, name });
  }

  async list(actor: Actor, agentIdInput: string): Promise<AgentKeyRecord[]> {
    return listAgentKeys(this.ds, await this.agentFor(actor, agentIdInput, 'read:agents', false));
  }

  async remove(actor: Actor, agentIdInput: string, kid: string): Promise<void> {
    const agentId = await this.agentFor(actor, agentIdInput, 'update:agents', true);
    if (!(await deleteAgentKey(this.ds, agentId, kid))) throw new AppError('AGENT_KEY_NOT_FOUND');
  }
}
