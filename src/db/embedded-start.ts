/**
 * Starting PGlite for the embedded database: its settings, and what an empty data dir starts
 * from (the prepared template, else initdb). Every setting here was weighed with
 * `npm run bench:embedded`; see README's embedded-database section for the figures.
 */
import { setFlagsFromString } from 'node:v8';

import { PGlite } from '@electric-sql/pglite';

import { makePrivateTree } from '../private-files.js';
import { copyTemplate, holdsDatabase, preparedTemplate } from './embedded-template.js';
import { PrivateNodeFS } from './pglite-private-fs.js';

/**
 * PostgreSQL's 128 MB of shared buffers is sized for a server of its own; here they live in this
 * process's WebAssembly memory for one service's small tables. 32 MB was about 80 MB less RSS than PGlite's 128 MB; 16 MB is
 * 8-34 MB less again (PGlite alone, reopened: 247/263 MB open/after work against 255/297), and
 * the server's data pages still come from the operating system's cache when they miss. The rest
 * are PGlite's own (fsync off included: it has always been so, and relaxedDurability stays off,
 * so every commit reaches the files).
 */
export const EMBEDDED_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

export interface EmbeddedStart {
  /** In a directory; undefined keeps everything in memory. */
  dataDir?: string;
  /** A dumped data dir to load into an empty one; false: run initdb (what builds the template). */
  template?: Blob | File | false;
  warn(obj: object, msg: string): void;
}

/**
 * V8 compiles PGlite's WebAssembly with its baseline compiler only (Liftoff), without tiering
 * hot functions up to its optimizing one: about 50 MB less RSS (30-110 MB by Node line) and a
 * quarter off opening the database, for the same CPU per point query and small transaction (the
 * service's whole use; a large join takes about twice as long). Measured with bench:embedded and
 * in-process A/B runs; see README. Process-wide, but PGlite is this process's only WebAssembly.
 */
function compileWasmForMemory(): void {
  setFlagsFromString('--liftoff-only');
}

/** How the database came to be: already there, copied from the prepared template, loaded from a dump, or initdb. */
export type StartedFrom = 'existing' | 'template' | 'dump' | 'initdb';

/**
 * Opens PGlite. A data dir that holds a database is opened as it is, never replaced; an empty
 * one first gets the prepared template (unless a dump is given, or template is false).
 */
export async function startPglite(opts: EmbeddedStart): Promise<{ pglite: PGlite; from: StartedFrom }> {
  const { dataDir } = opts;
  let from: StartedFrom;
  let dump: Blob | File | undefined;
  if (dataDir !== undefined && holdsDatabase(dataDir)) {
    from = 'existing';
  } else if (opts.template) {
    dump = opts.template;
    from = 'dump';
  } else if (dataDir !== undefined && opts.template === undefined) {
    const template = await preparedTemplate(opts.warn);
    if (template !== undefined) {
      await copyTemplate(template, dataDir);
      makePrivateTree(dataDir);
    }
    from = template === undefined ? 'initdb' : 'template';
  } else {
    from = 'initdb';
  }
  compileWasmForMemory();
  const pglite = await PGlite.create({
    ...(dataDir !== undefined && { fs: new PrivateNodeFS(dataDir) }),
    ...(dump !== undefined && { loadDataDir: dump }),
    startParams: EMBEDDED_START_PARAMS,
  });
  return { pglite, from };
}
