import { AppError } from '../../errors/index.js';
import { one, rows, run, setClauses, type Db, type Page } from './sql.js';

export interface AgentRecord {
  id: string;
  name: string;
  description: string;
  scopes: string[];
  isActive: boolean;
  workspaceId: string | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const agentColumns = `a.id, a.name, a.description, a.scopes, a.is_active AS "isActive", a.workspace_id AS "workspaceId",
  a.created_by AS "createdBy", a.created_at AS "createdAt", a.updated_at AS "updatedAt"`;

export interface NewAgent {
  name: string;
  description: string;
  scopes: string[];
  workspaceId: string | null;
  createdBy: string | null;
}

function foreignKeyViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } };
  return (e?.code ?? e?.driverError?.code) === '23503';
}

export async function insertAgent(db: Db, input: NewAgent): Promise<AgentRecord> {
  try {
    return (await one<AgentRecord>(
      db,
      `INSERT INTO agents AS a (name, description, scopes, workspace_id, created_by) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${agentColumns}`,
      [input.name, input.description, input.scopes, input.workspaceId, input.createdBy],
    ))!;
  } catch (e) {
    // The only foreign key a caller names is the workspace.
    if (foreignKeyViolation(e)) throw new AppError('WORKSPACE_NOT_FOUND');
    throw e;
  }
}

export async function findAgent(db: Db, id: string): Promise<AgentRecord | undefined> {
  return one<AgentRecord>(db, `SELECT ${agentColumns} FROM agents a WHERE a.id = $1`, [id]);
}

export async function listAgents(db: Db, page: Page): Promise<{ items: AgentRecord[]; total: number }> {
  const [items, total] = await Promise.all([
    rows<AgentRecord>(db, `SELECT ${agentColumns} FROM agents a ORDER BY a.created_at, a.id LIMIT $1 OFFSET $2`, [page.limit, page.offset]),
    one<{ n: number }>(db, 'SELECT count(*)::int AS n FROM agents'),
  ]);
  return { items, total: total?.n ?? 0 };
}

export interface AgentChanges {
  name?: string;
  description?: string;
  scopes?: string[];
  isActive?: boolean;
}

/** Changes only the fields given; answers the agent as it is now, or undefined when it does not exist. */
export async function updateAgent(db: Db, id: string, changes: AgentChanges): Promise<AgentRecord | undefined> {
  const params: unknown[] = [id];
  const sets = setClauses(params, {
    name: changes.name,
    description: changes.description,
    scopes: changes.scopes,
    is_active: changes.isActive,
  });
  if (sets.length === 0) return findAgent(db, id);
  return (
    await run<AgentRecord>(
      db,
      `UPDATE agents AS a SET ${sets.join(', ')}, updated_at = now() WHERE a.id = $1 RETURNING ${agentColumns}`,
      params,
    )
  ).rows[0];
}

/** Deletes an agent; its API keys, public keys and assertion records go with it (cascade). */
export async function deleteAgent(db: Db, id: string): Promise<boolean> {
  return (await run(db, 'DELETE FROM agents WHERE id = $1', [id])).count > 0;
}

/** The credential an agent's token was issued against: an API key (by id) or a public key (by kid). */
export type AgentCredential = { apiKeyId: string } | { agentKeyKid: string };

/**
 * What every call authenticated as an agent needs to know, in one indexed read: the agent's
 * standing and, when the token names the credential it was issued against, whether that
 * credential is still live (an API key not revoked or expired, a public key still registered).
 */
export async function agentStanding(
  db: Db,
  id: string,
  credential?: AgentCredential,
): Promise<{ isActive: boolean; scopes: string[]; credentialLive: boolean; credentialExpiresAt: Date | null } | undefined> {
  if (credential === undefined) {
    return one(
      db,
      'SELECT is_active AS "isActive", scopes, true AS "credentialLive", NULL::timestamptz AS "credentialExpiresAt" FROM agents WHERE id = $1',
      [id],
      'agent_standing',
    );
  }
  if ('apiKeyId' in credential) {
    return one(
      db,
      `SELECT a.is_active AS "isActive", a.scopes, k.id IS NOT NULL AS "credentialLive", k.expires_at AS "credentialExpiresAt"
         FROM agents a
         LEFT JOIN api_keys k ON k.id = $2::uuid AND k.agent_id = a.id AND k.revoked_at IS NULL
                             AND (k.expires_at IS NULL OR k.expires_at > now())
        WHERE a.id = $1`,
      [id, credential.apiKeyId],
      'agent_standing_by_api_key',
    );
  }
  return one(
    db,
    `SELECT a.is_active AS "isActive", a.scopes, NULL::timestamptz AS "credentialExpiresAt",
            EXISTS (SELECT 1 FROM agent_keys k WHERE k.kid = $2 AND k.agent_id = a.id) AS "credentialLive"
       FROM agents a WHERE a.id = $1`,
    [id, credential.agentKeyKid],
    'agent_standing_by_agent_key',
  );
}
