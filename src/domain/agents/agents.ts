import type { DataSource } from 'typeorm';
import {
  deleteAgent,
  findAgent,
  insertAgent,
  listAgents,
  updateAgent,
  type AgentChanges,
  type AgentRecord,
} from '../../db/repositories/agents.js';
import type { Page } from '../../db/repositories/sql.js';
import { AppError } from '../../errors/index.js';
import type { Actor } from '../directory/actor.js';
import { checkGrantable, nameOf, scopesOf } from '../directory/rules.js';
import { checkMayActOn } from '../access/act-on.js';
import { agentTarget } from '../access/targets.js';
import { uuid } from '../paging.js';

/** The longest description kept. */
const maxDescription = 2000;

function descriptionOf(raw: string): string {
  const description = raw.trim();
  if (description.length > maxDescription)
    throw new AppError('INVALID_ARGUMENT', `description is longer than ${maxDescription} characters.`);
  return description;
}

/**
 * The rules of agents (service accounts). An agent holds scopes of its own, never more than its
 * creator (or whoever changes them) holds, unless that is an administrator; and only a caller
 * holding everything an agent holds may change or delete it (../access/act-on.ts). Deactivating or
 * deleting an agent takes effect at once: every credential of an agent (API key, access token)
 * is checked against its row on each call.
 */
export class Agents {
  constructor(private readonly ds: DataSource) {}

  async create(actor: Actor, input: { name: string; scopes: string[]; description: string; workspaceId: string }): Promise<AgentRecord> {
    const scopes = scopesOf(input.scopes);
    checkGrantable(actor, scopes);
    return insertAgent(this.ds, {
      name: nameOf(input.name),
      description: descriptionOf(input.description),
      scopes,
      workspaceId: input.workspaceId ? uuid(input.workspaceId, 'workspace_id') : null,
      createdBy: actor.principal.id,
    });
  }

  list(page: Page): Promise<{ items: AgentRecord[]; total: number }> {
    return listAgents(this.ds, page);
  }

  async get(id: string): Promise<AgentRecord> {
    const agent = await findAgent(this.ds, uuid(id));
    if (!agent) throw new AppError('AGENT_NOT_FOUND');
    return agent;
  }

  /** Changes only the fields given. */
  async update(
    actor: Actor,
    id: string,
    input: { name?: string; description?: string; scopes?: string[]; isActive?: boolean },
  ): Promise<AgentRecord> {
    const agentId = uuid(id);
    await this.checkMayActOn(actor, agentId);
    const changes: AgentChanges = {};
    if (input.name !== undefined) changes.name = nameOf(input.name);
    if (input.description !== undefined) changes.description = descriptionOf(input.description);
    if (input.scopes !== undefined) {
      changes.scopes = scopesOf(input.scopes);
      checkGrantable(actor, changes.scopes);
    }
    if (input.isActive !== undefined) changes.isActive = input.isActive;
    const agent = await updateAgent(this.ds, agentId, changes);
    if (!agent) throw new AppError('AGENT_NOT_FOUND');
    return agent;
  }

  async delete(actor: Actor, id: string): Promise<void> {
    const agentId = uuid(id);
    await this.checkMayActOn(actor, agentId);
    if (!(await deleteAgent(this.ds, agentId))) throw new AppError('AGENT_NOT_FOUND');
  }

  /** The rule of who may act on whom, for an agent known by id (AGENT_NOT_FOUND when there is none). */
  private async checkMayActOn(actor: Actor, agentId: string): Promise<void> {
    const agent = await findAgent(this.ds, agentId);
    if (!agent) throw new AppError('AGENT_NOT_FOUND');
    checkMayActOn(actor.principal, agentTarget(agent));
  }
}
