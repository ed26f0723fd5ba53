import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * First-party OpenID Connect clients: the SSO's own web front ends (the admin console at
 * /console), which sign in through the hosted page like any app but act at the SSO itself.
 *
 * `first_party` is never set through the app API: only the server's start-up writes it
 * (domain/oidc/first-party.ts ensures the console's row, because its redirect URI depends on
 * the configured issuer, which a migration does not know). What the flag changes is decided in
 * one place, domain/oidc/clients.ts: such a client's access tokens are for the SSO's own
 * audience, and no assignment is needed to use it.
 */
export class FirstPartyClients1763900000009 implements MigrationInterface {
  name = 'FirstPartyClients1763900000009';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE apps ADD COLUMN first_party boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM apps WHERE first_party`);
    await q.query(`ALTER TABLE apps DROP COLUMN first_party`);
  }
}
