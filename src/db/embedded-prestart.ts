/**
 * `npm start` opens the embedded database while the server's modules load: dist/server/main.mjs
 * (src/built-entry.ts) starts the database's thread before it loads anything else, and
 * openDatabase takes that thread over when it opens the same data dir (else closes it). On a
 * restart this overlaps PGlite's open (about 0.45 s, WebAssembly and PostgreSQL's start) with
 * loading the server (about 0.6 s).
 *
 * The entry and the server are two bundles, each with its own copy of this module, so the thread
 * is handed over through a global under a registered symbol rather than a module variable.
 */
import { resolve } from 'node:path';

import { PgliteWorker } from './pglite-worker-host.js';

const HANDOVER = Symbol.for('sso.embedded-database.prestarted');

type WithHandover = typeof globalThis & { [HANDOVER]?: PgliteWorker };

/** Starts opening the embedded database in `dataDir` (as openDatabase's config names it). */
export function prestartEmbedded(dataDir: string): void {
  const global = globalThis as WithHandover;
  if (global[HANDOVER]) throw new Error('the embedded database was prestarted already');
  global[HANDOVER] = new PgliteWorker({ dataDir: resolve(dataDir) });
}

/** The prestarted thread, once: for openDatabase, which uses it or closes it. */
export function takePrestarted(): PgliteWorker | undefined {
  const global = globalThis as WithHandover;
  const worker = global[HANDOVER];
  delete global[HANDOVER];
  return worker;
}
