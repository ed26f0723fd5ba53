import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Second factors (issue 12): TOTP, recovery codes, passkeys, the state of a login between its
 * password and its second step, WebAuthn challenges, and the policy that asks for a factor.
 *
 * - A TOTP secret is stored only encrypted with the key-encryption secret (as private signing
 *   keys are), bound to its user. It counts once `confirmed_at` is set. `last_step` is the last
 *   RFC 6238 time step accepted: a code is taken only for a later step, in one conditional
 *   UPDATE, so a code is good once even under concurrent requests.
 * - Recovery codes carry 80 random bits: stored as SHA-256 hashes, each spent by one
 *   `UPDATE ... WHERE used_at IS NULL RETURNING`.
 * - A passkey is the WebAuthn credential's id and public key (never a secret) and its signature
 *   counter, which must grow unless the authenticator keeps none.
 * - A login's `mfa_token` is stored as its SHA-256 hash, single-use (`used_at`) and short-lived;
 *   `purpose` says whether it continues with a factor (`mfa`) or may only enrol one (`enroll`).
 * - WebAuthn challenges are stored server-side, single-use and short-lived; a second-factor
 *   challenge belongs to its login (`mfa_token_hash`).
 * - The policy is one row.
 */
export class SecondFactors1763900000008 implements MigrationInterface {
  name = 'SecondFactors1763900000008';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE totp_factors (
        user_id          uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        secret_encrypted text        NOT NULL,
        created_at       timestamptz NOT NULL DEFAULT now(),
        confirmed_at     timestamptz NULL,
        last_step        bigint      NULL
      )`);
    await q.query(`
      CREATE TABLE recovery_codes (
        id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        code_hash  text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        used_at    timestamptz NULL,
        UNIQUE (user_id, code_hash)
      )`);
    await q.query(`
      CREATE TABLE passkeys (
        id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        credential_id text        NOT NULL UNIQUE,
        public_key    bytea       NOT NULL,
        counter       bigint      NOT NULL DEFAULT 0,
        transports    text[]      NOT NULL DEFAULT '{}',
        name          text        NOT NULL,
        device_type   text        NOT NULL DEFAULT '',
        backed_up     boolean     NOT NULL DEFAULT false,
        created_at    timestamptz NOT NULL DEFAULT now(),
        last_used_at  timestamptz NULL
      )`);
    await q.query(`CREATE INDEX passkeys_user_id_idx ON passkeys (user_id)`);
    await q.query(`
      CREATE TABLE mfa_tokens (
        token_hash   text        PRIMARY KEY,
        purpose      text        NOT NULL CHECK (purpose IN ('mfa', 'enroll')),
        user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        identifier   text        NOT NULL,
        audience     text        NOT NULL,
        workspace_id uuid        NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        expires_at   timestamptz NOT NULL,
        used_at      timestamptz NULL
      )`);
    await q.query(`CREATE INDEX mfa_tokens_expires_at_idx ON mfa_tokens (expires_at)`);
    await q.query(`
      CREATE TABLE webauthn_challenges (
        challenge      text        PRIMARY KEY,
        purpose        text        NOT NULL CHECK (purpose IN ('register', 'login', 'second_factor', 'enroll')),
        user_id        uuid        NULL REFERENCES users (id) ON DELETE CASCADE,
        mfa_token_hash text        NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        expires_at     timestamptz NOT NULL,
        used_at        timestamptz NULL
      )`);
    await q.query(`CREATE INDEX webauthn_challenges_expires_at_idx ON webauthn_challenges (expires_at)`);
    await q.query(`
      CREATE TABLE mfa_policy (
        id                  boolean     PRIMARY KEY DEFAULT true CHECK (id),
        required_for_all    boolean     NOT NULL DEFAULT false,
        required_for_admins boolean     NOT NULL DEFAULT false,
        required_roles      text[]      NOT NULL DEFAULT '{}',
        updated_at          timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`INSERT INTO mfa_policy (id) VALUES (true)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE mfa_policy');
    await q.query('DROP TABLE webauthn_challenges');
    await q.query('DROP TABLE mfa_tokens');
    await q.query('DROP TABLE passkeys');
    await q.query('DROP TABLE recovery_codes');
    await q.query('DROP TABLE totp_factors');
  }
}
