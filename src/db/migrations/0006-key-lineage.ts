import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An API key made with another API key remembers its parent, so revoking a key revokes every key
 * made from it (and their descendants), and deleting one deletes them. Keys made with a sign-in
 * have no parent.
 */
export class KeyLineage1763900000006 implements MigrationInterface {
  name = 'KeyLineage1763900000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN parent_key_id uuid NULL REFERENCES api_keys (id) ON DELETE CASCADE`);
    await q.query(`CREATE INDEX api_keys_parent_key_id_idx ON api_keys (parent_key_id) WHERE parent_key_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys DROP COLUMN parent_key_id`);
  }
}
