import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { openDatabase, type Database } from '../../src/db/data-source.js';
import { one } from '../../src/db/repositories/sql.js';
import { migratedTemplate } from '../support/database.js';

/** The part of pg's (untyped) protocol connection this test drives by hand. */
interface PgConnection {
  close(message: { type: 'S' | 'P'; name: string }): void;
  sync(): void;
  once(event: string, listener: () => void): void;
}

/** pg's protocol connection (exported, untyped), driven message by message. */
interface RawConnection {
  stream: { on(event: 'data', listener: (chunk: Buffer) => void): void };
  connect(path: string): void;
  startup(config: { user: string; database: string }): void;
  parse(query: { text: string; types: unknown[] }): void;
  bind(config: { values: unknown[] }): void;
  execute(config: { rows: number }): void;
  describe(config: { type: 'P' | 'S' }): void;
  query(text: string): void;
  flush(): void;
  sync(): void;
  end(): void;
  on(event: string, listener: (message: unknown) => void): void;
  once(event: string, listener: () => void): void;
}

// Embedded only, whatever TEST_DATABASE_URL says: this is about the PGlite socket bridge.
describe('embedded database under concurrent use', { timeout: 120_000 }, () => {
  let db: Database;
  before(async () => {
    db = await openDatabase({ kind: 'embedded', template: await migratedTemplate() });
  });
  after(async () => {
    await db?.close();
  });

  it('never mixes up the statements of concurrent pooled connections', async () => {
    // Statements with the same parameter count and large parameters (split over several TCP
    // chunks) are what made the shipped queue run one connection's Bind against another's Parse.
    const big = 'z'.repeat(300_000);
    const statements = [
      { sql: 'SELECT $1::int + 1 AS r, $2::text AS s', expect: (i: number) => i + 1, param: () => 'x' },
      { sql: 'SELECT $1::int * 100 AS r, $2::text AS s', expect: (i: number) => i * 100, param: () => 'x' },
      { sql: 'SELECT $1::int - 7 AS r, length($2::text) AS s', expect: (i: number) => i - 7, param: () => big },
    ];
    const results = await Promise.allSettled(
      Array.from({ length: 600 }, async (_, i) => {
        const statement = statements[i % statements.length]!;
        const [row] = await db.dataSource.query(statement.sql, [i, statement.param()]);
        assert.equal(row.r, statement.expect(i), `${statement.sql} with ${i}`);
      }),
    );
    const failures = results.filter((r) => r.status === 'rejected');
    assert.equal(failures.length, 0, String((failures[0] as PromiseRejectedResult | undefined)?.reason));
  });

  it('keeps concurrent transactions apart', async () => {
    const countUsers = async () => ((await db.dataSource.query('SELECT count(*)::int AS n FROM users')) as { n: number }[])[0]!.n;
    const before = await countUsers();
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) =>
        db.dataSource.transaction(async (em) => {
          const [user] = await em.query('INSERT INTO users (scopes) VALUES ($1) RETURNING id', [[`s${i}`]]);
          const [{ n }] = await em.query('SELECT count(*)::int AS n FROM users WHERE id = $1', [user.id]);
          assert.equal(n, 1);
          if (i % 3 === 0) throw new Error('roll back');
        }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 'rejected').length, 20);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).message, 'roll back');
    assert.equal(await countUsers(), before + 40);
  });

  it('rolls back what a vanished connection left open and carries on', async () => {
    const options = db.dataSource.options as { host: string; port: number };
    const client = new pg.Client({ host: options.host, port: options.port, user: 'postgres', database: 'postgres' });
    await client.connect();
    client.on('error', () => {});
    await client.query('BEGIN');
    await client.query(`INSERT INTO users (scopes) VALUES ('{orphan}')`);
    // Drop the socket mid-transaction, as a crashed client would.
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();

    const orphans = await db.dataSource.query(`SELECT count(*)::int AS n FROM users WHERE 'orphan' = ANY(scopes)`);
    assert.equal(orphans[0].n, 0);
    const [{ inTransaction }] = await db.dataSource.query(`SELECT now() = statement_timestamp() AS "inTransaction"`);
    assert.equal(inTransaction, true, 'the next query runs in a transaction of its own');
  });

  it('lets every pooled connection use a named statement one of them prepared', async () => {
    // pg prepares a name once per connection; the session behind them all holds it once.
    const results = await Promise.allSettled(
      Array.from({ length: 300 }, async (_, i) => {
        const row = await one<{ r: number }>(db.dataSource, 'SELECT $1::int * 3 AS r', [i], 'queue_test_triple');
        assert.equal(row?.r, i * 3);
      }),
    );
    const failures = results.filter((r) => r.status === 'rejected');
    assert.equal(failures.length, 0, String((failures[0] as PromiseRejectedResult | undefined)?.reason));
    const [{ n }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = 'queue_test_triple'`);
    assert.equal(n, 1);
    const pool = (db.dataSource.driver as unknown as { master: { totalCount: number } }).master;
    assert.ok(pool.totalCount > 1, `the pool used ${pool.totalCount} connection(s)`);
  });

  it('refuses a name prepared with another text, and carries on', async () => {
    await one(db.dataSource, 'SELECT $1::int + 10 AS r', [1], 'queue_test_clash');
    const client = await socketClient();
    try {
      await assert.rejects(client.query({ name: 'queue_test_clash', text: 'SELECT $1::int - 10 AS r', values: [1] }), /already exists/);
      // The same text is answered as prepared, on this connection too.
      const { rows } = await client.query({ name: 'queue_test_clash', text: 'SELECT $1::int + 10 AS r', values: [5] });
      assert.equal(rows[0].r, 15);
    } finally {
      await client.end();
    }
    assert.equal((await one<{ r: number }>(db.dataSource, 'SELECT $1::int + 10 AS r', [2], 'queue_test_clash'))?.r, 12);
  });

  it('prepares again what a DEALLOCATE dropped', async () => {
    await one(db.dataSource, 'SELECT $1::int + 20 AS r', [1], 'queue_test_dropped');
    const client = await socketClient();
    try {
      await client.query('DEALLOCATE ALL');
    } finally {
      await client.end();
    }
    // Every pooled connection still thinks it holds the name; each Parse reaches the backend again.
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => one<{ r: number }>(db.dataSource, 'SELECT $1::int + 20 AS r', [i], 'queue_test_dropped')),
    );
    assert.deepEqual(
      results.map((r) => r?.r),
      Array.from({ length: 40 }, (_, i) => i + 20),
    );
  });

  it('keeps a shared statement that one connection closes: the others still use it', async () => {
    await one(db.dataSource, 'SELECT $1::int + 30 AS r', [1], 'queue_test_closed');
    const client = await socketClient();
    try {
      const { rows } = await client.query({ name: 'queue_test_closed', text: 'SELECT $1::int + 30 AS r', values: [2] });
      assert.equal(rows[0].r, 32);
      // pg has no API for Close: send Close (statement) and Sync on its connection.
      const connection = (client as unknown as { connection: PgConnection }).connection;
      const closed = new Promise<void>((resolve) => connection.once('closeComplete', () => resolve()));
      const ready = new Promise<void>((resolve) => connection.once('readyForQuery', () => resolve()));
      connection.close({ type: 'S', name: 'queue_test_closed' });
      connection.sync();
      await Promise.all([closed, ready]);
    } finally {
      await client.end();
    }
    const [{ n }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = 'queue_test_closed'`);
    assert.equal(n, 1);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => one<{ r: number }>(db.dataSource, 'SELECT $1::int + 30 AS r', [i], 'queue_test_closed')),
    );
    assert.deepEqual(
      results.map((r) => r?.r),
      Array.from({ length: 20 }, (_, i) => i + 30),
    );
  });

  it('answers an extended-protocol exchange at its Sync or Flush, in one piece, as PostgreSQL does', async () => {
    const options = db.dataSource.options as { host: string; port: number };
    const connection = new (pg as unknown as { Connection: new () => RawConnection }).Connection();
    const chunks: Buffer[] = [];
    const seen: string[] = [];
    for (const event of ['parseComplete', 'bindComplete', 'dataRow', 'commandComplete', 'readyForQuery']) {
      connection.on(event, () => seen.push(event));
    }
    const next = (event: string) => new Promise<void>((resolve) => connection.once(event, () => resolve()));
    connection.connect(`${options.host}/.s.PGSQL.${options.port}`);
    await next('connect');
    connection.stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    connection.startup({ user: 'postgres', database: 'postgres' });
    await next('readyForQuery');
    try {
      chunks.length = 0;
      seen.length = 0;
      connection.parse({ text: 'SELECT 41 + 1 AS r', types: [] });
      connection.bind({ values: [] });
      connection.execute({ rows: 0 });
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(seen, [], 'nothing is answered before Flush or Sync');
      assert.equal(chunks.length, 0);
      const flushed = next('commandComplete');
      connection.flush();
      await flushed;
      assert.deepEqual(seen, ['parseComplete', 'bindComplete', 'dataRow', 'commandComplete']);
      assert.equal(chunks.length, 1, 'the held answers came in one write');
      const ready = next('readyForQuery');
      connection.sync();
      await ready;
      assert.equal(seen.at(-1), 'readyForQuery');
    } finally {
      connection.end();
    }
    // The pool's connections go on as before.
    assert.equal((await one<{ r: number }>(db.dataSource, 'SELECT $1::int + 1 AS r', [1]))?.r, 2);
  });

  it("keeps a connection's messages in order when they come in separate chunks while another holds the session", async () => {
    const options = db.dataSource.options as { host: string; port: number };
    const holder = await socketClient();
    const connection = new (pg as unknown as { Connection: new () => RawConnection }).Connection();
    const next = (event: string) => new Promise<void>((resolve) => connection.once(event, () => resolve()));
    connection.connect(`${options.host}/.s.PGSQL.${options.port}`);
    await next('connect');
    connection.startup({ user: 'postgres', database: 'postgres' });
    await next('readyForQuery');
    const columns: string[] = [];
    connection.on('rowDescription', (message) => columns.push(...(message as { fields: { name: string }[] }).fields.map((f) => f.name)));
    // Both answers may come in one chunk, their two ReadyForQuery in one tick: counted as they come.
    let ready = 0;
    let bothReady: () => void = () => {};
    const answered = new Promise<void>((resolve) => (bothReady = resolve));
    connection.on('readyForQuery', () => ++ready === 2 && bothReady());
    try {
      await holder.query('BEGIN');
      // A simple query, then (in a chunk of its own, while the first still waits) an extended one.
      connection.query('SELECT 1 AS first');
      await new Promise((r) => setTimeout(r, 50));
      connection.parse({ text: 'SELECT 2 AS second', types: [] });
      connection.bind({ values: [] });
      connection.describe({ type: 'P' });
      connection.execute({ rows: 0 });
      connection.sync();
      await new Promise((r) => setTimeout(r, 50));
      await holder.query('COMMIT');
      await answered;
      assert.deepEqual(columns, ['first', 'second']);
    } finally {
      connection.end();
      await holder.end();
    }
  });

  async function socketClient(): Promise<pg.Client> {
    const options = db.dataSource.options as { host: string; port: number };
    const client = new pg.Client({ host: options.host, port: options.port, user: 'postgres', database: 'postgres' });
    await client.connect();
    return client;
  }
});
