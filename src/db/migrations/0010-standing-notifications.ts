import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The database announces every change that can make a cached credential standing wrong
 * (src/domain/auth/standing-cache.ts): `pg_notify('sso_standing', '<tag> <schema>')`, sent at
 * commit by whoever wrote — this server, another instance, an operator's plain SQL. The tags:
 *
 * - `s:<session id>`: a session revoked (or un-revoked), shortened, moved or deleted;
 * - `u:<user id>`: a user activated or deactivated, made or unmade administrator, its direct
 *   scopes or global roles changed, or deleted;
 * - `a:<agent id>`: an agent (de)activated, its scopes changed, deleted, or one of its public keys
 *   removed;
 * - `k:<api key id>`: an API key revoked, shortened, re-scoped, re-hashed or deleted;
 * - `roles`: a role's slug or scopes changed (every user key's grants may change);
 * - `*`: a table truncated: everything.
 *
 * Only changes that can take something away notify: a refresh that extends a session's expiry, a
 * key's `last_used_at`, a new session or key say nothing (the cache holds only what passed, and
 * checks expiry against the clock at every use). Workspace roles are not part of anything cached
 * (a token carries its own scopes; an API key's grants are the global ones), so they say nothing
 * either. The schema in the payload keeps instances on other schemas of one database apart.
 */
export class StandingNotifications1763900000010 implements MigrationInterface {
  name = 'StandingNotifications1763900000010';

  async up(q: QueryRunner): Promise<void> {
    // One function for every table: TG_ARGV[0] is the tag's prefix, TG_ARGV[1] the column holding the id.
    await q.query(`
      CREATE FUNCTION sso_notify_standing() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        old_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
        new_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'INSERT') THEN to_jsonb(NEW) END;
        prefix text := TG_ARGV[0];
        id_column text := TG_ARGV[1];
      BEGIN
        IF TG_LEVEL = 'STATEMENT' THEN
          PERFORM pg_notify('sso_standing', prefix || ' ' || TG_TABLE_SCHEMA);
          RETURN NULL;
        END IF;
        IF old_row IS NOT NULL THEN
          PERFORM pg_notify('sso_standing', prefix || ':' || (old_row ->> id_column) || ' ' || TG_TABLE_SCHEMA);
        END IF;
        IF new_row IS NOT NULL AND (old_row IS NULL OR new_row ->> id_column IS DISTINCT FROM old_row ->> id_column) THEN
          PERFORM pg_notify('sso_standing', prefix || ':' || (new_row ->> id_column) || ' ' || TG_TABLE_SCHEMA);
        END IF;
        RETURN NULL;
      END $$`);

    // [table, events, row condition (or FOR EACH STATEMENT), the function's arguments: tag prefix, id column]
    const triggers: [table: string, events: string, when: string, args: string][] = [
      [
        'sessions',
        'AFTER UPDATE OF revoked_at, expires_at, user_id',
        `WHEN (NEW.revoked_at IS DISTINCT FROM OLD.revoked_at OR NEW.expires_at < OLD.expires_at OR NEW.user_id <> OLD.user_id)`,
        `'s', 'id'`,
      ],
      ['sessions', 'AFTER DELETE', '', `'s', 'id'`],
      [
        'users',
        'AFTER UPDATE OF is_active, is_admin, scopes',
        `WHEN (NEW.is_active <> OLD.is_active OR NEW.is_admin <> OLD.is_admin OR NEW.scopes <> OLD.scopes)`,
        `'u', 'id'`,
      ],
      ['users', 'AFTER DELETE', '', `'u', 'id'`],
      ['user_roles', 'AFTER INSERT OR UPDATE OR DELETE', '', `'u', 'user_id'`],
      // A role's change concerns every holder: one notification for the statement, not one per row.
      ['roles', 'AFTER UPDATE OF slug, scopes', 'FOR EACH STATEMENT', `'roles', ''`],
      ['agents', 'AFTER UPDATE OF is_active, scopes', `WHEN (NEW.is_active <> OLD.is_active OR NEW.scopes <> OLD.scopes)`, `'a', 'id'`],
      ['agents', 'AFTER DELETE', '', `'a', 'id'`],
      ['agent_keys', 'AFTER UPDATE OF kid, agent_id OR DELETE', '', `'a', 'agent_id'`],
      [
        'api_keys',
        'AFTER UPDATE OF revoked_at, expires_at, scopes, key_hash, lookup_id, user_id, agent_id',
        `WHEN (NEW.revoked_at IS DISTINCT FROM OLD.revoked_at
               OR (NEW.expires_at IS NOT NULL AND (OLD.expires_at IS NULL OR NEW.expires_at < OLD.expires_at))
               OR NEW.scopes <> OLD.scopes OR NEW.key_hash <> OLD.key_hash OR NEW.lookup_id <> OLD.lookup_id
               OR NEW.user_id IS DISTINCT FROM OLD.user_id OR NEW.agent_id IS DISTINCT FROM OLD.agent_id)`,
        `'k', 'id'`,
      ],
      ['api_keys', 'AFTER DELETE', '', `'k', 'id'`],
    ];
    let n = 0;
    for (const [table, events, when, args] of triggers) {
      const level = when === 'FOR EACH STATEMENT' ? when : `FOR EACH ROW ${when}`;
      await q.query(`CREATE TRIGGER sso_standing_${++n} ${events} ON ${table} ${level} EXECUTE FUNCTION sso_notify_standing(${args})`);
    }
    for (const table of ['sessions', 'users', 'user_roles', 'roles', 'agents', 'agent_keys', 'api_keys']) {
      await q.query(
        `CREATE TRIGGER sso_standing_${table}_truncate AFTER TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION sso_notify_standing('*', '')`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION sso_notify_standing() CASCADE');
  }
}
