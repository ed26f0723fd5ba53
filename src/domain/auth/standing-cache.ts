import type { DataSource } from 'typeorm';
import { PgNotificationListener } from '../../db/pg-notification-listener.js';
import type { StandingNotifications } from '../../db/standing-notifications.js';

/** How a loaded standing may be kept: the tags whose change drops it, and when it lapses by itself. */
export interface Keeping {
  tags: string[];
  /** Epoch milliseconds after which it is not used any more (checked at every use); null: never. */
  expiresAt: number | null;
}

interface Entry {
  value: unknown;
  tags: string[];
  expiresAt: number | null;
}

/** Enough for every live session and key of a large deployment; each entry is a few hundred bytes. */
const DEFAULT_CAPACITY = 20_000;

/**
 * What a session, an agent or an API key stood for when last read (and what GET /me shows of a
 * user: domain/users/current-user.ts), so that an authenticated call need not read the database
 * again. It is safe because the database announces every change that can take something away
 * (migration 0010's triggers; 0012's for what a user view shows; see db/standing-notifications.ts),
 * and:
 *
 * - a cached value is used only after a barrier begun after the call arrived, so every change
 *   committed before the call is applied first: a revocation holds from the very next call on
 *   every instance, exactly as without the cache (only calls already past this check when the
 *   change commits still pass, as before);
 * - a value read while a change arrives is not kept: a generation counter, taken before the read,
 *   must be unchanged when it returns;
 * - expiry is checked against the clock at every use, not only when the value was read;
 * - while the notifications are not heard (not yet connected, dropped, reconnecting) nothing is
 *   used or kept, every call reads the database, and each change of state clears everything;
 * - it holds at most `capacity` entries (least recently used go first), keyed by ids and by the
 *   SHA-256 of an API key, never by a secret.
 */
export class StandingCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byTag = new Map<string, Set<string>>();
  private generation = 0;

  constructor(
    readonly notifications: StandingNotifications,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {}

  start(): Promise<void> {
    return this.notifications.start({
      changed: (tag) => this.invalidate(tag),
      stateChanged: () => this.invalidate('*'),
    });
  }

  /** Entries held now. */
  get size(): number {
    return this.entries.size;
  }

  /** Whether an entry is held under `key` now (tests look). */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * A barrier begun now, for a call that will look a standing up once it has done other work
   * (verified a token's signature): the round trip overlaps that work. Undefined when nothing is
   * cached or nothing is heard.
   */
  barrierNow(): Promise<void> | undefined {
    if (!this.notifications.up || this.entries.size === 0) return undefined;
    const barrier = this.notifications.barrier();
    barrier.catch(() => {});
    return barrier;
  }

  /**
   * The standing under `key`: the cached one if it may be used, else `load()`'s, kept when `keep`
   * says how (a refusal is never kept: it is re-read, and any change can only be a grant).
   * `begun`: a barrier from `barrierNow()` begun after the call arrived, else one is begun here.
   */
  async read<T>(key: string, load: () => Promise<T>, keep: (value: T) => Keeping | undefined, begun?: Promise<void>): Promise<T> {
    if (!this.notifications.up) return load();
    if (this.entries.has(key)) {
      try {
        await (begun ?? this.notifications.barrier());
      } catch {
        return load();
      }
      const entry = this.entries.get(key);
      if (entry && (entry.expiresAt === null || entry.expiresAt > Date.now())) {
        // Most recently used last: Map iteration order is the eviction order.
        this.entries.delete(key);
        this.entries.set(key, entry);
        return entry.value as T;
      }
      if (entry) this.remove(key);
    }
    const generation = this.generation;
    const value = await load();
    const keeping = keep(value);
    if (keeping && generation === this.generation && this.notifications.up) this.store(key, value, keeping);
    return value;
  }

  private store(key: string, value: unknown, keeping: Keeping): void {
    this.remove(key);
    this.entries.set(key, { value, ...keeping });
    for (const tag of keeping.tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
    if (this.entries.size > this.capacity) this.remove(this.entries.keys().next().value!);
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    for (const tag of entry.tags) {
      const keys = this.byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.byTag.delete(tag);
    }
  }

  /** A change under `tag` was committed (`*`: anything may have changed). */
  invalidate(tag: string): void {
    this.generation++;
    if (tag === '*') {
      this.entries.clear();
      this.byTag.clear();
      return;
    }
    for (const key of this.byTag.get(tag) ?? []) this.remove(key);
  }

  close(): Promise<void> {
    this.invalidate('*');
    return this.notifications.close();
  }
}

/** The cache of each server's DataSource (one per instance, also when two share a process). */
const caches = new WeakMap<object, StandingCache>();

/**
 * Starts the revocation cache of a server's database and makes it the one `cachedStanding` uses
 * for this DataSource. Resolves after the first attempt to listen (failing it leaves the cache
 * bypassed, retrying in the background).
 */
export async function startStandingCache(
  ds: DataSource,
  log: ConstructorParameters<typeof PgNotificationListener>[1],
): Promise<StandingCache> {
  const cache = new StandingCache(PgNotificationListener.forDataSource(ds, log));
  caches.set(ds, cache);
  await cache.start();
  return cache;
}

/** The revocation cache serving this database handle; undefined when off, or inside a transaction. */
export function standingCacheOf(db: object): StandingCache | undefined {
  return caches.get(db);
}

/** `load()`, through the database's revocation cache when it has one (see StandingCache.read). */
export function cachedStanding<T>(
  db: object,
  key: string,
  load: () => Promise<T>,
  keep: (value: T) => Keeping | undefined,
  begun?: Promise<void>,
): Promise<T> {
  const cache = caches.get(db);
  return cache ? cache.read(key, load, keep, begun) : load();
}
