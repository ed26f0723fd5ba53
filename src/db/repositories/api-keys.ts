import { grantColumns } from './grants.js';
import { one, rows, run, type Db, type Page } from './sql.js';

/** An API key as its owner and administrators see it: never the secret, nor its hash. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  prefix: string;
  userId: string | null;
  agentId: string | null;
  scopes: string[];
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const columns = `k.id, k.name, k.prefix, k.user_id AS "userId", k.agent_id AS "agentId", k.scopes,
  k.created_by AS "createdBy", k.created_at AS "createdAt", k.expires_at AS "expiresAt",
  k.last_used_at AS "lastUsedAt", k.revoked_at AS "revokedAt"`;

export interface NewApiKey {
  lookupId: string;
  keyHash: string;
  prefix: string;
  name: string;
  userId: string | null;
  agentId: string | null;
  scopes: string[];
  createdBy: string | null;
  /** Days until it expires; null for never. */
  expiresInDays: number | null;
  /** The key it was made with, if it was made with one: revoking that one revokes this one. */
  parentKeyId: string | null;
  /** A cap on the expiry (the parent's): the key never outlives the key that made it. */
  expiresNotAfter: Date | null;
}

export async function insertApiKey(db: Db, k: NewApiKey): Promise<ApiKeyRecord> {
  return (await one<ApiKeyRecord>(
    db,
    `INSERT INTO api_keys AS k (lookup_id, key_hash, prefix, name, user_id, agent_id, scopes, created_by, expires_at, parent_key_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
             CASE WHEN $9::int IS NULL THEN $11::timestamptz ELSE LEAST(now() + make_interval(days => $9::int), $11::timestamptz) END, $10)
     RETURNING ${columns}`,
    [
      k.lookupId,
      k.keyHash,
      k.prefix,
      k.name,
      k.userId,
      k.agentId,
      k.scopes,
      k.createdBy,
      k.expiresInDays,
      k.parentKeyId,
      k.expiresNotAfter,
    ],
  ))!;
}

export async function findApiKey(db: Db, id: string): Promise<ApiKeyRecord | undefined> {
  return one<ApiKeyRecord>(db, `SELECT ${columns} FROM api_keys k WHERE k.id = $1`, [id]);
}

export interface ApiKeyFilter {
  userId?: string;
  agentId?: string;
  includeRevoked: boolean;
}

export async function listApiKeys(db: Db, filter: ApiKeyFilter, page: Page): Promise<{ items: ApiKeyRecord[]; total: number }> {
  const where = `($1::uuid IS NULL OR k.user_id = $1) AND ($2::uuid IS NULL OR k.agent_id = $2) AND ($3 OR k.revoked_at IS NULL)`;
  const params = [filter.userId ?? null, filter.agentId ?? null, filter.includeRevoked];
  const [items, total] = await Promise.all([
    rows<ApiKeyRecord>(db, `SELECT ${columns} FROM api_keys k WHERE ${where} ORDER BY k.created_at DESC, k.id LIMIT $4 OFFSET $5`, [
      ...params,
      page.limit,
      page.offset,
    ]),
    one<{ n: number }>(db, `SELECT count(*)::int AS n FROM api_keys k WHERE ${where}`, params),
  ]);
  return { items, total: total?.n ?? 0 };
}

/**
 * Revokes a live key and every key made from it, down the whole lineage, in one statement;
 * answers whether the key itself was live. Revocation is a stamp: the rows stay for audit.
 */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  const found = await one<{ revoked: boolean }>(
    db,
    `WITH RECURSIVE lineage AS (
        SELECT id FROM api_keys WHERE id = $1
        UNION SELECT k.id FROM api_keys k JOIN lineage l ON k.parent_key_id = l.id
     ), stamped AS (
        UPDATE api_keys SET revoked_at = now() WHERE id IN (SELECT id FROM lineage) AND revoked_at IS NULL RETURNING id
     )
     SELECT EXISTS (SELECT 1 FROM stamped WHERE id = $1) AS revoked`,
    [id],
  );
  return found?.revoked ?? false;
}

/** A presented key's row with everything deciding what it may do now, from one indexed read. */
export interface KeyStanding {
  id: string;
  keyHash: string;
  userId: string | null;
  agentId: string | null;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  /** Not revoked and not expired, by the database's clock (the same for every instance). */
  live: boolean;
  /** The owner exists and is active. */
  ownerActive: boolean;
  /** The owning user is an administrator (false for agents). */
  ownerAdmin: boolean;
  /** What the owner holds now: the agent's scopes, or the user's roles and scopes. */
  ownerScopes: string[];
  ownerRoles: string[];
}

const standingColumns = `k.id, k.key_hash AS "keyHash", k.user_id AS "userId", k.agent_id AS "agentId", k.scopes,
  k.created_at AS "createdAt", k.expires_at AS "expiresAt", k.last_used_at AS "lastUsedAt",
  (k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())) AS live`;

/**
 * Finds a key by the lookup id it carries (a unique index: no scan) together with its owner's
 * standing and, for a user, the user's grants as of now, in one round trip, so revocation,
 * expiry, deactivation and lost scopes take effect on the very next use, on every instance. The
 * owner kind the key claims picks the query: an agent's is a plain join (the hot path of
 * machine-to-machine calls), a user's also reads the user's roles.
 */
export async function findKeyStanding(db: Db, lookupId: string, kind: 'user' | 'agent'): Promise<KeyStanding | undefined> {
  if (kind === 'agent') {
    return one<KeyStanding>(
      db,
      `SELECT ${standingColumns}, a.is_active AS "ownerActive", false AS "ownerAdmin",
              a.scopes AS "ownerScopes", '{}'::text[] AS "ownerRoles"
         FROM api_keys k JOIN agents a ON a.id = k.agent_id
        WHERE k.lookup_id = $1`,
      [lookupId],
      'api_key_standing_agent',
    );
  }
  return one<KeyStanding>(
    db,
    `SELECT ${standingColumns}, u.is_active AS "ownerActive", u.is_admin AS "ownerAdmin",
            g.scopes AS "ownerScopes", g.roles AS "ownerRoles"
       FROM api_keys k JOIN users u ON u.id = k.user_id
       CROSS JOIN LATERAL (SELECT ${grantColumns(null)}) g
      WHERE k.lookup_id = $1`,
    [lookupId],
    'api_key_standing_user',
  );
}

/** Records a use, at most about once a minute per key (the condition makes repeats no-ops). */
export async function touchApiKey(db: Db, id: string): Promise<void> {
  await run(
    db,
    `UPDATE api_keys SET last_used_at = now()
      WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [id],
    'api_key_touch',
  );
}
