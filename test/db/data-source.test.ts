import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { openDatabase, type Database } from '../../src/db/data-source.js';
import { AuditEvent, Session, SigningKey, User, UserIdentifier, entities } from '../../src/db/entities/index.js';
import { runMigrations } from '../../src/db/migrate.js';
import { migrations } from '../../src/db/migrations/index.js';
import { createTestDatabaseConfig, type TestDatabase } from '../support/database.js';

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

  const users = () => db.dataSource.getRepository(User);
  const identifiers = () => db.dataSource.getRepository(UserIdentifier);

  async function createUser(...ids: Array<Pick<UserIdentifier, 'type' | 'value'> & { isPrimary?: boolean }>) {
    return db.dataSource.transaction(async (em) => {
      const user = await em.save(em.create(User, {}));
      for (const id of ids) await em.save(em.create(UserIdentifier, { ...id, userId: user.id }));
      return user;
    });
  }

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

  it('maps every entity column to an existing column of the same type', async () => {
    const rows: { table_name: string; column_name: string; udt_name: string }[] = await db.dataSource.query(
      `SELECT table_name, column_name, udt_name FROM information_schema.columns WHERE table_schema = current_schema()`,
    );
    const actual = new Map(rows.map((r) => [`${r.table_name}.${r.column_name}`, r.udt_name]));
    const udt: Record<string, string> = {
      uuid: 'uuid',
      text: 'text',
      integer: 'int4',
      boolean: 'bool',
      timestamptz: 'timestamptz',
      jsonb: 'jsonb',
    };
    assert.equal(db.dataSource.entityMetadatas.length, entities.length);
    for (const meta of db.dataSource.entityMetadatas) {
      const dbColumns = rows
        .filter((r) => r.table_name === meta.tableName)
        .map((r) => r.column_name)
        .sort();
      assert.deepEqual(meta.columns.map((c) => c.databaseName).sort(), dbColumns, meta.tableName);
      for (const column of meta.columns) {
        const expected = (column.isArray ? '_' : '') + udt[String(column.type)];
        assert.equal(actual.get(`${meta.tableName}.${column.databaseName}`), expected, `${meta.tableName}.${column.databaseName}`);
      }
    }
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
    const reread = await users().findOneByOrFail({ number: b.number });
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
    const count = await identifiers().countBy({ value: 'dup@example.com' });
    assert.equal(count, 1);
    // The same text as another type is a different identifier.
    await createUser({ type: 'username', value: 'dup@example.com' });
  });

  it('allows one primary identifier per user and only known types', async () => {
    const user = await createUser({ type: 'email', value: 'primary@example.com', isPrimary: true });
    await assert.rejects(
      identifiers().save(identifiers().create({ userId: user.id, type: 'phone', value: '+15550100', isPrimary: true })),
      (error: any) => error.code === '23505' && error.constraint === 'user_identifiers_one_primary_idx',
    );
    await identifiers().save(identifiers().create({ userId: user.id, type: 'phone', value: '+15550100' }));
    await assert.rejects(
      identifiers().save(identifiers().create({ userId: user.id, type: 'fax' as never, value: '1' })),
      (error: any) => error.code === '23514',
    );
    const loaded = await users().findOneOrFail({ where: { id: user.id }, relations: { identifiers: true } });
    assert.deepEqual(loaded.identifiers!.map((i) => [i.type, i.value, i.isPrimary]).sort(), [
      ['email', 'primary@example.com', true],
      ['phone', '+15550100', false],
    ]);
  });

  it('round-trips arrays, jsonb and times, and cascades user deletion', async () => {
    const user = await createUser({ type: 'username', value: 'cascade' });
    const expiresAt = new Date(Date.now() + 3_600_000);
    const session = await db.dataSource.getRepository(Session).save(
      db.dataSource.getRepository(Session).create({
        userId: user.id,
        refreshHash: 'a'.repeat(64),
        audience: 'sso',
        amr: ['password', 'otp'],
        expiresAt,
      }),
    );
    assert.equal(session.generation, 0);
    const reread = await db.dataSource.getRepository(Session).findOneByOrFail({ id: session.id });
    assert.deepEqual(reread.amr, ['password', 'otp']);
    assert.equal(reread.expiresAt.getTime(), expiresAt.getTime());
    assert.equal(reread.revokedAt, null);

    const key = await db.dataSource.getRepository(SigningKey).save({
      kid: 'k1',
      alg: 'ES256',
      publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' },
      privateKeyEncrypted: 'ciphertext',
      activatesAt: new Date(),
    });
    assert.deepEqual((await db.dataSource.getRepository(SigningKey).findOneByOrFail({ kid: key.kid })).publicJwk, {
      kty: 'EC',
      crv: 'P-256',
      x: 'x',
      y: 'y',
    });
    const event = await db.dataSource
      .getRepository(AuditEvent)
      .save(db.dataSource.getRepository(AuditEvent).create({ type: 'login', outcome: 'success', actorId: user.id }));
    assert.deepEqual(event.detail, {});
    assert.ok(event.occurredAt instanceof Date);

    await users().delete({ id: user.id });
    assert.equal(await identifiers().countBy({ userId: user.id }), 0);
    assert.equal(await db.dataSource.getRepository(Session).countBy({ userId: user.id }), 0);
  });

  it('updates updated_at on save', async () => {
    const user = await createUser();
    await new Promise((r) => setTimeout(r, 5));
    user.isAdmin = true;
    await users().save(user);
    const reread = await users().findOneByOrFail({ id: user.id });
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
