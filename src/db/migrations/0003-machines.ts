import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tables for agents (service accounts), their public keys and API keys. */
export class Machines1763900000003 implements MigrationInterface {
  name = 'Machines1763900000003';

  async up(_q: QueryRunner): Promise<void> {}

  async down(_q: QueryRunner): Promise<void> {}
}
