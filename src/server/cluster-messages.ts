/**
 * What the processes of one server say to each other under SSO_WORKERS > 1 (workers.ts starts
 * them), over Node's cluster IPC channel, which only the primary and its workers share. In a
 * single-process server every function here is a no-op or answers for this process alone.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/** How the primary tells a worker which slot it fills (not a setting: nobody sets it by hand). */
export const SLOT_ENV = 'SSO_WORKER_SLOT';

export type ToPrimary =
  | { type: 'sso:listening'; url: string }
  | { type: 'sso:metrics'; id: number }
  | { type: 'sso:broadcast'; topic: string; payload: unknown };
export type ToWorker =
  | { type: 'sso:shutdown' }
  | { type: 'sso:metrics'; id: number; body?: string; contentType?: string; error?: string }
  | { type: 'sso:broadcast'; topic: string; payload: unknown };

/** This process is a worker of a multi-process server. */
export function isWorker(): boolean {
  return cluster.isWorker && process.env[SLOT_ENV] !== undefined;
}

/** The worker's slot, 1..SSO_WORKERS (a restarted worker keeps its slot); 0 in the primary. */
export function workerSlot(): number {
  return isWorker() ? Number(process.env[SLOT_ENV]) : 0;
}

export function sendToPrimary(message: ToPrimary): void {
  if (process.connected) process.send?.(message, undefined, undefined, () => {});
}

/** Handlers of messages from the primary, by type (one process-wide 'message' listener). */
const handlers = new Map<ToWorker['type'], (message: ToWorker) => void>();
let listening = false;

export function onPrimaryMessage<T extends ToWorker['type']>(type: T, handler: (message: Extract<ToWorker, { type: T }>) => void): void {
  handlers.set(type, handler as (message: ToWorker) => void);
  if (listening) return;
  listening = true;
  process.on('message', (message: ToWorker) => {
    if (typeof message === 'object' && message !== null) handlers.get(message.type)?.(message);
  });
}

const broadcastHandlers = new Map<string, (payload: unknown) => void>();

/**
 * Delivers `payload` to the `onBroadcast(topic)` handler of every other worker, through the
 * primary; nothing happens in a single-process server. For state each worker holds in memory
 * (a cache) that a change in one process must reach in the others. Best effort, like any
 * in-memory invalidation: a worker restarting meanwhile starts empty anyway.
 */
export function broadcast(topic: string, payload: unknown): void {
  if (isWorker()) sendToPrimary({ type: 'sso:broadcast', topic, payload });
}

/** In the primary: the same, to every worker (e.g. a notification only the embedded database's owner hears). */
export function broadcastToWorkers(topic: string, payload: unknown): void {
  for (const worker of Object.values(cluster.workers ?? {})) {
    if (worker?.isConnected()) worker.send({ type: 'sso:broadcast', topic, payload } satisfies ToWorker, () => {});
  }
}

export function onBroadcast(topic: string, handler: (payload: unknown) => void): void {
  broadcastHandlers.set(topic, handler);
  if (isWorker()) onPrimaryMessage('sso:broadcast', (m) => broadcastHandlers.get(m.topic)?.(m.payload));
}

const METRICS_TIMEOUT_MS = 10_000;
const pendingScrapes = new Map<number, (answer: Extract<ToWorker, { type: 'sso:metrics' }>) => void>();
let nextScrape = 0;

/**
 * In a worker, a scrape answers for the whole server, not for whichever worker the connection
 * landed on: the primary asks every worker for `registry` (prom-client's AggregatorRegistry) and
 * sums counters and histograms. Undefined in a single-process server.
 */
export function clusterScrape(registry: Registry): (() => Promise<{ body: string; contentType: string }>) | undefined {
  if (!isWorker()) return undefined;
  new AggregatorRegistry(); // answers the primary's requests for this worker's metrics
  AggregatorRegistry.setRegistries([registry]);
  onPrimaryMessage('sso:metrics', (m) => pendingScrapes.get(m.id)?.(m));
  return () =>
    new Promise((resolve, reject) => {
      const id = nextScrape++;
      const timer = setTimeout(() => {
        pendingScrapes.delete(id);
        reject(new Error('the primary process did not answer a metrics scrape'));
      }, METRICS_TIMEOUT_MS);
      pendingScrapes.set(id, (answer) => {
        clearTimeout(timer);
        pendingScrapes.delete(id);
        if (answer.body === undefined) reject(new Error(answer.error ?? 'metrics scrape failed'));
        else resolve({ body: answer.body, contentType: answer.contentType ?? registry.contentType });
      });
      sendToPrimary({ type: 'sso:metrics', id });
    });
}
