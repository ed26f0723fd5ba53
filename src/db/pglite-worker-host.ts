/**
 * Runs the embedded database in a thread of its own (pglite-worker.ts): starts the thread, asks it
 * to serve its socket, closes it, and says when it is lost (it ended without being closed).
 */
import { Worker } from 'node:worker_threads';

import type { StartedFrom } from './embedded-start.js';
import type { FromPgliteWorker, PgliteWorkerData, ToPgliteWorker, Warning } from './pglite-worker-messages.js';

/**
 * The thread's module beside this one: src/db/pglite-worker.ts under tsx, or dist/server/pglite-worker.mjs
 * beside the bundle that holds this code (scripts/build-server.mjs builds it there).
 */
const fromSource = import.meta.url.endsWith('.ts');
const WORKER_MODULE = new URL(fromSource ? './pglite-worker.ts' : './pglite-worker.mjs', import.meta.url);

/**
 * A worker thread does not inherit tsx's module hooks (Node 20 applies `--import tsx` to the main
 * thread only), so from source the thread first registers tsx, then loads its TypeScript module.
 */
function startThread(workerData: PgliteWorkerData): Worker {
  if (!fromSource) return new Worker(WORKER_MODULE, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(WORKER_MODULE.href)});`;
  return new Worker(boot, { eval: true, workerData, type: 'module' } as ConstructorParameters<typeof Worker>[1]);
}

export interface Serving {
  from: StartedFrom;
  /** From the thread's start to PGlite open. */
  ms: number;
  warnings: Warning[];
}

export class PgliteWorker {
  /** Settles with why the thread ended without close() (an uncaught error in it, or its exit). */
  readonly lost: Promise<Error>;
  private readonly worker: Worker;
  private pending: { resolve(reply: FromPgliteWorker): void; reject(error: unknown): void } | undefined;
  private closing: Promise<void> | undefined;
  private ended: Error | undefined;

  /** The thread starts opening the database at once; `dataDir` must be absolute. */
  constructor(readonly data: PgliteWorkerData) {
    this.worker = startThread(data);
    let lose: (error: Error) => void;
    this.lost = new Promise<Error>((resolve) => (lose = resolve));
    const end = (error: Error) => {
      if (this.ended) return;
      this.ended = error;
      this.pending?.reject(error);
      this.pending = undefined;
      if (!this.closing) lose(error);
    };
    this.worker.on('message', (reply: FromPgliteWorker) => {
      const pending = this.pending;
      this.pending = undefined;
      if (reply.type === 'failed') pending?.reject(reply.error);
      else pending?.resolve(reply);
    });
    this.worker.on('error', (error) => end(error));
    this.worker.on('exit', (code) => end(new Error(`the embedded database's thread exited (code ${code})`)));
  }

  /** Listens on `socketPath` once the database is open; rejects with why it could not open. */
  async serve(socketPath: string, maxConnections: number): Promise<Serving> {
    const reply = await this.ask({ type: 'serve', socketPath, maxConnections });
    if (reply.type !== 'serving') throw new Error(`the embedded database's thread answered ${reply.type} to serve`);
    return reply;
  }

  /** Closes the database (its checkpoint written) and ends the thread. Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.ended) return;
      try {
        await this.ask({ type: 'close' });
      } finally {
        // Ended by itself after 'closed'; terminate() also ends one whose close failed.
        await this.worker.terminate();
      }
    })();
    return this.closing;
  }

  /** One question at a time: the host asks serve, then close. */
  private ask(message: ToPgliteWorker): Promise<FromPgliteWorker> {
    if (this.ended) return Promise.reject(this.ended);
    if (this.pending) return Promise.reject(new Error("the embedded database's thread is still answering"));
    return new Promise<FromPgliteWorker>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(message);
    });
  }
}
