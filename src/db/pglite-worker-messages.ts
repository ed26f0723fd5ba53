/** What the embedded database's thread (pglite-worker.ts) and its host (pglite-worker-host.ts) say to each other. */
import type { StartedFrom } from './embedded-start.js';

/** Given at start: the thread begins opening at once. */
export interface PgliteWorkerData {
  /** Absolute; undefined keeps everything in memory. */
  dataDir?: string;
  /** As EmbeddedStart's: a dump to load into an empty data dir, false for initdb, undefined for the prepared template. */
  template?: Blob | false;
}

export type ToPgliteWorker = { type: 'serve'; socketPath: string; maxConnections: number } | { type: 'close' };

/** A warning logged while opening (a template that could not be built, say), passed on to the host's log. */
export interface Warning {
  obj: object;
  msg: string;
}

export type FromPgliteWorker =
  | { type: 'serving'; from: StartedFrom; ms: number; warnings: Warning[] }
  | { type: 'closed' }
  | { type: 'failed'; error: unknown };
