import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { openDatabase, type Database } from '../../src/db/data-source.js';
import { runMigrations } from '../../src/db/migrate.js';
import { migrations } from '../../src/db/migrations/index.js';
import { updateUserFields } from '../../src/db/repositories/directory-users.js';
import { findSession } from '../../src/db/repositories/sessions.js';
import { listPublishedKeys } from '../../src/db/repositories/signing-keys.js';
import type { Db } from '../../src/db/repositories/sql.js';
import { findUserById, type IdentifierType } from '../../src/db/repositories/users.js';
import { createTestDatabaseConfig, type TestDatabase } from '../support/database.js';
import { repositoryStatements } from './repository-statements.js';

const TABLES = [
  'agent_assertions',
  'agent_keys',
  'agents',
  'api_keys',
  'app_assignments',
  'apps',
  'audit_events',
  'login_throttles',
  'mfa_policy',
  'mfa_tokens',
  'migrations',
  'oidc_codes',
  'passkeys',
  'recovery_codes',
  'roles',
  'sessions',
  'signing_keys',
  'totp_factors',
  'user_count',
  'user_identifiers',
  'user_roles',
  'users',
  'webauthn_challenges',
  'workspace_member_roles',
  'workspace_members',
  'workspaces',
];

describe('openDatabase', { timeout: 120_000 }, () => {
  let test: TestDatabase;
  let db: Database;

  before(async () => {
    test = await createTestDatabaseConfig();
    db = await openDatabase(test.config);
  });

  after(async () => {
    await db?.close();
    await test?.cleanup();
  });

  // Rows are written with plain SQL, so what is asserted is the schema's own behaviour (defaults,
  // constraints, cascades), and read back through the repositories.
  async function insertIdentifier(db: Db, userId: string, id: { type: IdentifierType; value: string; isPrimary?: boolean }) {
    await db.query('INSERT INTO user_identifiers (user_id, type, value, is_primary) VALUES ($1, $2, $3, $4)', [
      userId,
      id.type,
      id.value,
      id.isPrimary ?? false,
    ]);
  }

  async function createUser(...ids: Array<{ type: IdentifierType; value: string; isPrimary?: boolean }>) {
    return db.dataSource.transaction(async (em) => {
      const [{ id }] = await em.query('INSERT INTO users DEFAULT VALUES RETURNING id');
      for (const identifier of ids) await insertIdentifier(em, id, identifier);
      return (await findUserById(em, id))!;
    });
  }

  const count = async (sql: string, params: unknown[]) => ((await db.dataSource.query(sql, params)) as { n: number }[])[0]!.n;

  it('describes itself without a password', () => {
    if (test.kind === 'embedded') {
      assert.equal(db.describe, 'embedded (in memory)');
    } else {
      assert.match(db.describe, /^postgresql:\/\//);
      assert.match(db.describe, /\(schema t_[0-9a-f]+\)$/);
      const url = new URL(process.env.TEST_DATABASE_URL!);
      if (url.password) assert.ok(!db.describe.includes(url.password));
    }
  });

  it('creates every table and records the migrations', async () => {
    const rows: { table_name: string }[] = await db.dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`,
    );
    assert.deepEqual(
      rows.map((r) => r.table_name),
      TABLES,
    );
    const applied: { name: string }[] = await db.dataSource.query(`SELECT name FROM migrations ORDER BY id`);
    assert.deepEqual(
      applied.map((r) => r.name),
      migrations.map((m) => m.name),
    );
  });

  it('stores every time as timestamptz', async () => {
    const rows: { table_name: string; column_name: string; data_type: string }[] = await db.dataSource.query(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
          WHERE table_schema = current_schema() AND data_type LIKE 'time%'`,
    );
    assert.ok(rows.length >= 12);
    for (const row of rows) {
      if (row.table_name === 'migrations') continue;
      assert.equal(row.data_type, 'timestamp with time zone', `${row.table_name}.${row.column_name}`);
    }
  });

  it('knows every column and table the repositories name: each statement they send is prepared', async () => {
    const { statements, dynamic } = await repositoryStatements();
    assert.ok(statements.length >= 120, `only ${statements.length} statements read from src/db/repositories`);
    // Those put together at run time are left to the integration tests that call them.
    assert.ok(dynamic.length <= 20, `statements that cannot be read from the source:\n${dynamic.join('\n')}`);
    const runner = db.dataSource.createQueryRunner();
    const refused: string[] = [];
    try {
      for (const [i, { file, sql }] of statements.entries()) {
        try {
          await runner.query(`PREPARE repository_statement_${i} AS ${sql}`);
        } catch (error) {
          refused.push(`${file}: ${(error as Error).message}\n  ${sql.replace(/\s+/g, ' ').slice(0, 160)}`);
        }
      }
      await runner.query('DEALLOCATE ALL');
    } finally {
      await runner.release();
    }
    assert.deepEqual(refused, [], `statements the schema refuses:\n${refused.join('\n')}`);
  });

  it('fills defaults and gives users increasing numbers', async () => {
    const a = await createUser({ type: 'email', value: 'numbers-a@example.com' });
    const b = await createUser({ type: 'email', value: 'numbers-b@example.com' });
    const c = await createUser();
    assert.match(a.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(typeof a.number, 'number');
    assert.ok(a.number < b.number && b.number < c.number, `${a.number} < ${b.number} < ${c.number}`);
    assert.equal(a.isActive, true);
    assert.equal(a.isAdmin, false);
    assert.deepEqual(a.scopes, []);
    assert.equal(a.passwordHash, null);
    assert.ok(a.createdAt instanceof Date);
    const [reread] = await db.dataSource.query('SELECT id FROM users WHERE number = $1', [b.number]);
    assert.equal(reread.id, b.id);
  });

  it('rejects an identifier that another user already has', async () => {
    await createUser({ type: 'email', value: 'dup@example.com' });
    await assert.rejects(createUser({ type: 'email', value: 'dup@example.com' }), (error: any) => {
      assert.equal(error.code, '23505');
      assert.equal(error.constraint, 'user_identifiers_type_value_key');
      return true;
    });
    // The failed registration rolled back: no user without identifiers was left behind.
    assert.equal(await count('SELECT count(*)::int AS n FROM user_identifiers WHERE value = $1', ['dup@example.com']), 1);
    // The same text as another type is a different identifier.
    await createUser({ type: 'username', value: 'dup@example.com' });
  });

  it('allows one primary identifier per user and only known types', async () => {
    const user = await createUser({ type: 'email', value: 'primary@example.com', isPrimary: true });
    await assert.rejects(
      insertIdentifier(db.dataSource, user.id, { type: 'phone', value: '+15550100', isPrimary: true }),
      (error: any) => error.code === '23505' && error.constraint === 'user_identifiers_one_primary_idx',
    );
    await insertIdentifier(db.dataSource, user.id, { type: 'phone', value: '+15550100' });
    await assert.rejects(
      insertIdentifier(db.dataSource, user.id, { type: 'fax' as never, value: '1' }),
      (error: any) => error.code === '23514',
    );
    const loaded = await findUserById(db.dataSource, user.id);
    assert.deepEqual(loaded!.identifiers.map((i) => [i.type, i.value, i.isPrimary]).sort(), [
      ['email', 'primary@example.com', true],
      ['phone', '+15550100', false],
    ]);
  });

  it('round-trips arrays, jsonb and times, and cascades user deletion', async () => {
    const user = await createUser({ type: 'username', value: 'cascade' });
    const expiresAt = new Date(Date.now() + 3_600_000);
    const [session] = await db.dataSource.query(
      `INSERT INTO sessions (user_id, refresh_hash, audience, amr, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id, generation`,
      [user.id, 'a'.repeat(64), 'sso', ['password', 'otp'], expiresAt],
    );
    assert.equal(session.generation, 0);
    const reread = (await findSession(db.dataSource, session.id))!;
    assert.deepEqual(reread.amr, ['password', 'otp']);
    assert.equal(reread.expiresAt.getTime(), expiresAt.getTime());
    assert.equal(reread.revokedAt, null);

    await db.dataSource.query(
      'INSERT INTO signing_keys (kid, alg, public_jwk, private_key_encrypted, activates_at) VALUES ($1, $2, $3, $4, $5)',
      ['k1', 'ES256', { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }, 'ciphertext', new Date()],
    );
    assert.deepEqual((await listPublishedKeys(db.dataSource)).find((k) => k.kid === 'k1')!.publicJwk, {
      kty: 'EC',
      crv: 'P-256',
      x: 'x',
      y: 'y',
    });
    const [event] = await db.dataSource.query(
      `INSERT INTO audit_events (type, outcome, actor_id) VALUES ($1, $2, $3) RETURNING detail, occurred_at AS "occurredAt"`,
      ['login', 'success', user.id],
    );
    assert.deepEqual(event.detail, {});
    assert.ok(event.occurredAt instanceof Date);

    await db.dataSource.query('DELETE FROM users WHERE id = $1', [user.id]);
    assert.equal(await count('SELECT count(*)::int AS n FROM user_identifiers WHERE user_id = $1', [user.id]), 0);
    assert.equal(await count('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [user.id]), 0);
  });

  it('updates updated_at on save', async () => {
    const user = await createUser();
    await new Promise((r) => setTimeout(r, 5));
    await updateUserFields(db.dataSource, user.id, { isAdmin: true });
    const reread = (await findUserById(db.dataSource, user.id))!;
    assert.equal(reread.isAdmin, true);
    assert.ok(reread.updatedAt.getTime() > reread.createdAt.getTime());
  });

  it('finds nothing left to migrate when run again', async () => {
    assert.deepEqual(await runMigrations(db.dataSource), []);
  });
});

describe('openDatabase arguments', () => {
  it('rejects a pool too small to migrate', async () => {
    await assert.rejects(openDatabase({ kind: 'embedded', poolSize: 1 }), /poolSize/);
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    await assert.rejects(
      openDatabase({ kind: 'postgres', url: 'postgres://nobody@127.0.0.1:1/none', schema: 'x; DROP TABLE users' }),
      /invalid schema name/,
    );
  });

  // PostgreSQL-only: registered in the PostgreSQL pass of the suite.
  (process.env.TEST_DATABASE_URL ? it : () => undefined)('refuses a PostgreSQL schema that does not exist', async () => {
    await assert.rejects(
      openDatabase({ kind: 'postgres', url: process.env.TEST_DATABASE_URL!, schema: 't_does_not_exist' }),
      /schema t_does_not_exist does not exist/,
    );
  });

  it('closes idempotently', async () => {
    const test = await createTestDatabaseConfig();
    try {
      const db = await openDatabase(test.config);
      await Promise.all([db.close(), db.close()]);
      await db.close();
      assert.equal(db.dataSource.isInitialized, false);
    } finally {
      await test.cleanup();
    }
  });
});
