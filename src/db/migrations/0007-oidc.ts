import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OpenID Connect: apps become clients, sign-ins at the hosted page become browser sessions, and
 * authorization codes are kept until used.
 *
 * - An app's client id is its id. A confidential client's secret is stored as a SHA-256 hash (it
 *   carries 256 random bits, like an API key); a public client has none.
 * - One sessions table for every kind: `api` (a login through the API), `browser` (the SSO
 *   session behind the hosted page's cookie, whose hash is `refresh_hash`) and `oidc` (what one
 *   client was given through the authorization code flow, a child of the browser session:
 *   ending the browser session ends its children).
 * - A code is stored as its hash, single-use (`used_at`), bound to its client, redirect URI,
 *   PKCE challenge and browser session; `issued_session_id` is what its exchange created, so a
 *   replayed code can revoke it.
 */
export class Oidc1763900000007 implements MigrationInterface {
  name = 'Oidc1763900000007';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE apps
      ADD COLUMN client_type text NOT NULL DEFAULT 'confidential' CHECK (client_type IN ('confidential', 'public')),
      ADD COLUMN client_secret_hash text NULL,
      ADD COLUMN post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
      ADD COLUMN allowed_scopes text[] NOT NULL DEFAULT '{openid,profile,email,offline_access}'`);
    await q.query(`ALTER TABLE sessions
      ADD COLUMN kind text NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'browser', 'oidc')),
      ADD COLUMN parent_id uuid NULL REFERENCES sessions (id) ON DELETE CASCADE,
      ADD COLUMN client_id uuid NULL REFERENCES apps (id) ON DELETE CASCADE,
      ADD COLUMN oidc_scopes text[] NOT NULL DEFAULT '{}',
      ADD COLUMN auth_time timestamptz NOT NULL DEFAULT now()`);
    await q.query(`CREATE INDEX sessions_parent_id_idx ON sessions (parent_id) WHERE parent_id IS NOT NULL`);
    await q.query(`
      CREATE TABLE oidc_codes (
        code_hash          text        PRIMARY KEY,
        client_id          uuid        NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
        redirect_uri       text        NOT NULL,
        code_challenge     text        NULL,
        nonce              text        NULL,
        scopes             text[]      NOT NULL DEFAULT '{}',
        user_id            uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        browser_session_id uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        created_at         timestamptz NOT NULL DEFAULT now(),
        expires_at         timestamptz NOT NULL,
        used_at            timestamptz NULL,
        issued_session_id  uuid        NULL
      )`);
    await q.query(`CREATE INDEX oidc_codes_expires_at_idx ON oidc_codes (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE oidc_codes');
    await q.query(
      `ALTER TABLE sessions DROP COLUMN kind, DROP COLUMN parent_id, DROP COLUMN client_id, DROP COLUMN oidc_scopes, DROP COLUMN auth_time`,
    );
    await q.query(
      `ALTER TABLE apps DROP COLUMN client_type, DROP COLUMN client_secret_hash, DROP COLUMN post_logout_redirect_uris, DROP COLUMN allowed_scopes`,
    );
  }
}
