/**
 * SSO_WORKERS > 1: several server processes share the one port through Node's cluster (the
 * primary process accepts connections and hands them to the workers in turn). Cluster rather than
 * worker threads: a worker thread cannot share a listening socket, so one thread would have to
 * accept and forward every connection; and a crash in one process leaves the others serving.
 *
 * The primary serves no calls. It migrates the database once before any worker starts and, on
 * the embedded database, owns PGlite and the Unix socket the workers reach it through (so the
 * database's one thread runs beside the workers). It prints the ready line once every worker
 * listens, restarts a worker that dies (with a growing delay, so one that keeps dying does not
 * spin), relays messages between workers (cluster-messages.ts), and on SIGTERM/SIGINT lets every
 * worker finish its in-flight calls before it closes the database.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { databaseConfigOf, type Config } from '../config.js';
import { type EmbeddedSocket, openDatabase } from '../db/data-source.js';
import type { Logger } from '../logger.js';
import { makePrivateTree } from '../private-files.js';
import { type App, startApp } from './app.js';
import { warnAboutDefaults } from './default-warnings.js';
import { onPrimaryMessage, SLOT_ENV, sendToPrimary, type ToPrimary, type ToWorker } from './cluster-messages.js';

/** Where the primary tells a worker the embedded database's socket is. */
const SOCKET_ENV = 'SSO_WORKER_DB_SOCKET';
/** The pool each worker opens (the database's default). */
const WORKER_POOL_SIZE = 10;
/** What the embedded socket must take from each worker: its pool and the revocation cache's listening connection. */
const WORKER_CONNECTIONS = WORKER_POOL_SIZE + 1;
/** First restart delay, doubled for each crash in a row, up to the maximum. */
const RESTART_BASE_MS = 250;
const RESTART_MAX_MS = 30_000;
/** A worker that served this long before dying starts again from the first delay. */
const STABLE_MS = 30_000;
/** How much longer than the grace period the primary waits for its workers before it kills them. */
const STOP_MARGIN_MS = 5_000;

interface Slot {
  worker: Worker;
  /** Crashes in a row (reset by a stable run): the next restart waits 2^(failures-1) base delays. */
  failures: number;
  listeningSince?: number;
  restart?: NodeJS.Timeout;
}

/**
 * The primary: opens (and migrates) the database, forks `config.workers` workers, prints the ready
 * line once they all listen, restarts crashed ones, and stops them all on SIGTERM/SIGINT. Calls
 * `exit` with the process's exit code once everything is stopped.
 */
export async function runPrimary(config: Config, log: Logger, exit: (code: number) => void): Promise<void> {
  // As startApp does: the data dir (embedded database, generated key secret) is private.
  if (!config.databaseUrl || config.keySecret === undefined) makePrivateTree(config.dataDir);
  // Said here once, not by every worker.
  warnAboutDefaults(config, log);
  const dbConfig = databaseConfigOf(config);
  // Migrations run here, once, before any worker opens the database.
  const database = await openDatabase(
    dbConfig.kind === 'embedded' ? { ...dbConfig, sharedConnections: config.workers * WORKER_CONNECTIONS } : dbConfig,
    log,
  );
  // On PostgreSQL the primary keeps no connection.
  if (!database.socket) await database.close();

  const slots = new Map<number, Slot>();
  const metrics = new AggregatorRegistry();
  let ready = false;
  let stopping = false;
  let exitCode = 0;

  const fork = (slot: number, failures: number) => {
    const env: Record<string, string> = { [SLOT_ENV]: String(slot) };
    if (database.socket) env[SOCKET_ENV] = JSON.stringify(database.socket);
    const worker = cluster.fork(env);
    slots.set(slot, { worker, failures });
    // The pid goes to the log only (an operator matching processes), never to a client.
    log.info({ slot, pid: worker.process.pid }, 'worker started');
    worker.on('message', (message: ToPrimary) => onMessage(slot, worker, message));
    worker.on('exit', (code, signal) => onExit(slot, worker, code, signal));
  };

  const onMessage = (slot: number, worker: Worker, message: ToPrimary) => {
    if (message?.type === 'sso:listening') {
      const entry = slots.get(slot);
      if (entry?.worker === worker) entry.listeningSince = Date.now();
      if (!ready && slots.size === config.workers && [...slots.values()].every((s) => s.listeningSince !== undefined)) {
        ready = true;
        // The one line a person starting the server looks for: once, when every worker serves.
        log.info({ ms: Math.round(process.uptime() * 1000), workers: config.workers }, `ready at ${message.url}`);
      }
    } else if (message?.type === 'sso:metrics') {
      metrics.clusterMetrics().then(
        (body) => send(worker, { type: 'sso:metrics', id: message.id, body, contentType: metrics.contentType }),
        (err: Error) => send(worker, { type: 'sso:metrics', id: message.id, error: err.message }),
      );
    } else if (message?.type === 'sso:broadcast') {
      for (const other of Object.values(cluster.workers ?? {})) if (other && other !== worker) send(other, message);
    }
  };

  const onExit = (slot: number, worker: Worker, code: number | null, signal: string | null) => {
    const entry = slots.get(slot);
    if (entry?.worker !== worker) return;
    if (stopping) {
      slots.delete(slot);
      if (slots.size === 0) void finish();
      return;
    }
    if (!ready) {
      // A worker that cannot start (port taken, database unreachable) would not start on a retry either.
      log.error({ slot, code, signal }, 'worker failed to start');
      stop('a worker failed to start', 1);
      return;
    }
    const stable = entry.listeningSince !== undefined && Date.now() - entry.listeningSince >= STABLE_MS;
    const failures = stable ? 1 : entry.failures + 1;
    const delay = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** (failures - 1));
    log.error({ slot, pid: worker.process.pid, code, signal, restartInMs: delay }, 'worker exited; restarting it');
    entry.restart = setTimeout(() => fork(slot, failures), delay);
  };

  let finishing: Promise<void> | undefined;
  const finish = () =>
    (finishing ??= (async () => {
      try {
        await database.close();
      } catch (err) {
        log.error({ err }, 'closing the database failed');
        exitCode = 1;
      }
      exit(exitCode);
    })());

  const stop = (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    log.info({ reason }, 'shutting down');
    for (const [slot, entry] of slots) {
      clearTimeout(entry.restart);
      if (entry.worker.isDead()) slots.delete(slot);
      else send(entry.worker, { type: 'sso:shutdown' });
    }
    if (slots.size === 0) {
      void finish();
      return;
    }
    // Each worker finishes its calls within the grace period; one that hangs past it is killed.
    setTimeout(
      () => {
        for (const [slot, entry] of slots) {
          log.error({ slot }, 'worker did not stop in time; killing it');
          exitCode = 1;
          entry.worker.process.kill('SIGKILL');
        }
      },
      config.shutdownGrace * 1000 + STOP_MARGIN_MS,
    ).unref();
  };

  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // The workers' calls all fail without the embedded database this process runs: stop them all.
  void database.lost?.then((err) => {
    log.error({ err }, 'the embedded database stopped');
    stop('the embedded database stopped', 1);
  });
  for (let slot = 1; slot <= config.workers; slot++) fork(slot, 0);
}

function send(worker: Worker, message: ToWorker): void {
  if (worker.isConnected()) worker.send(message, () => {});
}

/** A worker: the whole server on the shared port, its database reached as the primary says. */
export async function runWorker(config: Config, log: Logger, exit: (code: number) => void): Promise<void> {
  // Listened for from the start: a stop asked for while the worker starts is carried out once it has.
  let stop: ((reason: string) => void) | undefined;
  let stopAsked: string | undefined;
  const askStop = (reason: string) => (stop ? stop(reason) : (stopAsked ??= reason));
  onPrimaryMessage('sso:shutdown', () => askStop('primary'));
  // A terminal's Ctrl-C reaches every process of the group; the primary's message follows anyway.
  process.on('SIGINT', () => askStop('SIGINT'));
  process.on('SIGTERM', () => askStop('SIGTERM'));
  const socket = process.env[SOCKET_ENV];
  const app = await startApp(config, {
    log,
    sayDefaults: false,
    ...(socket && {
      database: { kind: 'embedded-shared' as const, socket: JSON.parse(socket) as EmbeddedSocket, poolSize: WORKER_POOL_SIZE },
    }),
  });
  stop = stopOnce(app, log, exit);
  if (stopAsked !== undefined) stop(stopAsked);
  else sendToPrimary({ type: 'sso:listening', url: app.url });
}

/** Stops accepting, lets in-flight calls finish, closes the database, then exits 0 (1 if closing failed). */
export function stopOnce(app: App, log: Logger, exit: (code: number) => void): (reason: string) => void {
  let stopping = false;
  return (reason) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'shutting down');
    app.close().then(
      () => exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
  };
}
