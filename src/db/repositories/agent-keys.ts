import { AppError } from '../../errors/index.js';
import { agentColumns, type AgentRecord } from './agents.js';
import { one, rows, run, uniqueViolation, type Db } from './sql.js';

/** An agent's registered public key (JWK members only; no private part is ever stored). */
export interface AgentKeyRecord {
  kid: string;
  agentId: string;
  alg: string;
  publicJwk: Record<string, string>;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

const columns = `k.kid, k.agent_id AS "agentId", k.alg, k.public_jwk AS "publicJwk", k.name,
  k.created_at AS "createdAt", k.last_used_at AS "lastUsedAt"`;

export async function insertAgentKey(
  db: Db,
  k: { kid: string; agentId: string; publicJwk: Record<string, string>; name: string },
): Promise<AgentKeyRecord> {
  try {
    return (await one<AgentKeyRecord>(
      db,
      `INSERT INTO agent_keys AS k (kid, agent_id, alg, public_jwk, name) VALUES ($1, $2, 'EdDSA', $3::jsonb, $4) RETURNING ${columns}`,
      [k.kid, k.agentId, JSON.stringify(k.publicJwk), k.name],
    ))!;
  } catch (e) {
    if (uniqueViolation(e)) throw new AppError('AGENT_KEY_TAKEN');
    throw e;
  }
}

export async function listAgentKeys(db: Db, agentId: string): Promise<AgentKeyRecord[]> {
  return rows<AgentKeyRecord>(db, `SELECT ${columns} FROM agent_keys k WHERE k.agent_id = $1 ORDER BY k.created_at DESC, k.kid`, [agentId]);
}

export async function deleteAgentKey(db: Db, agentId: string, kid: string): Promise<boolean> {
  return (await run(db, 'DELETE FROM agent_keys WHERE agent_id = $1 AND kid = $2', [agentId, kid])).count > 0;
}

export type LoginKey = Pick<AgentKeyRecord, 'kid' | 'agentId' | 'alg' | 'publicJwk' | 'name'>;

/** A login assertion's key and the agent it speaks for, in one indexed read. */
export async function findAgentKeyForLogin(db: Db, kid: string): Promise<{ key: LoginKey; agent: AgentRecord } | undefined> {
  const row = await one<AgentRecord & { key: LoginKey }>(
    db,
    `SELECT ${agentColumns},
            json_build_object('kid', k.kid, 'agentId', k.agent_id, 'alg', k.alg, 'publicJwk', k.public_jwk, 'name', k.name) AS key
       FROM agent_keys k JOIN agents a ON a.id = k.agent_id WHERE k.kid = $1`,
    [kid],
  );
  if (!row) return undefined;
  const { key, ...agent } = row;
  return { key, agent };
}

/**
 * Accepts an assertion id once: answers false when the agent already used it. Records past their
 * assertion's expiry are pruned on the way (an expired assertion is refused by its `exp` anyway).
 */
export async function recordAssertion(db: Db, agentId: string, jti: string, expiresAt: Date, kid: string): Promise<boolean> {
  await run(db, 'DELETE FROM agent_assertions WHERE expires_at < now()');
  const { count } = await run(db, `INSERT INTO agent_assertions (agent_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
    agentId,
    jti,
    expiresAt,
  ]);
  if (count > 0) await run(db, 'UPDATE agent_keys SET last_used_at = now() WHERE kid = $1', [kid]);
  return count > 0;
}
