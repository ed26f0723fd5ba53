import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The database also announces every change to what a user view shows (GET /me: the user's row,
 * identifiers, global roles and scopes, workspaces, and the roles of a selected workspace), so
 * that the cache of migration 0010 (src/domain/auth/standing-cache.ts) may keep it. With 0010's
 * function, at commit, whoever wrote:
 *
 * - `v:<user id>`: any UPDATE of the user's row (updated_at moves with every change), and any
 *   change of its identifiers, workspace memberships or workspace roles;
 * - already sent by 0010: `u:<user id>` for its global roles (user_roles) and its deletion,
 *   `roles` for a role's slug or scopes; a deleted role or workspace deletes the rows that
 *   reference it (ON DELETE CASCADE), and their triggers fire;
 * - `*`: one of these tables truncated.
 */
export class UserViewNotifications1763900000012 implements MigrationInterface {
  name = 'UserViewNotifications1763900000012';

  async up(q: QueryRunner): Promise<void> {
    const triggers: [name: string, events: string, table: string, idColumn: string][] = [
      ['sso_view_users', 'AFTER UPDATE', 'users', 'id'],
      ['sso_view_identifiers', 'AFTER INSERT OR UPDATE OR DELETE', 'user_identifiers', 'user_id'],
      ['sso_view_memberships', 'AFTER INSERT OR UPDATE OR DELETE', 'workspace_members', 'user_id'],
      ['sso_view_workspace_roles', 'AFTER INSERT OR UPDATE OR DELETE', 'workspace_member_roles', 'user_id'],
    ];
    for (const [name, events, table, idColumn] of triggers) {
      await q.query(`CREATE TRIGGER ${name} ${events} ON ${table} FOR EACH ROW EXECUTE FUNCTION sso_notify_standing('v', '${idColumn}')`);
    }
    for (const table of ['user_identifiers', 'workspace_members', 'workspace_member_roles']) {
      await q.query(
        `CREATE TRIGGER sso_view_${table}_truncate AFTER TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION sso_notify_standing('*', '')`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [name, table] of [
      ['sso_view_users', 'users'],
      ['sso_view_identifiers', 'user_identifiers'],
      ['sso_view_memberships', 'workspace_members'],
      ['sso_view_workspace_roles', 'workspace_member_roles'],
      ['sso_view_user_identifiers_truncate', 'user_identifiers'],
      ['sso_view_workspace_members_truncate', 'workspace_members'],
      ['sso_view_workspace_member_roles_truncate', 'workspace_member_roles'],
    ]) {
      await q.query(`DROP TRIGGER ${name} ON ${table}`);
    }
  }
}
