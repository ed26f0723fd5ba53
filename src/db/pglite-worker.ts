/**
 * The embedded database's own thread (started by pglite-worker-host.ts). PGlite runs PostgreSQL
 * compiled to WebAssembly on whatever thread calls it, so in the server's thread every query,
 * UPDATE and checkpoint ran between the server's requests, on one core. Here it runs beside them:
 * the server's pools reach it over the same Unix socket as before (PGLiteSocketServer, with the
 * session queue), so nothing above the socket changes. And it opens while the server's modules
 * load: `npm start` starts this thread first (embedded-prestart.ts).
 *
 * It begins opening as soon as it starts: it takes the data dir's lock and opens PGlite
 * (startPglite: the existing database, else the prepared template, a dump or initdb). Then it
 * answers the host's messages, one at a time: `serve` (listen on the socket once open) and
 * `close` (stop listening, close PGlite, which writes its checkpoint, release the lock).
 */
import { chmod } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';

import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

import { makePrivateTree, PRIVATE_FILE_MODE } from '../private-files.js';
import { lockDataDir, unlockDataDir } from './data-dir-lock.js';
import { type StartedFrom, startPglite } from './embedded-start.js';
import { installSessionQueue } from './pglite-session-queue.js';
import type { FromPgliteWorker, PgliteWorkerData, ToPgliteWorker, Warning } from './pglite-worker-messages.js';

const port = parentPort;
if (port === null) throw new Error('pglite-worker.ts runs as a worker thread (see pglite-worker-host.ts)');
const { dataDir, template } = workerData as PgliteWorkerData;

const warnings: Warning[] = [];
const started = Date.now();
let locked = false;
let server: PGLiteSocketServer | undefined;

const opening: Promise<{ pglite: PGlite; from: StartedFrom; ms: number }> = (async () => {
  if (dataDir !== undefined) {
    // 0700 and 0600 throughout, also for what an older version (or a restored backup) left looser.
    makePrivateTree(dataDir);
    await lockDataDir(dataDir);
    locked = true;
  }
  const { pglite, from } = await startPglite({ dataDir, template, warn: (obj, msg) => warnings.push({ obj, msg }) });
  return { pglite, from, ms: Date.now() - started };
})();
// Reported when the host asks to serve; until then a failed open must not count as unhandled.
opening.catch(() => {});

async function serve(socketPath: string, maxConnections: number): Promise<FromPgliteWorker> {
  const { pglite, from, ms } = await opening;
  // The socket server asks for no password: it listens on a Unix socket in a directory only
  // this user may enter (a loopback port would let any local user in as superuser).
  server = new PGLiteSocketServer({ db: pglite, path: socketPath, maxConnections });
  // The shipped queue lets pooled connections interleave extended-protocol messages.
  installSessionQueue(server, pglite);
  await server.start();
  await chmod(socketPath, PRIVATE_FILE_MODE);
  return { type: 'serving', from, ms, warnings: warnings.splice(0) };
}

/** Stops whatever was started, newest first; the first failure is reported after all ran. */
async function close(): Promise<void> {
  let first: unknown;
  const attempt = async (step: () => Promise<unknown>) => {
    try {
      await step();
    } catch (error) {
      first ??= error;
    }
  };
  if (server) await attempt(() => server!.stop());
  await attempt(async () => {
    const open = await opening.catch(() => undefined);
    // close() writes the checkpoint: the next start finds the data without replaying WAL.
    if (open && !open.pglite.closed) await open.pglite.close();
  });
  if (locked && dataDir !== undefined) await attempt(() => unlockDataDir(dataDir));
  if (first !== undefined) throw first;
}

port.on('message', (message: ToPgliteWorker) => {
  const answer =
    message.type === 'serve' ? serve(message.socketPath, message.maxConnections) : close().then(() => ({ type: 'closed' }) as const);
  answer.then(
    (reply) => {
      port.postMessage(reply);
      // Nothing is left to keep this thread alive once closed: it ends, and the host sees it exit.
      if (reply.type === 'closed') port.close();
    },
    (error: unknown) => port.postMessage({ type: 'failed', error } satisfies FromPgliteWorker),
  );
});
