import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tables for agents (service accounts), their public keys, the assertion ids they have used, and
 * API keys.
 *
 * An API key is stored as its public lookup id (unique: verification is one index hit, never a
 * scan), the SHA-256 of the whole key and its display prefix; never the plaintext. A key belongs
 * to exactly one owner, a user or an agent, and dies with it (cascade). Revocation only stamps
 * `revoked_at`, so a revoked key still shows who it belonged to. An agent's public key is known by
 * its RFC 7638 thumbprint (`kid`), unique, so one key cannot stand for two agents.
 */
export class Machines1763900000003 implements MigrationInterface {
  name = 'Machines1763900000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE agents (
        id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        name         text        NOT NULL,
        description  text        NOT NULL DEFAULT '',
        scopes       text[]      NOT NULL DEFAULT '{}',
        is_active    boolean     NOT NULL DEFAULT true,
        workspace_id uuid        NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        created_by   uuid        NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX agents_created_at_idx ON agents (created_at, id)`);
    await q.query(`CREATE INDEX agents_workspace_id_idx ON agents (workspace_id)`);

    await q.query(`
      CREATE TABLE agent_keys (
        kid          text        PRIMARY KEY,
        agent_id     uuid        NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        alg          text        NOT NULL CHECK (alg = 'EdDSA'),
        public_jwk   jsonb       NOT NULL,
        name         text        NOT NULL DEFAULT '',
        created_at   timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz NULL
      )`);
    await q.query(`CREATE INDEX agent_keys_agent_id_idx ON agent_keys (agent_id, created_at)`);

    // Each accepted login assertion's jti, kept until the assertion has expired, so none is used twice.
    await q.query(`
      CREATE TABLE agent_assertions (
        agent_id   uuid        NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        jti        text        NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (agent_id, jti)
      )`);
    await q.query(`CREATE INDEX agent_assertions_expires_at_idx ON agent_assertions (expires_at)`);

    await q.query(`
      CREATE TABLE api_keys (
        id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        lookup_id    text        NOT NULL,
        key_hash     text        NOT NULL,
        prefix       text        NOT NULL,
        name         text        NOT NULL,
        user_id      uuid        NULL REFERENCES users (id) ON DELETE CASCADE,
        agent_id     uuid        NULL REFERENCES agents (id) ON DELETE CASCADE,
        scopes       text[]      NOT NULL DEFAULT '{}',
        created_by   uuid        NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        expires_at   timestamptz NULL,
        last_used_at timestamptz NULL,
        revoked_at   timestamptz NULL,
        CONSTRAINT api_keys_lookup_id_key UNIQUE (lookup_id),
        CONSTRAINT api_keys_one_owner CHECK ((user_id IS NULL) <> (agent_id IS NULL))
      )`);
    await q.query(`CREATE INDEX api_keys_user_id_idx ON api_keys (user_id, created_at) WHERE user_id IS NOT NULL`);
    await q.query(`CREATE INDEX api_keys_agent_id_idx ON api_keys (agent_id, created_at) WHERE agent_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['api_keys', 'agent_assertions', 'agent_keys', 'agents']) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
