import type { DataSource } from 'typeorm';
import { generateApiKey } from '../../auth/index.js';
import { findAgent } from '../../db/repositories/agents.js';
import { findApiKey, insertApiKey, listApiKeys, revokeApiKey, type ApiKeyRecord } from '../../db/repositories/api-keys.js';
import { loadGrants } from '../../db/repositories/grants.js';
import type { Page } from '../../db/repositories/sql.js';
import { userStanding } from '../../db/repositories/users.js';
import { AppError } from '../../errors/index.js';
import type { Actor } from '../directory/actor.js';
import { checkGrantable, nameOf, scopesOf } from '../directory/rules.js';
import { checkMayActOn } from '../access/act-on.js';
import { agentTarget, checkMayActOnUser } from '../access/targets.js';
import { uuid } from '../paging.js';
import type { Principal } from '../principal.js';
import { resolveApiKey, type KeyOwnerKind, type ResolvedApiKey } from './key-lookup.js';
import { scopesNotCovered } from '../scopes.js';

export interface NewApiKeyInput {
  /** The agent the key is for; empty for the caller. */
  agentId: string;
  name: string;
  /** Empty for the owner's scopes. */
  scopes: string[];
  /** 0 for a key that never expires. */
  expiresInDays: number;
}

/** The longest a key may be made to last, in days (ten years): a key that should never expire says 0. */
const maxExpiresInDays = 3650;

/**
 * A key made with a key expires no later than its parent: a key that never expires (0) only
 * from a parent that never does, and no more whole days than the parent has left (counted up, so
 * a child may ask for as many days as its parent was given). The row's expiry is then capped at
 * the parent's (see insertApiKey), so the child never outlives it by a second.
 */
function checkWithinParentExpiry(parentExpiresAt: Date | null, expiresInDays: number): void {
  if (parentExpiresAt === null) return;
  const daysLeft = Math.ceil((parentExpiresAt.getTime() - Date.now()) / 86_400_000);
  if (expiresInDays === 0 || expiresInDays > daysLeft) {
    throw new AppError(
      'KEY_OUTLIVES_PARENT',
      `A key made with an API key cannot outlive it: that key expires at ${parentExpiresAt.toISOString()}; ask for at most ${Math.max(daysLeft, 0)} days.`,
    );
  }
}

interface Owner {
  kind: KeyOwnerKind;
  id: string;
  scopes: string[];
}

function owns(principal: Principal, key: ApiKeyRecord): boolean {
  return principal.kind === 'user' ? key.userId === principal.id : key.agentId === principal.id;
}

/**
 * The rules of API keys: who may make one for whom, with which scopes, and who may see and
 * revoke them. Keys authenticate through ./key-lookup.ts.
 */
export class ApiKeys {
  constructor(private readonly ds: DataSource) {}

  /**
   * Makes a key for an agent (the agent itself, or a caller with `create:apikeys`) or for the
   * calling principal. Its scopes are the ones asked for, which must be within the owner's (an
   * administrator's are everything: `*`), or else the owner's. Nobody but an administrator hands
   * out, through a key, scopes it does not hold itself; a user's own key made with the user's
   * access token is bounded by the user's grants as of now (the token's copy may be stale).
   * A key made with a key is that key's child: within its scopes, expiring no later, and revoked
   * with it.
   */
  async create(actor: Actor, input: NewApiKeyInput): Promise<{ plaintext: string; key: ApiKeyRecord }> {
    const principal = actor.principal;
    const name = nameOf(input.name);
    if (!Number.isInteger(input.expiresInDays) || input.expiresInDays < 0 || input.expiresInDays > maxExpiresInDays) {
      throw new AppError('INVALID_ARGUMENT', `expires_in_days must be from 0 (never) to ${maxExpiresInDays}.`);
    }
    const requested = input.scopes.length > 0 ? scopesOf(input.scopes) : undefined;
    const owner = await this.ownerFor(actor, input.agentId);
    const scopes = requested ?? owner.scopes;
    const beyond = scopesNotCovered(owner.scopes, scopes);
    if (beyond.length > 0) {
      throw new AppError(
        'SCOPES_EXCEED_OWNER',
        `A key's scopes must be within its owner's; the owner does not hold: ${beyond.slice(0, 10).join(', ')}.`,
      );
    }
    // A user's access token carries all of the user's grants (as of login), so the grants as of now
    // are the bound; a key, or an agent's token (which may have been narrowed with `scope`), bounds
    // what it makes by what it holds itself.
    const ownKeyByToken =
      owner.kind === 'user' && principal.kind === 'user' && owner.id === principal.id && principal.via === 'access_token';
    if (!ownKeyByToken) checkGrantable(actor, scopes);

    const parent = principal.via === 'api_key' && principal.apiKeyId ? await findApiKey(this.ds, principal.apiKeyId) : undefined;
    if (parent) checkWithinParentExpiry(parent.expiresAt, input.expiresInDays);

    const generated = generateApiKey(owner.kind);
    const key = await insertApiKey(this.ds, {
      lookupId: generated.id,
      keyHash: generated.hash,
      prefix: generated.displayPrefix,
      name,
      userId: owner.kind === 'user' ? owner.id : null,
      agentId: owner.kind === 'agent' ? owner.id : null,
      scopes,
      createdBy: principal.id,
      expiresInDays: input.expiresInDays === 0 ? null : input.expiresInDays,
      parentKeyId: parent?.id ?? null,
      expiresNotAfter: parent?.expiresAt ?? null,
    });
    return { plaintext: generated.plaintext, key };
  }

  private async ownerFor(actor: Actor, agentIdInput: string): Promise<Owner> {
    const principal = actor.principal;
    const agentId = agentIdInput ? uuid(agentIdInput, 'agent_id') : principal.kind === 'agent' ? principal.id : undefined;
    if (agentId !== undefined) {
      const self = principal.kind === 'agent' && principal.id === agentId;
      if (!self && !actor.may('create:apikeys')) {
        throw new AppError('PERMISSION_DENIED', 'Making a key for an agent needs the permission "create:apikeys".');
      }
      const agent = await findAgent(this.ds, agentId);
      if (!agent) throw new AppError('AGENT_NOT_FOUND');
      // A key for an agent is a credential to act as it: only for a caller holding all it holds.
      checkMayActOn(principal, agentTarget(agent));
      return { kind: 'agent', id: agent.id, scopes: agent.scopes };
    }
    const [standing, grants] = await Promise.all([userStanding(this.ds, principal.id), loadGrants(this.ds, principal.id)]);
    if (!standing) throw new AppError('USER_NOT_FOUND');
    return { kind: 'user', id: principal.id, scopes: standing.isAdmin ? ['*'] : grants.scopes };
  }

  /** The caller's own keys, or with `read:apikeys` anyone's (optionally one user's or agent's). */
  async list(actor: Actor, filter: { userId: string; agentId: string; includeRevoked: boolean }, page: Page) {
    const principal = actor.principal;
    const userId = filter.userId ? uuid(filter.userId, 'user_id') : undefined;
    const agentId = filter.agentId ? uuid(filter.agentId, 'agent_id') : undefined;
    if (actor.may('read:apikeys')) return listApiKeys(this.ds, { userId, agentId, includeRevoked: filter.includeRevoked }, page);
    const own =
      principal.kind === 'user'
        ? (userId === undefined || userId === principal.id) && agentId === undefined
        : (agentId === undefined || agentId === principal.id) && userId === undefined;
    if (!own) throw new AppError('PERMISSION_DENIED', 'Listing keys of others needs the permission "read:apikeys".');
    return listApiKeys(
      this.ds,
      {
        ...(principal.kind === 'user' ? { userId: principal.id } : { agentId: principal.id }),
        includeRevoked: filter.includeRevoked,
      },
      page,
    );
  }

  /** One key's details; others' keys look absent without `read:apikeys`. */
  async get(actor: Actor, id: string): Promise<ApiKeyRecord> {
    const key = await findApiKey(this.ds, uuid(id));
    if (!key || (!owns(actor.principal, key) && !actor.may('read:apikeys'))) throw new AppError('API_KEY_NOT_FOUND');
    return key;
  }

  /** Revokes a key at once: the caller's own, or with `delete:apikeys` anyone's. */
  async revoke(actor: Actor, id: string): Promise<{ revoked: boolean; key: ApiKeyRecord }> {
    const found = await findApiKey(this.ds, uuid(id));
    if (!found || (!owns(actor.principal, found) && !actor.may('delete:apikeys'))) throw new AppError('API_KEY_NOT_FOUND');
    // Revoking another's key is acting on its owner: not on an administrator or a stronger principal.
    if (found.userId) await checkMayActOnUser(this.ds, actor.principal, found.userId);
    else if (found.agentId) {
      const agent = await findAgent(this.ds, found.agentId);
      if (agent) checkMayActOn(actor.principal, agentTarget(agent));
    }
    const revoked = await revokeApiKey(this.ds, found.id);
    return { revoked, key: (await findApiKey(this.ds, found.id)) ?? found };
  }

  /** What a presented key stands for (the USSO SDK's verification); INVALID_API_KEY otherwise. */
  verify(plaintext: string): Promise<ResolvedApiKey> {
    return resolveApiKey(this.ds, plaintext);
  }
}
