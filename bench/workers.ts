/**
 * `npm run bench:workers`: what SSO_WORKERS buys. Login, GET /me (JWT) and client_credentials,
 * each on a server with 1 and with 2 workers, on the embedded database and on PostgreSQL; each
 * figure as a ratio to its raw limit measured just before it in this process (bcrypt.compare at
 * the same cost two at a time, a bare connect-node RPC, one ES256 signature at a time), and the
 * 2-worker ratio divided by the 1-worker one. The raw limits use one process (bcrypt two threads):
 * a ratio above 1 is what a second process adds. PostgreSQL: BENCH_DATABASE_URL, else the CI
 * cluster when it answers; BENCH_ONLY=embedded|postgres; BENCH_SECONDS (default 5),
 * BENCH_CONNECTIONS (default 32), BENCH_BCRYPT_COST (default 10).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { measure, postJson, startProcess, stopProcess, tempDir } from './lib.js';
import { bcryptCompare, es256 } from './raw-limits.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const cost = Number(process.env.BENCH_BCRYPT_COST ?? 10);
const limitSeconds = Math.max(2, Math.round(seconds / 2));
const port = 19400 + Math.floor(Math.random() * 500);
const PASSWORD = 'bench-password-1';

type Op = 'login' | 'me' | 'clientCredentials';
const ops: [Op, string, string][] = [
  ['login', 'POST /auth/login', `raw bcrypt cost ${cost} x2`],
  ['me', 'GET /me, JWT', 'bare RPC'],
  ['clientCredentials', 'POST /oauth/token client_credentials', 'raw ES256 sign'],
];

async function postgresUrl(): Promise<string | undefined> {
  const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return url;
  } catch {
    if (process.env.BENCH_DATABASE_URL) throw new Error(`BENCH_DATABASE_URL does not answer: ${url}`);
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A scratch schema on PostgreSQL (dropped by the returned function), as DATABASE_URL. */
async function scratchSchema(url: string): Promise<{ databaseUrl: string; drop(): Promise<void> }> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return {
    databaseUrl: u.toString(),
    drop: async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

type Limits = Record<Op, () => Promise<number>>;

async function measureWith(
  workers: number,
  limits: Limits,
  pgUrl: string | undefined,
): Promise<Record<Op, { rps: number; limit: number }>> {
  const base = `http://127.0.0.1:${port}`;
  const schema = pgUrl ? await scratchSchema(pgUrl) : undefined;
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    SSO_DATA_DIR: tempDir(),
    SSO_BCRYPT_COST: String(cost),
    SSO_KEY_SECRET: 'bench-key-secret-'.padEnd(40, 'x'),
    NODE_ENV: 'production',
    // A load test is not a guessing attack: login protection's limits are raised.
    SSO_LOGIN_MAX_FAILURES: '1000',
    SSO_LOGIN_MAX_FAILURES_PER_IP: '100000',
    ...(schema && { DATABASE_URL: schema.databaseUrl }),
  };
  const child = await startProcess('src/main.ts', env, `${base}/readyz`, [], workers);
  try {
    const admin = await postJson(base, '/api/sso/v1/auth/login', { identifier: 'bench@example.com', secret: PASSWORD, register: true });
    const token = admin.access_token as string;
    const agent = await postJson(base, '/api/sso/v1/agents', { name: 'bench agent', scopes: ['read:agents'] }, token);
    const agentKey = (await postJson(base, '/api/sso/v1/apikeys', { agent_id: agent.id, name: 'bench agent key' }, token)).key as string;
    const json = { 'content-type': 'application/json' };
    const run = async (op: Op, load: Parameters<typeof measure>[0]) => {
      const limit = await limits[op]();
      return { rps: (await measure({ connections, seconds, ...load })).rps, limit };
    };
    return {
      // Hash-bound: two hashes per process at once keep every core busy without queueing.
      login: await run('login', {
        url: `${base}/api/sso/v1/auth/login`,
        method: 'POST',
        headers: json,
        connections: 4 * workers,
        body: JSON.stringify({ identifier: 'bench@example.com', secret: PASSWORD }),
      }),
      me: await run('me', { url: `${base}/api/sso/v1/me`, headers: { authorization: `Bearer ${token}` } }),
      clientCredentials: await run('clientCredentials', {
        url: `${base}/oauth/token`,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: agent.id, client_secret: agentKey }).toString(),
      }),
    };
  } finally {
    await stopProcess(child);
    await schema?.drop();
  }
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY;
  const pgUrl = only === 'embedded' ? undefined : await postgresUrl();
  const barePort = port + 1;
  const bare = await startProcess('bench/bare-server.ts', { PORT: String(barePort) }, `http://127.0.0.1:${barePort}/`);
  const keys = await es256();
  const limits: Limits = {
    login: () => bcryptCompare(cost, limitSeconds),
    me: async () =>
      (
        await measure({
          url: `http://127.0.0.1:${barePort}/sso.auth.v1.AuthService/GetMe`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
          connections,
          seconds: limitSeconds,
        })
      ).rps,
    clientCredentials: () => keys.sign(limitSeconds),
  };
  try {
    const databases: [string, string | undefined][] = [];
    if (only !== 'postgres') databases.push(['Embedded database (PGlite)', undefined]);
    if (pgUrl) databases.push(['PostgreSQL', pgUrl]);
    const results: [string, Record<Op, { rps: number; limit: number }>[]][] = [];
    for (const [label, url] of databases) results.push([label, [await measureWith(1, limits, url), await measureWith(2, limits, url)]]);
    console.log(
      `\nNode ${process.version}, ${connections} connections (login: 4 per worker), ${seconds} s a run, each raw limit measured ` +
        `for ${limitSeconds} s just before the run it divides; the load generator shares the cores with the server: compare ratios`,
    );
    for (const [label, [one, two]] of results) {
      console.log(`\n${label}                          1 worker: req/s  ratio   2 workers: req/s  ratio   2 ÷ 1   limit`);
      for (const [op, name, limitName] of ops) {
        const r1 = one![op].rps / one![op].limit;
        const r2 = two![op].rps / two![op].limit;
        console.log(
          `  ${name.padEnd(38)} ${one![op].rps.toFixed(0).padStart(12)} ${r1.toFixed(2).padStart(6)}x ` +
            `${two![op].rps.toFixed(0).padStart(17)} ${r2.toFixed(2).padStart(6)}x ${(r2 / r1).toFixed(2).padStart(6)}x   ${limitName}`,
        );
      }
    }
  } finally {
    await stopProcess(bare);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
