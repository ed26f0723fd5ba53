/**
 * `npm run bench:embedded`: what the embedded database (PGlite) costs, against what the same
 * server costs on PostgreSQL measured in the same run (the machine is shared: compare ratios).
 *
 * 1. The server, built as `npm start` runs it, to its "ready at" line (the ms it prints: process uptime) and its
 *    idle RSS 3 s later: on PostgreSQL (the reference, when it answers), on a fresh embedded data
 *    dir (its first start, from the prepared template) and again on the same dir (a restart).
 *    Each start runs BENCH_STARTS times (default 3); medians are printed. The last start of each
 *    kind then idles on to BENCH_SETTLE_SECONDS after ready (default 45; 0: not) and reads its RSS
 *    again: V8's memory reducer shrinks an idle process's heaps (the main thread's and the module
 *    loader's) some 15-35 s after start, so the RSS 3 s after ready is not yet what it idles at.
 * 2. PGlite alone per configuration, each in a fresh child process (RSS is per process and never
 *    shrinks): time to a first query on a fresh dir (initdb) and on an existing one, and RSS after
 *    opening and after a little work. BENCH_PGLITE_CONFIGS picks configurations (comma list;
 *    default all; "none" skips this part).
 * PostgreSQL is BENCH_DATABASE_URL, else the CI cluster (postgres://postgres@127.0.0.1:5432/test).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';
import { builtServerArgs } from './lib.js';

/** PGlite settings weighed; `extra` start parameters are added to the server's own (EMBEDDED_START_PARAMS). */
const configs: Record<string, { initialMemory?: number; extra?: string[]; pgliteDefaults?: boolean }> = {
  "PGlite's defaults": { pgliteDefaults: true },
  'the server (shared_buffers=16MB)': {},
  'shared_buffers=32MB': { extra: ['-c', 'shared_buffers=32MB'] },
  'shared_buffers=8MB': { extra: ['-c', 'shared_buffers=8MB'] },
  'wal_buffers=1MB max_connections=10 work_mem=1MB': {
    extra: ['-c', 'wal_buffers=1MB', '-c', 'max_connections=10', '-c', 'work_mem=1MB'],
  },
  // initialMemory below PGlite's 128 MB default fails to start (PGlite 0.5.14): it is not weighed.
};

const child = process.argv[2] === '--child';
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// ---- 1. the server ---------------------------------------------------------------------------

interface Start {
  readyMs: number;
  rssMb: number;
  /** RSS after idling to settleSeconds past ready, when asked for. */
  settledRssMb?: number;
}

const settleSeconds = Number(process.env.BENCH_SETTLE_SECONDS ?? 45);

function rssOf(pid: number): number {
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024);
}

/** Starts the server as `npm start` does (built), waits for its ready line, idles 3 s, reads its RSS (and, if `settle`, again at settleSeconds), stops it. */
async function serverStart(env: Record<string, string>, settle = false): Promise<Start> {
  const proc = spawn(process.execPath, builtServerArgs(), {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      NODE_ENV: 'production',
      SSO_KEY_SECRET: 'bench-key-secret-'.padEnd(40, 'x'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const readyMs = await new Promise<number>((resolve, reject) => {
      let out = '';
      proc.stdout.on('data', (chunk) => {
        out += String(chunk);
        const line = out.split('\n').find((l) => l.includes('"ready at '));
        if (line) resolve((JSON.parse(line) as { ms: number }).ms);
      });
      proc.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out.slice(-2000)}`)));
    });
    await new Promise((r) => setTimeout(r, 3000));
    const rssMb = rssOf(proc.pid!);
    if (!settle || settleSeconds <= 3) return { readyMs, rssMb };
    await new Promise((r) => setTimeout(r, (settleSeconds - 3) * 1000));
    return { readyMs, rssMb, settledRssMb: rssOf(proc.pid!) };
  } finally {
    proc.removeAllListeners('exit');
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
  }
}

async function postgresEnv(): Promise<{ env: Record<string, string>; drop(): Promise<void> } | undefined> {
  const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch {
    if (process.env.BENCH_DATABASE_URL) throw new Error(`BENCH_DATABASE_URL does not answer: ${url}`);
    return undefined;
  }
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  const withSchema = new URL(url);
  withSchema.searchParams.set('options', `-c search_path=${schema}`);
  return {
    env: { DATABASE_URL: withSchema.toString() },
    drop: async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

async function benchServer(): Promise<void> {
  const runs = Number(process.env.BENCH_STARTS ?? 3);
  const postgres = await postgresEnv();
  const figures: Record<'postgres' | 'first' | 'restart', Start[]> = { postgres: [], first: [], restart: [] };
  try {
    // Interleaved, so a change in the machine's load touches every kind alike.
    for (let i = 0; i < runs; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'sso-bench-embedded-'));
      const settle = i === runs - 1;
      try {
        if (postgres) figures.postgres.push(await serverStart({ ...postgres.env, SSO_DATA_DIR: dataDir }, settle));
        figures.first.push(await serverStart({ SSO_DATA_DIR: dataDir }, settle));
        figures.restart.push(await serverStart({ SSO_DATA_DIR: dataDir }, settle));
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    await postgres?.drop();
  }
  const med = (kind: keyof typeof figures, key: 'readyMs' | 'rssMb') => median(figures[kind].map((f) => f[key]));
  console.log(`\nThe server to "ready at" and its RSS 3 s later, median of ${runs} (all: ms/MB)`);
  const line = (label: string, kind: keyof typeof figures, goalMs: string) => {
    const ms = med(kind, 'readyMs');
    const rss = med(kind, 'rssMb');
    const vsPg = postgres
      ? `  ${(ms / med('postgres', 'readyMs')).toFixed(2)}x the PostgreSQL start, RSS +${rss - med('postgres', 'rssMb')} MB`
      : '';
    const all = figures[kind].map((f) => `${f.readyMs}/${f.rssMb}`).join(' ');
    const settled = figures[kind].at(-1)?.settledRssMb;
    const settledText = settled === undefined ? '' : `  idle ${settleSeconds} s: ${settled} MB`;
    console.log(
      `  ${label.padEnd(38)} ${String(ms).padStart(6)} ms ${String(rss).padStart(5)} MB${vsPg}${settledText}   (${all}) ${goalMs}`,
    );
  };
  if (postgres) line('on PostgreSQL (reference)', 'postgres', '');
  line('embedded, first start (template)', 'first', 'goal <= 3000 ms, <= 250 MB');
  line('embedded, restart', 'restart', 'goal <= 1000 ms, <= 250 MB');
}

// ---- 2. PGlite alone ---------------------------------------------------------------------------

async function runChild(): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { EMBEDDED_START_PARAMS } = await import('../src/db/embedded-start.js');
  const { dataDir, name } = JSON.parse(process.argv[3]!) as { dataDir: string; name: string };
  const config = configs[name]!;
  const rss = () => mb(process.memoryUsage().rss);
  const started = Date.now();
  const db = await PGlite.create({
    dataDir,
    ...(config.initialMemory ? { initialMemory: config.initialMemory } : {}),
    startParams: config.pgliteDefaults ? PGlite.defaultStartParams : [...EMBEDDED_START_PARAMS, ...(config.extra ?? [])],
  });
  await db.query('SELECT 1');
  const openMs = Date.now() - started;
  const openRss = rss();
  await db.exec(
    'CREATE TABLE IF NOT EXISTS t (id serial PRIMARY KEY, v text); INSERT INTO t (v) SELECT md5(g::text) FROM generate_series(1, 20000) g;',
  );
  for (let i = 0; i < 200; i++) await db.query('SELECT * FROM t WHERE id = $1', [i]);
  const [setting] = (await db.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows;
  const { external, arrayBuffers, heapTotal } = process.memoryUsage();
  await db.close();
  console.log(
    JSON.stringify({
      openMs,
      openRss,
      workRss: rss(),
      heap: mb(heapTotal),
      external: mb(external),
      arrayBuffers: mb(arrayBuffers),
      sharedBuffers: setting?.shared_buffers,
    }),
  );
}

function measure(name: string, dataDir: string) {
  const out = spawnSync(process.execPath, ['--import', 'tsx', 'bench/embedded-db.ts', '--child', JSON.stringify({ dataDir, name })], {
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`${name}: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').at(-1)!) as {
    openMs: number;
    openRss: number;
    workRss: number;
    heap: number;
    external: number;
    arrayBuffers: number;
    sharedBuffers: string;
  };
}

function benchPglite(): void {
  const only = process.env.BENCH_PGLITE_CONFIGS?.split(',');
  if (only?.includes('none')) return;
  console.log('\nPGlite alone (initdb on the fresh dir; RSS open/after work; heap/external/arrayBuffers after work on reopen)');
  console.log(`${'configuration'.padEnd(58)} fresh ms  reopen ms  RSS fresh      RSS reopen     heap/ext/ab MB  shared_buffers`);
  for (const name of Object.keys(configs).filter((n) => !only || only.includes(n))) {
    const dataDir = mkdtempSync(join(tmpdir(), 'sso-pglite-'));
    try {
      const fresh = measure(name, dataDir);
      const reopen = measure(name, dataDir);
      console.log(
        `${name.padEnd(58)} ${String(fresh.openMs).padStart(8)} ${String(reopen.openMs).padStart(10)}  ` +
          `${`${fresh.openRss}/${fresh.workRss}`.padEnd(14)} ${`${reopen.openRss}/${reopen.workRss}`.padEnd(14)} ` +
          `${`${reopen.heap}/${reopen.external}/${reopen.arrayBuffers}`.padEnd(15)} ${reopen.sharedBuffers}`,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}

async function main(): Promise<void> {
  console.log(`Embedded database (PGlite), Node ${process.version}; wall clock on a shared machine: compare within one run`);
  if (process.env.BENCH_SERVER !== '0') await benchServer();
  benchPglite();
}

if (child)
  runChild().catch((e) => {
    console.error(e);
    process.exit(1);
  });
else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
