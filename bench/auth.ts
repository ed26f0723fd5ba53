/**
 * `npm run bench`: every figure of issue 14's table, each as a ratio to a raw limit measured in
 * the same run, just before it (the machine is shared: its load drifts, so a limit measured
 * minutes away would divide by a different machine), on both databases:
 *   - client_credentials (POST /oauth/token)       ÷ raw ES256 sign (jose, one at a time)
 *   - verify-token, GET /me (JWT and API key), API-key verify, /verify with a bad app key
 *                                                  ÷ a bare connect-node unary RPC (GET /me by key also ÷ by JWT)
 *   - refresh                                      ÷ a raw PostgreSQL insert+update transaction
 *   - login, /verify                               ÷ raw bcrypt.compare at the same cost, as many at a time as the run
 *                                                  has connections (HASH_CONNECTIONS), counted over the same window
 *   - embedded database: first start and restart to ready, idle RSS, and every ratio ÷ PostgreSQL's
 * PostgreSQL is BENCH_DATABASE_URL, else TEST_PG_URL, else the CI cluster
 * (postgres://postgres@127.0.0.1:5432/test) when it answers; BENCH_ONLY=embedded|postgres runs one.
 * BENCH_SECONDS per run (default 5) after BENCH_WARMUP_SECONDS of the same load unmeasured (default 2),
 * BENCH_CONNECTIONS (default 32), BENCH_BCRYPT_COST (default 10).
 * The load generator shares the cores with the server and the database: compare ratios, not rates.
 */
import { HASH_CONNECTIONS, measureServer, type Limits, type OpName, type ServerFigures } from './auth-ops.js';
import { bcryptCompare, es256, openPostgresLimits } from './raw-limits.js';
import { bareRpcRate, benchPostgresUrl, startProcess, stopProcess } from './lib.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const cost = Number(process.env.BENCH_BCRYPT_COST ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const port = 18400 + Math.floor(Math.random() * 500);
const limitSeconds = Math.max(2, Math.round(seconds / 2));

const rows: [OpName, string, string][] = [
  ['clientCredentials', 'POST /oauth/token client_credentials', 'raw ES256 sign'],
  ['verifyToken', 'POST /auth/verify-token', 'bare RPC'],
  ['meJwt', 'GET /me, JWT', 'bare RPC'],
  ['meKey', 'GET /me, API key', 'bare RPC'],
  ['apiKeyVerify', 'POST /apikeys/verify', 'bare RPC'],
  ['refresh', 'POST /auth/refresh', 'raw PG insert+update tx (goal >= 0.5)'],
  ['login', 'POST /auth/login', `raw bcrypt cost ${cost} x${HASH_CONNECTIONS} (goal >= 0.9)`],
  ['verifyAuthorized', 'POST /verify authorized', `raw bcrypt cost ${cost} x${HASH_CONNECTIONS} (goal >= 0.9)`],
  ['verifyBadKey', 'POST /verify bad app key (no hash)', 'bare RPC'],
];
const ratioOf = (r: { rps: number; limit: number }) => r.rps / r.limit;

function print(label: string, f: ServerFigures): void {
  console.log(`\n${label}          req/s  p50/p99 ms    limit/s  ratio  limit`);
  for (const [key, name, limitName] of rows) {
    const r = f.ops[key];
    console.log(
      `  ${name.padEnd(38)} ${r.rps.toFixed(0).padStart(6)}  ${`${r.p50}/${r.p99}`.padEnd(11)} ${r.limit.toFixed(0).padStart(8)} ` +
        `${ratioOf(r).toFixed(2).padStart(6)}x ${limitName}`,
    );
  }
  const byKey = ratioOf(f.ops.meKey) / ratioOf(f.ops.meJwt);
  console.log(`  GET /me by API key ÷ by JWT (each ÷ its bare RPC): ${byKey.toFixed(2)}x (goal >= 0.8)`);
  if (f.start) {
    console.log(
      `  first start to ready ${f.start.firstMs} ms (goal <= 3000), restart ${f.start.restartMs} ms (goal <= 1000), ` +
        `idle RSS ${f.start.idleRssMb} MB after the first start, ${f.start.restartIdleRssMb} MB after a restart (goal <= 250)`,
    );
  }
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY;
  const pgUrl = only === 'embedded' ? undefined : await benchPostgresUrl();
  if (only === 'postgres' && !pgUrl) throw new Error('no PostgreSQL to benchmark');

  const bareBase = `http://127.0.0.1:${port + 1}`;
  const bare = await startProcess('bench/bare-server.ts', { PORT: String(port + 1) }, `${bareBase}/`);
  const keys = await es256();
  const pgLimits = pgUrl ? await openPostgresLimits(pgUrl) : undefined;
  try {
    const limits: Limits = {
      bareRpc: () => bareRpcRate(bareBase, connections, limitSeconds),
      es256Sign: () => keys.sign(limitSeconds),
      // The same concurrency and the same window as the run it divides (bcrypt's slow jobs make
      // the work cut off when a window closes count).
      bcrypt: () => bcryptCompare(cost, seconds, HASH_CONNECTIONS),
      pgTx: async () => pgLimits?.tx(limitSeconds),
    };
    const results: Partial<Record<'embedded' | 'postgres', ServerFigures>> = {};
    if (only !== 'postgres') results.embedded = await measureServer({ port, limits, cost, seconds });
    if (pgUrl) results.postgres = await measureServer({ port, limits, cost, seconds, databaseUrl: pgUrl });

    console.log(
      `\nNode ${process.version}, ${connections} connections (${HASH_CONNECTIONS} for login and /verify), ${seconds} s a run after ` +
        `${process.env.BENCH_WARMUP_SECONDS ?? 2} s unmeasured, each raw limit measured for ${limitSeconds} s (bcrypt ${seconds} s) ` +
        'just before the run it divides; the load generator shares the 2 cores with the server and ' +
        'the database, and so may other work on this machine: repeat before concluding',
    );
    if (pgLimits) console.log(`PostgreSQL SELECT 1 (pool 8, 16 workers): ${(await pgLimits.select1(limitSeconds)).toFixed(0)}/s`);
    if (results.embedded) print('Embedded database (PGlite)', results.embedded);
    if (results.postgres) print('PostgreSQL', results.postgres);
    if (results.embedded && results.postgres) {
      console.log('\nEmbedded ÷ PostgreSQL, ratio to ratio (goal >= 0.7 each)');
      for (const [key, name] of rows) {
        console.log(
          `  ${name.padEnd(38)} ${(ratioOf(results.embedded.ops[key]) / ratioOf(results.postgres.ops[key])).toFixed(2).padStart(6)}x`,
        );
      }
    }
  } finally {
    await pgLimits?.close();
    await stopProcess(bare);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
