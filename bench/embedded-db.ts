/**
 * `npm run bench:embedded`: what the embedded database (PGlite) costs on its own, so its settings
 * can be weighed: time to a first query on a fresh data dir (initdb) and on an existing one, and
 * the process's RSS after opening and after a little work, per configuration. Each configuration
 * runs in a fresh child process (RSS is per process and never shrinks).
 * BENCH_PGLITE_CONFIGS picks configurations by name (comma list; default all).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Settings passed as PGlite options; `startParams` are added to PGlite's own defaults. */
const configs: Record<string, { initialMemory?: number; extra?: string[] }> = {
  default: {},
  'shared_buffers=16MB': { extra: ['-c', 'shared_buffers=16MB'] },
  'shared_buffers=32MB': { extra: ['-c', 'shared_buffers=32MB'] },
  // (initialMemory below PGlite's 128 MB default fails to start: PGlite 0.5.14 needs it.)
};

const child = process.argv[2] === '--child';

async function runChild(): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { dataDir, name } = JSON.parse(process.argv[3]!) as { dataDir: string; name: string };
  const config = configs[name]!;
  const defaults = ((await import('@electric-sql/pglite')) as unknown as { PGlite: { defaultStartParams?: string[] } }).PGlite
    .defaultStartParams;
  const rss = () => Math.round(process.memoryUsage().rss / 1024 / 1024);
  const started = Date.now();
  const db = await PGlite.create({
    dataDir,
    ...(config.initialMemory ? { initialMemory: config.initialMemory } : {}),
    ...(config.extra ? { startParams: [...(defaults ?? []), ...config.extra] } : {}),
  });
  await db.query('SELECT 1');
  const openMs = Date.now() - started;
  const openRss = rss();
  await db.exec(
    'CREATE TABLE IF NOT EXISTS t (id serial PRIMARY KEY, v text); INSERT INTO t (v) SELECT md5(g::text) FROM generate_series(1, 20000) g;',
  );
  for (let i = 0; i < 200; i++) await db.query('SELECT * FROM t WHERE id = $1', [i]);
  const [setting] = (await db.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows;
  await db.close();
  console.log(JSON.stringify({ openMs, openRss, workRss: rss(), sharedBuffers: setting?.shared_buffers, hasDefaults: Boolean(defaults) }));
}

function measure(name: string, dataDir: string) {
  const out = spawnSync(process.execPath, ['--import', 'tsx', 'bench/embedded-db.ts', '--child', JSON.stringify({ dataDir, name })], {
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`${name}: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').at(-1)!) as { openMs: number; openRss: number; workRss: number; sharedBuffers: string };
}

function main(): void {
  const only = process.env.BENCH_PGLITE_CONFIGS?.split(',');
  console.log(`Embedded database (PGlite) alone, Node ${process.version}; times are wall clock on a shared machine`);
  console.log(
    'configuration                              fresh ms  reopen ms  RSS open/after work (fresh)  RSS open/after work (reopen)  shared_buffers',
  );
  for (const name of Object.keys(configs).filter((n) => !only || only.includes(n))) {
    const dataDir = mkdtempSync(join(tmpdir(), 'sso-pglite-'));
    try {
      const fresh = measure(name, dataDir);
      const reopen = measure(name, dataDir);
      console.log(
        `${name.padEnd(42)} ${String(fresh.openMs).padStart(8)} ${String(reopen.openMs).padStart(10)}  ` +
          `${`${fresh.openRss}/${fresh.workRss} MB`.padEnd(28)} ${`${reopen.openRss}/${reopen.workRss} MB`.padEnd(29)} ${reopen.sharedBuffers}`,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}

if (child)
  runChild().catch((e) => {
    console.error(e);
    process.exit(1);
  });
else main();
