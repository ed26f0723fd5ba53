import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tables for registered apps and user assignments. */
export class Apps1763900000004 implements MigrationInterface {
  name = 'Apps1763900000004';

  async up(_q: QueryRunner): Promise<void> {}

  async down(_q: QueryRunner): Promise<void> {}
}
