/**
 * Where the revocation cache (src/domain/auth/standing-cache.ts) hears that the database changed
 * something it may hold. The database itself announces it: the triggers of migration 0010 send
 * `pg_notify('sso_standing', '<tag> <schema>')` at commit, whoever wrote.
 *
 * The one implementation today (pg-notification-listener.ts) is a dedicated `pg` connection that
 * LISTENs, on PostgreSQL and on the embedded database alike: PGlite is one backend behind its
 * socket, so of itself it hands a notification only to the connection that committed; the
 * socket's session queue relays it to the connections that LISTEN (pglite-notification-relay.ts).
 *
 * A worker process (SSO_WORKERS) needs nothing else: on PostgreSQL and on the embedded database
 * (reached over the primary's socket) it opens its own listener on its own DataSource, and its
 * cache is its own. A source fed otherwise (say, relayed over cluster IPC) must keep the two
 * promises below, or the cache would hand out what was revoked.
 */
export interface StandingNotifications {
  /**
   * Whether changes are being heard right now. While false the cache reads the database for
   * every call; each change of state clears it (what happened meanwhile was not heard).
   */
  readonly up: boolean;
  /** Starts listening (and reconnecting, until closed); resolves after the first attempt. */
  start(handlers: StandingHandlers): Promise<void>;
  /**
   * Resolves once every change committed before this call was made has been handed to
   * `changed`; rejects if that cannot be known (the connection went down). This is what makes a
   * revocation hold from the very next call: a cached standing is used only after a barrier
   * begun after the call arrived.
   */
  barrier(): Promise<void>;
  close(): Promise<void>;
}

export interface StandingHandlers {
  /** A change under this tag was committed (`*`: anything may have changed). */
  changed(tag: string): void;
  /** Listening began or stopped: everything cached may be stale. */
  stateChanged(up: boolean): void;
}

/** The channel the triggers notify on. */
export const STANDING_CHANNEL = 'sso_standing';

/** The tag of a notification payload when it concerns `schema`, else undefined. */
export function standingTagOf(payload: string, schema: string): string | undefined {
  const space = payload.indexOf(' ');
  if (space < 0 || payload.slice(space + 1) !== schema) return undefined;
  return payload.slice(0, space);
}
