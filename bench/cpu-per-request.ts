/**
 * `npm run bench:cpu`: the server's own CPU time per request (user + system, read from
 * /proc/<pid>/stat before and after each run) for the token hot paths, next to the same figure
 * for a bare connect-node unary RPC measured in the same run. Requests per second on this shared
 * 2-core machine swing with everyone else's load; CPU time per request swings less (contention
 * still inflates it: compare it to the bare RPC's, not across runs). The database's own CPU is
 * not in it (PostgreSQL runs in its own processes).
 *   - POST /oauth/token client_credentials (an agent and its API key as the client secret)
 *   - POST /api/sso/v1/auth/verify-token (a user's access token)
 *   - POST /oauth/introspect (a confidential OpenID Connect client; a token not its own)
 * The server runs on BENCH_DATABASE_URL (a scratch schema) or the embedded database;
 * BENCH_SECONDS per run (default 5), BENCH_CONNECTIONS (default 32), BENCH_OPS (some of
 * cc,verify,introspect). With BENCH_CPU_PROF=dir the server also writes a V8 CPU profile there
 * when it stops (open it in Chrome's DevTools).
 */
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { measure, postJson, startProcess, stopProcess, tempDir } from './lib.js';
import { scratchSchema } from './scratch-schema.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const port = 18900 + Math.floor(Math.random() * 500);
const base = `http://127.0.0.1:${port}`;
const ticksPerSecond = 100; // USER_HZ on Linux

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(child: ChildProcess): number {
  // Fields after the command name (which may hold spaces, hence the last ')'): utime is the 14th field, stime the 15th.
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

async function cpuPerRequest(child: ChildProcess, load: Parameters<typeof measure>[0]) {
  const before = cpuSeconds(child);
  const started = Date.now();
  const r = await measure({ connections, seconds, ...load });
  const cpu = cpuSeconds(child) - before;
  const requests = r.rps * ((Date.now() - started) / 1000);
  return { rps: r.rps, p50: r.p50, usPerRequest: (cpu / requests) * 1e6 };
}

async function main(): Promise<void> {
  const db = process.env.BENCH_DATABASE_URL ? await scratchSchema(process.env.BENCH_DATABASE_URL) : undefined;
  const profileDir = process.env.BENCH_CPU_PROF;
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    SSO_ISSUER: base,
    SSO_DATA_DIR: tempDir(),
    SSO_BCRYPT_COST: '4',
    SSO_KEY_SECRET: 'bench-key-secret-'.padEnd(40, 'x'),
    NODE_ENV: 'production',
    ...(db ? { DATABASE_URL: db.url } : {}),
  };
  const server = await startProcess('src/main.ts', env, `${base}/readyz`, profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []);
  const bare = await startProcess('bench/bare-server.ts', { PORT: String(port + 1) }, `http://127.0.0.1:${port + 1}/`);
  try {
    const post = (path: string, body: unknown, token?: string) => postJson(base, path, body, token);
    const admin = await post('/api/sso/v1/auth/login', { identifier: 'bench@example.com', secret: 'bench-password-1', register: true });
    const token = admin.access_token as string;
    const agent = await post('/api/sso/v1/agents', { name: 'bench agent', scopes: ['read:agents'] }, token);
    const agentKey = (await post('/api/sso/v1/apikeys', { agent_id: agent.id, name: 'bench agent key' }, token)).key as string;
    const app = await post(
      '/api/sso/v1/apps',
      { name: 'Bench RP', redirect_uris: ['https://rp.example/cb'], client_type: 'confidential' },
      token,
    );
    const basic = `Basic ${Buffer.from(`${app.client_id}:${encodeURIComponent(app.client_secret)}`).toString('base64')}`;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };

    // BENCH_OPS=cc,verify,introspect picks some (one op per run makes a CPU profile of that op alone).
    const only = process.env.BENCH_OPS?.split(',');
    const ops: [string, string, Parameters<typeof measure>[0]][] = [
      [
        'cc',
        'POST /oauth/token client_credentials',
        {
          url: `${base}/oauth/token`,
          method: 'POST',
          headers: form,
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: agent.id, client_secret: agentKey }).toString(),
        },
      ],
      [
        'verify',
        'POST /auth/verify-token',
        {
          url: `${base}/api/sso/v1/auth/verify-token`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token }),
        },
      ],
      // The admin's token is not a client's: introspection answers `active: false` after the
      // client's authentication, the signature check and the session read.
      [
        'introspect',
        "POST /oauth/introspect (not this client's token)",
        {
          url: `${base}/oauth/introspect`,
          method: 'POST',
          headers: { ...form, authorization: basic },
          body: new URLSearchParams({ token }).toString(),
        },
      ],
    ];
    const rows: [string, Awaited<ReturnType<typeof cpuPerRequest>>][] = [];
    rows.push([
      'bare connect-node unary RPC (its own process)',
      await cpuPerRequest(bare, {
        url: `http://127.0.0.1:${port + 1}/sso.auth.v1.AuthService/GetMe`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
    ]);
    for (const [key, name, load] of ops) if (!only || only.includes(key)) rows.push([name, await cpuPerRequest(server, load)]);
    console.log(`\nServer CPU per request (${db ? 'PostgreSQL' : 'embedded database'}, ${connections} connections, ${seconds} s a run)`);
    for (const [name, r] of rows) {
      console.log(
        `  ${name.padEnd(52)} ${r.usPerRequest.toFixed(0).padStart(6)} µs CPU/request  ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50} ms`,
      );
    }
    if (db) {
      // Rows one statement wrote share its transaction id: the audit log's group commit, counted.
      const [audit] = await db.query<{ events: number; statements: number }>(
        `SELECT count(*)::int AS events, count(DISTINCT xmin::text)::int AS statements FROM audit_events WHERE type = 'client_credentials'`,
      );
      console.log(
        `  client_credentials audit events ${audit!.events} in ${audit!.statements} INSERTs (${(audit!.events / audit!.statements).toFixed(1)} a statement)`,
      );
    }
  } finally {
    await Promise.all([stopProcess(server), stopProcess(bare)]);
    await db?.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
