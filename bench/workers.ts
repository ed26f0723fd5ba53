/**
 * `npm run bench:workers`: what SSO_WORKERS buys. Login, GET /me (JWT) and client_credentials,
 * each on a server with 1 and with 2 workers, on the embedded database and on PostgreSQL; each
 * figure as a ratio to its raw limit measured just before it in this process (bcrypt.compare at
 * the same cost two at a time, a bare connect-node RPC, one ES256 signature at a time), and the
 * 2-worker ratio divided by the 1-worker one. The raw limits use one process (bcrypt two threads):
 * a ratio above 1 is what a second process adds. Beside each run, the cores the server kept busy
 * (Linux /proc): with workers, the primary's share shows whether the embedded database, which runs
 * in the primary's one thread, is the bottleneck. PostgreSQL: BENCH_DATABASE_URL, else the CI
 * cluster when it answers; BENCH_ONLY=embedded|postgres; BENCH_SECONDS (default 5),
 * BENCH_CONNECTIONS (default 32), BENCH_BCRYPT_COST (default 10).
 */
import { readFileSync } from 'node:fs';
import { bareRpcRate, benchPostgresUrl, measure, postJson, startProcess, stopProcess, tempDir } from './lib.js';
import { bcryptCompare, es256 } from './raw-limits.js';
import { scratchSchema } from './scratch-schema.js';

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

/** CPU seconds a process and its threads have used so far (Linux: /proc/<pid>/stat utime + stime, 100 ticks a second). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The primary's workers (its child processes), to tell their CPU time from the primary's. */
function childPids(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** A rate, its raw limit, and the cores the primary and the workers kept busy meanwhile (one process: all in `primary`). */
type Rate = { rps: number; limit: number; primaryCores: number; workerCores: number };

type Limits = Record<Op, () => Promise<number>>;

async function measureWith(workers: number, limits: Limits, pgUrl: string | undefined): Promise<Record<Op, Rate>> {
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
    ...(schema && { DATABASE_URL: schema.url }),
  };
  const child = await startProcess('src/main.ts', env, `${base}/readyz`, [], workers);
  try {
    const admin = await postJson(base, '/api/sso/v1/auth/login', { identifier: 'bench@example.com', secret: PASSWORD, register: true });
    const token = admin.access_token as string;
    const agent = await postJson(base, '/api/sso/v1/agents', { name: 'bench agent', scopes: ['read:agents'] }, token);
    const agentKey = (await postJson(base, '/api/sso/v1/apikeys', { agent_id: agent.id, name: 'bench agent key' }, token)).key as string;
    const json = { 'content-type': 'application/json' };
    const pid = child.pid!;
    const workerPids = workers > 1 ? childPids(pid) : [];
    const workerCpu = () => workerPids.reduce((sum, p) => sum + cpuSeconds(p), 0);
    const run = async (op: Op, load: Parameters<typeof measure>[0]): Promise<Rate> => {
      const limit = await limits[op]();
      const [primaryBefore, workersBefore, started] = [cpuSeconds(pid), workerCpu(), Date.now()];
      const { rps } = await measure({ connections, seconds, ...load });
      const wall = (Date.now() - started) / 1000;
      return { rps, limit, primaryCores: (cpuSeconds(pid) - primaryBefore) / wall, workerCores: (workerCpu() - workersBefore) / wall };
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
  const pgUrl = only === 'embedded' ? undefined : await benchPostgresUrl();
  const barePort = port + 1;
  const bare = await startProcess('bench/bare-server.ts', { PORT: String(barePort) }, `http://127.0.0.1:${barePort}/`);
  const keys = await es256();
  const limits: Limits = {
    login: () => bcryptCompare(cost, limitSeconds),
    me: () => bareRpcRate(`http://127.0.0.1:${barePort}`, connections, limitSeconds),
    clientCredentials: () => keys.sign(limitSeconds),
  };
  try {
    const databases: [string, string | undefined][] = [];
    if (only !== 'postgres') databases.push(['Embedded database (PGlite)', undefined]);
    if (pgUrl) databases.push(['PostgreSQL', pgUrl]);
    const results: [string, Record<Op, Rate>[]][] = [];
    for (const [label, url] of databases) results.push([label, [await measureWith(1, limits, url), await measureWith(2, limits, url)]]);
    console.log(
      `\nNode ${process.version}, ${connections} connections (login: 4 per worker), ${seconds} s a run, each raw limit measured ` +
        `for ${limitSeconds} s just before the run it divides; the load generator shares the cores with the server: compare ratios`,
    );
    for (const [label, [one, two]] of results) {
      console.log(`\n${label}`);
      console.log(`  ${''.padEnd(38)} 1 worker: req/s ratio  cores | 2 workers: req/s ratio  cores (primary + workers) | 2 ÷ 1  limit`);
      for (const [op, name, limitName] of ops) {
        const [a, b] = [one![op], two![op]];
        const r1 = a.rps / a.limit;
        const r2 = b.rps / b.limit;
        console.log(
          `  ${name.padEnd(38)} ${a.rps.toFixed(0).padStart(15)} ${r1.toFixed(2).padStart(5)}x ${a.primaryCores.toFixed(2).padStart(5)} |` +
            ` ${b.rps.toFixed(0).padStart(16)} ${r2.toFixed(2).padStart(5)}x ${b.primaryCores.toFixed(2).padStart(5)} + ${b.workerCores.toFixed(2).padEnd(14)} |` +
            ` ${(r2 / r1).toFixed(2).padStart(5)}x ${limitName}`,
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
