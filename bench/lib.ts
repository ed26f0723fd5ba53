import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';

/** The SSO server's processes (SSO_WORKERS) in every benchmark: BENCH_WORKERS, else one. */
export const benchWorkers = Number(process.env.BENCH_WORKERS ?? 1);

/**
 * The readiness URL answers once the first worker listens; the others start beside it and listen
 * within a second or two (their ready line is not seen here: the server's log is silenced, since
 * logging every call would be measured too).
 */
const WORKERS_SETTLE_MS = 5000;

let built = false;

/**
 * The SSO server as `npm start` runs it: built into one file by `npm run build` (once per
 * benchmark process), then node's arguments for it (package.json's start script, less `node`).
 */
export function builtServerArgs(): string[] {
  if (!built) execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  built = true;
  const start = JSON.parse(readFileSync('package.json', 'utf8')).scripts.start as string;
  return start.split(' ').slice(1);
}

/**
 * Starts a server script in its own process (so the load generator does not share its event loop).
 * The SSO server (src/main.ts, built and run as `npm start` does: builtServerArgs) runs with `workers` processes (default BENCH_WORKERS, else 1).
 */
export async function startProcess(
  script: string,
  env: Record<string, string>,
  readyUrl: string,
  nodeArgs: string[] = [],
  workers = benchWorkers,
): Promise<ChildProcess> {
  const sso = script === 'src/main.ts';
  const child = spawn(process.execPath, [...nodeArgs, ...(sso ? builtServerArgs() : ['--import', 'tsx', script])], {
    env: { ...process.env, LOG_LEVEL: 'silent', ...(sso && { SSO_WORKERS: String(workers) }), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // A first start on a busy machine runs initdb slowly; workers start after the database is open.
  const deadline = Date.now() + (sso ? 180_000 : 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    try {
      const res = await fetch(readyUrl);
      if (res.ok) {
        if (sso && workers > 1) await new Promise((r) => setTimeout(r, WORKERS_SETTLE_MS));
        return child;
      }
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${script} did not become ready`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sso-bench-'));
}

export interface Load {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Per-connection request chaining (autocannon's requests array). */
  requests?: autocannon.Request[];
  connections?: number;
  seconds?: number;
}

/** Requests per second (mean) and latency percentiles of one load run; non-2xx answers fail the run. */
export async function measure(load: Load): Promise<{ rps: number; p50: number; p99: number }> {
  const result = await autocannon({
    url: load.url,
    method: load.method ?? 'GET',
    headers: load.headers,
    body: load.body,
    requests: load.requests,
    connections: load.connections ?? 10,
    duration: load.seconds ?? Number(process.env.BENCH_SECONDS ?? 5),
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${load.url}: ${result.non2xx} non-2xx answers and ${result.errors} errors of ${result.requests.total}`);
  }
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

/**
 * Throughput of a CPU-bound async job run `parallel` at a time for `seconds`, counted as autocannon
 * counts a server's: jobs finished within the window, over the window (the work of jobs still
 * running when it closes is lost to both sides alike, which matters for slow jobs such as bcrypt).
 */
export async function opsPerSecond(job: () => Promise<unknown>, parallel: number, seconds: number): Promise<number> {
  let done = 0;
  const started = Date.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (Date.now() < end) {
        await job();
        if (Date.now() <= end) done++;
      }
    }),
  );
  return done / seconds;
}

export function row(name: string, rps: number, limit: number, extra = ''): string {
  return `${name.padEnd(44)} ${rps.toFixed(0).padStart(8)} req/s   ${(rps / limit).toFixed(2).padStart(6)} x raw limit ${extra}`;
}

/** POSTs JSON (with an optional bearer token) and returns the parsed answer; a non-2xx fails the run. */
export async function postJson(base: string, path: string, body: unknown, token?: string): Promise<Record<string, any>> {
  const res = await fetch(base + path, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, any>>;
}

/**
 * The SSO server under test, in its own process on the embedded database (or BENCH_DATABASE_URL),
 * with the bare connect-node server beside it on `port + 1` as the RPC raw limit.
 * Login protection counts attempts before the password is checked; a load test is not a guessing
 * attack, so its limits are raised here.
 */
export async function startServers(port: number, bcryptCost: number): Promise<{ base: string; bareBase: string; stop(): Promise<void> }> {
  const base = `http://127.0.0.1:${port}`;
  const bareBase = `http://127.0.0.1:${port + 1}`;
  const server = await startProcess(
    'src/main.ts',
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      SSO_DATA_DIR: tempDir(),
      SSO_BCRYPT_COST: String(bcryptCost),
      SSO_LOGIN_MAX_FAILURES: '1000',
      SSO_LOGIN_MAX_FAILURES_PER_IP: '100000',
      ...(process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}),
    },
    `${base}/readyz`,
  );
  const bare = await startProcess('bench/bare-server.ts', { PORT: String(port + 1) }, `${bareBase}/`);
  return { base, bareBase, stop: () => Promise.all([stopProcess(server), stopProcess(bare)]).then(() => undefined) };
}

/** The PostgreSQL to benchmark: BENCH_DATABASE_URL (which must answer), else TEST_PG_URL or the CI cluster when it answers. */
export async function benchPostgresUrl(): Promise<string | undefined> {
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
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

/** The raw limit of RPC benchmarks: a bare connect-node unary call (bench/bare-server.ts at `bareBase`), in calls a second. */
export async function bareRpcRate(bareBase: string, connections: number, seconds: number): Promise<number> {
  const load = { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: '{}', connections, seconds };
  return (await measure({ url: `${bareBase}/sso.auth.v1.AuthService/GetMe`, ...load })).rps;
}
