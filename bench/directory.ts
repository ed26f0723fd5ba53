/**
 * `npx tsx bench/directory.ts`: how fast GET /api/sso/v1/users stays with 100,000 users.
 *
 * Seeds 100,000 users (one e-mail identifier each; every 10th holds the role `editor`, every 50th
 * is inactive) with a few INSERT ... SELECT generate_series statements, then VACUUM ANALYZE (the
 * steady state autovacuum keeps on PostgreSQL), starts the server in its own process and measures
 * the latency of sequential requests, next to the raw limits measured in the same run: a bare
 * `SELECT 1` from this process, and GET /readyz (one HTTP round trip plus `SELECT 1` in the server);
 * and the plain `SELECT count(*) FROM users` every unfiltered page pays for its `total`.
 *
 * Embedded database by default (seeded in a fresh data dir before the server opens it); with
 * BENCH_DATABASE_URL, PostgreSQL, in a schema of its own that is dropped at the end.
 * BENCH_USERS changes the count; BENCH_REQUESTS the requests per measurement (default 100).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import bcrypt from 'bcrypt';
import pg from 'pg';
import { openDatabase, type DatabaseConfig } from '../src/db/data-source.js';
import { startProcess, stopProcess, tempDir } from './lib.js';

const users = Number(process.env.BENCH_USERS ?? 100_000);
const requests = Number(process.env.BENCH_REQUESTS ?? 100);
const port = 18900 + Math.floor(Math.random() * 500);
const base = `http://127.0.0.1:${port}`;
const ADMIN = { identifier: 'bench-admin@example.com', secret: 'bench-admin-password' };

interface Latency {
  p50: number;
  p95: number;
  mean: number;
}

function summarize(ms: number[]): Latency {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p95: at(0.95), mean: ms.reduce((a, b) => a + b, 0) / ms.length };
}

/** Sequential latencies of one job, after a short warm-up. */
async function time(job: () => Promise<void>): Promise<Latency> {
  for (let i = 0; i < 5; i++) await job();
  const ms: number[] = [];
  for (let i = 0; i < requests; i++) {
    const start = process.hrtime.bigint();
    await job();
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return summarize(ms);
}

async function seed(config: DatabaseConfig): Promise<{ selectOne: Latency; count: Latency; seedSeconds: number }> {
  const db = await openDatabase(config);
  try {
    const ds = db.dataSource;
    const started = Date.now();
    const hash = await bcrypt.hash(ADMIN.secret, 4);
    const [admin] = await ds.query(`INSERT INTO users (password_hash, is_admin) VALUES ($1, true) RETURNING id`, [hash]);
    await ds.query(`INSERT INTO user_identifiers (user_id, type, value, is_primary) VALUES ($1, 'email', $2, true)`, [
      admin.id,
      ADMIN.identifier,
    ]);
    await ds.query(`INSERT INTO users (is_active) SELECT g % 50 <> 0 FROM generate_series(1, $1::int) g`, [users]);
    await ds.query(
      `INSERT INTO user_identifiers (user_id, type, value, is_primary)
                    SELECT id, 'email', 'bench' || number || '@example.com', true FROM users WHERE id <> $1`,
      [admin.id],
    );
    const [role] = await ds.query(
      `INSERT INTO roles (name, slug, scopes) VALUES ('Editor', 'editor', '{read:posts,write:posts}') RETURNING id`,
    );
    await ds.query(`INSERT INTO user_roles (user_id, role_id) SELECT id, $1 FROM users WHERE number % 10 = 0`, [role.id]);
    await ds.query('VACUUM ANALYZE');
    const seedSeconds = (Date.now() - started) / 1000;
    const selectOne = await time(async () => {
      await ds.query('SELECT 1');
    });
    // What every unfiltered page pays for its `total`.
    const count = await time(async () => {
      await ds.query('SELECT count(*) FROM users');
    });
    return { selectOne, count, seedSeconds };
  } finally {
    await db.close();
  }
}

async function main(): Promise<void> {
  const url = process.env.BENCH_DATABASE_URL;
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const dataDir = tempDir();
  let serverEnv: Record<string, string>;
  let dbConfig: DatabaseConfig;
  if (url) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    dbConfig = { kind: 'postgres', url, schema };
    const withSchema = new URL(url);
    withSchema.searchParams.set('options', `-c search_path=${schema}`);
    serverEnv = { DATABASE_URL: withSchema.toString() };
  } else {
    dbConfig = { kind: 'embedded', dataDir: `${dataDir}/db` };
    serverEnv = {};
  }

  try {
    process.stdout.write(`seeding ${users} users... `);
    const { selectOne, count, seedSeconds } = await seed(dbConfig);
    console.log(`${seedSeconds.toFixed(1)} s`);

    const server = await startProcess(
      'src/main.ts',
      {
        PORT: String(port),
        HOST: '127.0.0.1',
        SSO_DATA_DIR: dataDir,
        SSO_BCRYPT_COST: '4',
        ...serverEnv,
      },
      `${base}/readyz`,
    );
    try {
      const login = await fetch(`${base}/api/sso/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ADMIN),
      });
      if (!login.ok) throw new Error(`login: ${login.status} ${await login.text()}`);
      const token = ((await login.json()) as { access_token: string }).access_token;
      const get = (path: string, check?: (body: any) => void) => async () => {
        const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
        if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
        const body = await res.json();
        check?.(body);
      };
      const total = users + 1;
      const expectPage = (offset: number, n: number) => (body: any) => {
        if (body.total !== total || body.items.length !== n || body.offset !== offset) {
          throw new Error(`unexpected page: total ${body.total}, ${body.items.length} items at ${body.offset}`);
        }
      };
      const late = Math.max(0, total - 101);
      const rows: [string, Latency][] = [
        ['SELECT 1 from the bench process (raw limit)', selectOne],
        ['SELECT count(*) FROM users from the bench process', count],
        ['GET /readyz (HTTP + SELECT 1, raw limit)', await time(get('/readyz'))],
        ['GET /api/sso/v1/me (authenticated RPC, one user)', await time(get('/api/sso/v1/me'))],
        ['GET /api/sso/v1/users (first page, 10)', await time(get('/api/sso/v1/users', expectPage(0, 10)))],
        [`GET /api/sso/v1/users?offset=${late} (late page, 10)`, await time(get(`/api/sso/v1/users?offset=${late}`, expectPage(late, 10)))],
        ['GET /api/sso/v1/users?limit=100 (first page, 100)', await time(get('/api/sso/v1/users?limit=100', expectPage(0, 100)))],
        [
          `GET /api/sso/v1/users?offset=${late}&limit=100`,
          await time(get(`/api/sso/v1/users?offset=${late}&limit=100`, expectPage(late, 100))),
        ],
        ['GET /api/sso/v1/users?is_active=false&offset=1900', await time(get('/api/sso/v1/users?is_active=false&offset=1900'))],
        ['GET /api/sso/v1/users?role=editor&offset=9900', await time(get('/api/sso/v1/users?role=editor&offset=9900'))],
        ['GET /api/sso/v1/users?identifier=bench4242@', await time(get('/api/sso/v1/users?identifier=bench4242@'))],
      ];
      console.log(
        `\nDirectory list benchmark (${url ? 'PostgreSQL' : 'embedded database'}, ${total} users, ${requests} sequential requests each, 2 cores)`,
      );
      console.log(`${''.padEnd(56)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'mean ms'.padStart(8)}`);
      for (const [name, l] of rows) {
        console.log(`${name.padEnd(56)} ${l.p50.toFixed(2).padStart(8)} ${l.p95.toFixed(2).padStart(8)} ${l.mean.toFixed(2).padStart(8)}`);
      }
    } finally {
      await stopProcess(server);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    if (url) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
