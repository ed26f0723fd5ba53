import pg from 'pg';
import type { DataSource } from 'typeorm';
import { STANDING_CHANNEL, type StandingHandlers, type StandingNotifications, standingTagOf } from './standing-notifications.js';

interface ListenerLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

const noop = () => {};

/** The first reconnection waits this long, each next one twice as long, up to the maximum. */
const RECONNECT_FIRST_MS = 1000;
const RECONNECT_MAX_MS = 15_000;
/**
 * A barrier unanswered this long means the connection is not working (a peer gone without a
 * word): it is dropped and re-made, and the calls waiting read the database instead.
 */
const BARRIER_TIMEOUT_MS = 5000;

/**
 * A dedicated connection that LISTENs on the standing channel, beside the DataSource's pool and
 * to the same database (and schema): PostgreSQL, or the embedded database's socket. Reconnects
 * with backoff when the connection drops; while it is down `up` is false.
 *
 * The barrier is a `SELECT 1` on this same connection. It is safe because of what PostgreSQL
 * guarantees: a committing backend signals the listening ones before its commit returns, and a
 * listener sends what it was signalled before it executes the next query it reads; so every
 * notification of a commit that finished before the barrier was sent arrives on this connection
 * before the barrier's answer (the embedded relay writes it before the committer's answer, on the
 * same ordered stream). Barriers are shared: calls arriving while one is in flight wait for the
 * next, which starts as soon as the current one answers.
 */
export class PgNotificationListener implements StandingNotifications {
  private client: pg.Client | undefined;
  private handlers: StandingHandlers | undefined;
  private schema = '';
  private closed = false;
  private retryMs = RECONNECT_FIRST_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private following: Promise<void> | undefined;
  up = false;
  /** Listening has worked before: a connection made now is a reconnection (logged). */
  private wasUp = false;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly log: ListenerLog,
  ) {}

  /** A listener on the DataSource's own database, with its connection settings (and search_path). */
  static forDataSource(ds: DataSource, log: ListenerLog): PgNotificationListener {
    const o = ds.options as {
      url?: string;
      host?: string;
      port?: number;
      username?: string;
      password?: string;
      database?: string;
      ssl?: pg.ClientConfig['ssl'];
      extra?: { options?: string };
    };
    return new PgNotificationListener(
      {
        ...(o.url !== undefined && { connectionString: o.url }),
        ...(o.host !== undefined && { host: o.host, port: o.port, user: o.username, password: o.password, database: o.database }),
        ...(o.ssl !== undefined && { ssl: o.ssl }),
        ...(o.extra?.options !== undefined && { options: o.extra.options }),
        application_name: 'sso-standing-listener',
        keepAlive: true,
        connectionTimeoutMillis: 10_000,
      },
      log,
    );
  }

  /** The connection while up (a test ends it to see the cache fall back). */
  get connection(): pg.Client | undefined {
    return this.up ? this.client : undefined;
  }

  async start(handlers: StandingHandlers): Promise<void> {
    this.handlers = handlers;
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.config);
    this.client = client;
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (n) => {
      const tag = n.channel === STANDING_CHANNEL && n.payload !== undefined ? standingTagOf(n.payload, this.schema) : undefined;
      if (tag !== undefined) this.handlers?.changed(tag);
    });
    try {
      await client.connect();
      const [row] = (await client.query<{ schema: string }>('SELECT current_schema() AS schema')).rows;
      this.schema = row?.schema ?? 'public';
      await client.query(`LISTEN ${STANDING_CHANNEL}`);
    } catch (err) {
      this.log.warn({ err }, 'revocation cache: cannot listen for changes; every call reads the database until it can');
      this.lost(client);
      return;
    }
    if (this.client !== client || this.closed) return;
    if (this.retryMs > RECONNECT_FIRST_MS || this.wasUp)
      this.log.info({}, 'revocation cache: listening for changes (the cache is used again)');
    this.retryMs = RECONNECT_FIRST_MS;
    this.wasUp = true;
    this.up = true;
    this.handlers?.stateChanged(true);
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('notification');
    client.end().catch(() => {});
    if (this.up) {
      this.up = false;
      this.handlers?.stateChanged(false);
      if (!this.closed)
        this.log.warn({}, 'revocation cache: lost the listening connection; every call reads the database until it is back');
    }
    if (this.closed) return;
    this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
  }

  barrier(): Promise<void> {
    if (!this.inFlight) return this.launch();
    // The barrier in flight was sent before this call arrived: join the one sent after it.
    this.following ??= this.inFlight.then(noop, noop).then(() => this.launch());
    return this.following;
  }

  private launch(): Promise<void> {
    const trip = this.roundTrip();
    this.inFlight = trip;
    this.following = undefined;
    trip
      .finally(() => {
        if (this.inFlight === trip) this.inFlight = undefined;
      })
      .catch(noop);
    return trip;
  }

  private async roundTrip(): Promise<void> {
    const client = this.connection;
    if (!client) throw new Error('not listening');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.lost(client);
        reject(new Error('the listening connection does not answer'));
      }, BARRIER_TIMEOUT_MS);
    });
    try {
      await Promise.race([client.query('SELECT 1'), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    this.up = false;
    await client?.end().catch(() => {});
  }
}
