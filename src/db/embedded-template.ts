/**
 * A prepared embedded database: the data directory PGlite's initdb and every migration leave
 * behind, built once (by `npm install`'s postinstall, else by a child process on the first start
 * that needs it) and copied into an empty data dir. A first start then neither runs initdb nor
 * migrates, and this process never holds initdb's memory, which WebAssembly does not give back.
 *
 * The template is a plain directory, not a tar: copying files costs the server no memory.
 * Its name carries a hash of the migrations' code and the PGlite version, so a stale one is never
 * used; it holds no secret (no user, no key: the server creates those at start).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { migrations } from './migrations/index.js';
import { projectFile } from '../project-files.js';

/** Where templates are kept: the project's own npm cache directory, beside its dependencies. */
export const TEMPLATE_CACHE_DIR = `${projectFile('node_modules', '.cache', 'sso')}/`;

/** The file whose presence makes a directory a PostgreSQL data dir: copied last, so a cut copy is no database. */
const PG_VERSION = 'PG_VERSION';

/** The data dir of the migrated template for this code (it may not exist yet). */
export function templateDir(): string {
  return join(TEMPLATE_CACHE_DIR, `pglite-template-${templateKey()}`);
}

/**
 * Changes whenever a migration or the PGlite version changes. It reads the migrations' source
 * files, not their compiled code: the server runs from src/ through tsx (tests, tools, the
 * template's builder) or built into one file by esbuild (`npm start`), which compile the same
 * class to different text, and both must find the same template.
 */
export function templateKey(): string {
  const hash = createHash('sha256').update(`pglite ${pgliteVersion()}\n`);
  for (const migration of migrations) hash.update(`${migration.name}\n`);
  const dir = projectFile('src', 'db', 'migrations');
  for (const file of readdirSync(dir).sort()) hash.update(`${file}\n${readFileSync(join(dir, file), 'utf8')}\n`);
  return hash.digest('hex').slice(0, 16);
}

/** True when `dataDir` already holds a database (which a template must never replace). */
export function holdsDatabase(dataDir: string): boolean {
  return existsSync(join(dataDir, PG_VERSION));
}

/**
 * Builds the template into the cache: `build` makes a migrated, cleanly closed data dir in the
 * directory it is given. Parallel builders (test files start together) each build aside and
 * rename; the first rename wins and the others' copies are dropped. Older templates are removed.
 */
export async function buildTemplate(build: (dataDir: string) => Promise<void>): Promise<string> {
  const final = templateDir();
  if (holdsDatabase(final)) return final;
  await mkdir(TEMPLATE_CACHE_DIR, { recursive: true });
  const partial = `${final}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
  try {
    await build(partial);
    await rename(partial, final);
  } catch (error) {
    if (!holdsDatabase(final)) throw error;
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  // Templates of earlier migrations are no use any more (40 MB each).
  for (const name of await readdir(TEMPLATE_CACHE_DIR)) {
    const dir = join(TEMPLATE_CACHE_DIR, name);
    if (/^pglite-template-[0-9a-f]{16}$/.test(name) && dir !== final) await rm(dir, { recursive: true, force: true });
  }
  return final;
}

/**
 * The template for this code, built by a child process when missing, or undefined when it cannot
 * be had (the caller then runs initdb itself). The child reports why it failed on its stderr.
 */
export async function preparedTemplate(warn: (obj: object, msg: string) => void): Promise<string | undefined> {
  const dir = templateDir();
  if (holdsDatabase(dir)) return dir;
  try {
    await runBuilder();
  } catch (error) {
    warn({ err: error }, 'could not prepare the embedded database template; running initdb in this process');
    return undefined;
  }
  return holdsDatabase(dir) ? dir : undefined;
}

/** The builder is TypeScript (it imports the migrations): run it under tsx's loader, found from here. */
function runBuilder(): Promise<void> {
  const builder = projectFile('src/cli/build-embedded-template.ts');
  const tsx = import.meta.resolve('tsx');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, builder], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`template builder exited with ${code}: ${stderr.trim().slice(-2000)}`)),
    );
  });
}

/**
 * Copies the template into `dataDir`, which holds no database. PG_VERSION goes last: a copy cut
 * short leaves no database, and the next start copies again over what it left.
 *
 * Synchronous on purpose: the template is about 1,100 files, and fs/promises' cp sends each
 * lstat, copy and chmod through the thread pool in turn (about 550 ms here, against 230 ms for
 * cpSync). Blocking this thread for that long is harmless here: it happens once, on a first
 * start, before the server listens.
 */
export async function copyTemplate(template: string, dataDir: string): Promise<void> {
  for (const name of await readdir(template)) {
    if (name !== PG_VERSION) cpSync(join(template, name), join(dataDir, name), { recursive: true, force: true });
  }
  cpSync(join(template, PG_VERSION), join(dataDir, PG_VERSION), { force: true });
}

/** PGlite's `exports` hide its package.json, so find it next to the resolved entry point. */
function pgliteVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}
