import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tables for workspaces, workspace members, roles and role assignments, and the indexes the user
 * list pages by. Global roles are held through `user_roles`; a workspace's roles are held by its
 * members through `workspace_member_roles`, which hangs off the membership, so leaving a
 * workspace drops its roles in one cascade. Deleting a role cascades to both holder tables.
 */
export class Directory1763900000002 implements MigrationInterface {
  name = 'Directory1763900000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE workspaces (
        id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        name        text        NOT NULL,
        slug        text        NOT NULL,
        description text        NOT NULL DEFAULT '',
        owner_id    uuid        NULL REFERENCES users (id) ON DELETE SET NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT workspaces_slug_key UNIQUE (slug)
      )`);
    await q.query(`CREATE INDEX workspaces_created_at_idx ON workspaces (created_at, id)`);

    await q.query(`
      CREATE TABLE workspace_members (
        workspace_id uuid        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        is_owner     boolean     NOT NULL DEFAULT false,
        created_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, user_id)
      )`);
    await q.query(`CREATE INDEX workspace_members_user_id_idx ON workspace_members (user_id)`);

    await q.query(`
      CREATE TABLE roles (
        id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid        NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        name         text        NOT NULL,
        slug         text        NOT NULL,
        description  text        NOT NULL DEFAULT '',
        scopes       text[]      NOT NULL DEFAULT '{}',
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
    // A slug is unique among global roles and within each workspace (no NULLS NOT DISTINCT on 15).
    await q.query(`CREATE UNIQUE INDEX roles_global_slug_key ON roles (slug) WHERE workspace_id IS NULL`);
    await q.query(`CREATE UNIQUE INDEX roles_workspace_slug_key ON roles (workspace_id, slug) WHERE workspace_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE user_roles (
        user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role_id    uuid        NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, role_id)
      )`);
    await q.query(`CREATE INDEX user_roles_role_id_idx ON user_roles (role_id)`);

    await q.query(`
      CREATE TABLE workspace_member_roles (
        workspace_id uuid        NOT NULL,
        user_id      uuid        NOT NULL,
        role_id      uuid        NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
        created_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, user_id, role_id),
        FOREIGN KEY (workspace_id, user_id) REFERENCES workspace_members (workspace_id, user_id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX workspace_member_roles_role_id_idx ON workspace_member_roles (role_id)`);

    // The user list pages in creation order (number) and may filter on is_active.
    await q.query(`CREATE INDEX users_is_active_number_idx ON users (is_active, number)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX users_is_active_number_idx`);
    for (const table of ['workspace_member_roles', 'user_roles', 'roles', 'workspace_members', 'workspaces']) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
