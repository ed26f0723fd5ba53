/**
 * pipelinedTransaction (src/db/repositories/pipelined-transaction.ts): statements sent together
 * really go out before the answer to the first, and a failure anywhere leaves nothing behind and
 * no transaction open, on the database the suite runs on (PostgreSQL with TEST_DATABASE_URL, else
 * the embedded one).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { DataSource } from 'typeorm';

import type { Database } from '../../src/db/data-source.js';
import { BEGIN, COMMIT, pipelinedTransaction } from '../../src/db/repositories/pipelined-transaction.js';
import { one, uniqueViolation, useDirectPool } from '../../src/db/repositories/sql.js';
import { openTestDatabase } from '../support/database.js';

/**
 * A proxy in front of the database that can hold the database's answers until the client has
 * sent a given text, or a second has passed: a client that waits for each answer before sending
 * the next statement never sends it while the answers are held.
 */
class HoldingProxy {
  private hold: { marker: string; release: (byMarker: boolean) => void } | undefined;
  private readonly server: Server;
  readonly dir: Promise<string>;

  constructor(private readonly upstream: () => Socket) {
    this.server = createServer((client) => this.pipe(client));
    this.dir = mkdtemp(join(tmpdir(), 'sso-pipeline-proxy-')).then(
      (dir) => new Promise<string>((resolve) => this.server.listen(join(dir, '.s.PGSQL.5432'), () => resolve(dir))),
    );
  }

  /** Holds answers until `marker` has been sent; resolves true if it was, false after a second. */
  holdUntilSent(marker: string): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => this.hold?.release(false), 1000);
      this.hold = {
        marker,
        release: (byMarker) => {
          clearTimeout(timer);
          this.hold = undefined;
          for (const flush of this.held.splice(0)) flush();
          resolve(byMarker);
        },
      };
    });
  }

  private readonly held: (() => void)[] = [];

  private pipe(client: Socket): void {
    const server = this.upstream();
    client.on('data', (chunk) => {
      server.write(chunk);
      if (this.hold && chunk.includes(this.hold.marker)) this.hold.release(true);
    });
    server.on('data', (chunk) => {
      if (this.hold) this.held.push(() => client.write(chunk));
      else client.write(chunk);
    });
    for (const [a, b] of [
      [client, server],
      [server, client],
    ] as const) {
      a.on('close', () => b.destroy());
      a.on('error', () => b.destroy());
    }
  }

  async close(): Promise<void> {
    await new Promise((r) => this.server.close(r));
    await rm(await this.dir, { recursive: true, force: true });
  }
}

describe('pipelinedTransaction', () => {
  let db: Database;
  before(async () => {
    db = await openTestDatabase();
  });
  after(async () => {
    await db?.close();
  });

  const throttleRows = async (key: string) =>
    (await one<{ n: number }>(db.dataSource, 'SELECT count(*)::int AS n FROM login_throttles WHERE key = $1', [key]))!.n;
  const insert = (key: string) => ({
    text: 'INSERT INTO login_throttles (key, failures, updated_at, inflight) VALUES ($1, 0, now(), 0)',
    values: [key],
  });

  it('sends the statement after BEGIN before the answer to BEGIN has come', async () => {
    const options = db.dataSource.options as { host?: string; port?: number; url?: string };
    const socket = db.socket;
    const url = socket ? undefined : new URL(options.url!);
    const proxy = new HoldingProxy(() =>
      socket ? connect(join(socket.dir, `.s.PGSQL.${socket.port}`)) : connect(Number(url!.port || 5432), url!.hostname),
    );
    const user = url ? decodeURIComponent(url.username || 'postgres') : 'postgres';
    const database = url ? url.pathname.slice(1) : 'postgres';
    const viaProxy = new DataSource({ type: 'postgres', host: await proxy.dir, port: 5432, username: user, database, poolSize: 2 });
    await viaProxy.initialize();
    useDirectPool(viaProxy, true);
    try {
      const marker = 'pipelined_marker';
      const sentBeforeAnswer = proxy.holdUntilSent(marker);
      const answer = await pipelinedTransaction(viaProxy, async (tx) => {
        const [, selected] = await tx.send<{ r: number }>(BEGIN, { text: `SELECT 41 + $1::int AS ${marker}`, values: [1] });
        await tx.send(COMMIT);
        return selected!.rows[0];
      });
      assert.equal(await sentBeforeAnswer, true, 'the SELECT went out while the answer to BEGIN was held');
      assert.deepEqual(answer, { [marker]: 42 });
    } finally {
      await viaProxy.destroy();
      await proxy.close();
    }
  });

  it('rolls back what work left open when it throws', async () => {
    await assert.rejects(
      pipelinedTransaction(db.dataSource, async (tx) => {
        await tx.send(BEGIN, insert('pipeline:thrown'));
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.equal(await throttleRows('pipeline:thrown'), 0);
  });

  it("throws the failing statement's error and commits nothing of the transaction", async () => {
    const error = await pipelinedTransaction(db.dataSource, async (tx) => {
      await tx.send(BEGIN, insert('pipeline:first'));
      // The duplicate fails; the COMMIT sent behind it ends the failed transaction as a rollback.
      await tx.send(insert('pipeline:first'), COMMIT);
    }).catch((e: unknown) => e);
    assert.ok(uniqueViolation(error), String(error));
    assert.equal(await throttleRows('pipeline:first'), 0);
  });

  it('leaves no transaction open after a failure: the pool goes on', async () => {
    await assert.rejects(
      pipelinedTransaction(db.dataSource, (tx) => tx.send(BEGIN, { text: 'SELECT 1 / $1::int', values: [0] })),
      /division by zero/,
    );
    // Every connection of the pool, the failed one among them, takes a committed write.
    await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        pipelinedTransaction(db.dataSource, async (tx) => {
          await tx.send(BEGIN, insert(`pipeline:after:${i}`));
          await tx.send(COMMIT);
        }),
      ),
    );
    for (let i = 0; i < 4; i++) assert.equal(await throttleRows(`pipeline:after:${i}`), 1);
  });
});
