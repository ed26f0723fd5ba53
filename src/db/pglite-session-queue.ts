import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { PGliteNotificationRelay } from './pglite-notification-relay.js';
import { PGliteSharedStatements } from './pglite-shared-statements.js';

/**
 * PGlite is one PostgreSQL backend, so every socket connection shares one session. The queue that
 * `@electric-sql/pglite-socket` 0.2.17 ships hands that session to another connection after any
 * single protocol message unless a transaction block is open. The extended protocol sends a query
 * as Parse/Bind/Describe/Execute/Sync, and pg's messages reach the queue one at a time, so two
 * pooled connections can interleave: connection B's Parse replaces A's unnamed statement and A's
 * Bind then runs B's SQL. Measured: with a pool of 10, a few of 600 concurrent parameterized
 * queries failed ("bind message supplies 2 parameters, but prepared statement "" requires 1") or,
 * worse, silently returned another statement's result.
 *
 * This queue gives the session to one connection from its first message until the backend is idle
 * again: the connection has sent Sync or a simple Query and no transaction block is open. It also
 * keeps working after a failed message (the shipped one stops processing for good), relays
 * notifications to the connections that LISTEN (see PGliteNotificationRelay), lets every
 * connection use the named statements one of them prepared (see PGliteSharedStatements), and
 * answers an extended-protocol exchange in one write (see AnswerBuffer).
 */
export class PGliteSessionQueue {
  private readonly queue: QueuedMessage[] = [];
  private processing = false;
  /** The handler that holds the session, or null when any handler may go next. */
  private owner: number | null = null;
  private readonly notifications = new PGliteNotificationRelay();
  private readonly statements = new PGliteSharedStatements();
  private readonly answers = new AnswerBuffer();
  private readonly exchanges = new DeferredExchanges();

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    // The socket server reads each chunk a connection sends in a task of its own, so a connection
    // can have a message waiting here while its next chunk arrives: a message is kept for later
    // only when none of its connection's is waiting, else it waits in order behind them.
    if (!this.queue.some((q) => q.handlerId === handlerId) && this.exchanges.defer(handlerId, message)) return DEFERRED;
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.processQueue();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    this.notifications.forget(handlerId);
    this.answers.forget(handlerId);
    this.exchanges.forget(handlerId);
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const item = this.queue[i]!;
      if (item.handlerId === handlerId) {
        this.queue.splice(i, 1);
        item.reject(new Error('Handler disconnected'));
      }
    }
  }

  /** Called when a connection goes away: if it held the session, end what it left open. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    try {
      await this.db.runExclusive(async () => {
        // Sync ends an unfinished extended-protocol exchange (and an error's skip-until-Sync state).
        await this.db.execProtocolRaw(SYNC_MESSAGE);
      });
      if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    } catch {
      // The database is closing or broken; the next message will report it.
    } finally {
      this.owner = null;
      void this.processQueue();
    }
  }

  private async processQueue(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      for (;;) {
        const index = this.owner === null ? 0 : this.queue.findIndex((q) => q.handlerId === this.owner);
        if (index < 0 || index >= this.queue.length) return;
        const item = this.queue.splice(index, 1)[0]!;
        let bytes: number;
        const answer = this.answers.collect(item.handlerId);
        try {
          bytes = await this.run(item, answer);
        } catch (error) {
          this.answers.flush(item.handlerId, item.onData);
          this.owner = null;
          item.reject(error);
          continue;
        }
        if (!AnswerBuffer.holds(item.message)) this.answers.flush(item.handlerId, item.onData);
        this.owner = this.keepsSession(item.message) ? item.handlerId : null;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  }

  /**
   * Runs the connection's deferred messages and this one; resolves to the bytes answered. What is
   * answered goes to `answer` (the connection's buffer); notifications for other connections go to
   * their sockets at once. Messages the backend must see go to it together, in one call, unless
   * the shared statements answer one themselves or must see it alone (a Parse to remember, a
   * Parse to replay first).
   */
  private async run(item: QueuedMessage, answer: (data: Uint8Array) => void): Promise<number> {
    let bytes = 0;
    let together: Uint8Array[] = [];
    const runTogether = async () => {
      if (together.length === 0) return;
      const batch = together.length === 1 ? together[0]! : Buffer.concat(together);
      together = [];
      const relaying = this.notifications.answering(item.handlerId, answer);
      await this.execute(batch, (data) => {
        bytes += data.length;
        relaying(data);
      });
    };
    for (const message of [...this.exchanges.take(item.handlerId), item.message]) {
      const local = this.statements.answerLocally(message);
      if (local) {
        await runTogether();
        answer(local);
        bytes += local.length;
        continue;
      }
      const replay = this.statements.replayBefore(message);
      if (replay || this.statements.watches(message)) {
        await runTogether();
        bytes += await this.runAlone(item, message, replay, answer);
      } else {
        // A listener is sent notifications straight to its socket, between whole answers.
        this.notifications.sent(item.handlerId, message, item.onData);
        together.push(message);
      }
    }
    await runTogether();
    if (this.statements.mayForget(item.message)) await this.recountStatements();
    return bytes;
  }

  /**
   * Runs one message on its own, with what the shared statements need to see: its Parse replayed
   * first (`replay`), or its answer to remember a named statement by.
   */
  private async runAlone(
    item: QueuedMessage,
    message: Uint8Array,
    replay: Uint8Array | undefined,
    answer: (data: Uint8Array) => void,
  ): Promise<number> {
    if (replay) {
      const refused: Uint8Array[] = [];
      await this.execute(replay, (data) => refused.push(data.slice()));
      if (!this.statements.ran(replay, refused)) {
        // Refused (a failed transaction, say): the error stands for this message's answer, and
        // the backend skips the rest of the exchange until Sync, as it would have.
        for (const data of refused) answer(data);
        return refused.reduce((n, data) => n + data.length, 0);
      }
    }
    let bytes = 0;
    this.notifications.sent(item.handlerId, message, item.onData);
    const relaying = this.notifications.answering(item.handlerId, answer);
    const seen: Uint8Array[] | undefined = this.statements.watches(message) ? [] : undefined;
    await this.execute(message, (data) => {
      bytes += data.length;
      seen?.push(data.slice());
      relaying(data);
    });
    if (seen) this.statements.ran(message, seen);
    return bytes;
  }

  private execute(message: Uint8Array, onRawData: (data: Uint8Array) => void): Promise<void> {
    return this.db.runExclusive(() => this.db.execProtocolRawStream(message, { onRawData }));
  }

  /** What the backend still holds after a DEALLOCATE or DISCARD. */
  private async recountStatements(): Promise<void> {
    try {
      const { rows } = await this.db.query<{ name: string }>('SELECT name FROM pg_prepared_statements');
      this.statements.keepOnly(new Set(rows.map((r) => r.name)));
    } catch {
      // Only in a failed transaction, where the DEALLOCATE failed too: nothing was dropped.
    }
  }

  private keepsSession(message: Uint8Array): boolean {
    if (this.db.isInTransaction()) return true;
    switch (message[0]) {
      case SYNC: // end of an extended-protocol exchange
      case QUERY: // simple query: one message, one answer
      case TERMINATE:
      case 0: // startup message (its first byte is the high byte of its length)
        return false;
      default: // Parse, Bind, Describe, Execute, Close, Flush, COPY data: more is coming
        return true;
    }
  }
}

/**
 * A connection's answers, held from the messages of an extended-protocol exchange (Parse, Bind,
 * Describe, Execute, Close) and written at once with the answer to the message that ends it
 * (Sync, or Flush; anything else is written with what is held at once), as PostgreSQL itself
 * buffers its output until Sync or Flush. The socket server would otherwise write every answer
 * (ParseComplete, BindComplete, the rows, ReadyForQuery) on its own: each write a system call here
 * and a wake-up of the server's thread, which reads them one by one. With a prepared statement,
 * three writes became one.
 */
class AnswerBuffer {
  private readonly held = new Map<number, Uint8Array[]>();

  /** Whether the answer to `message` waits for the rest of its exchange. */
  static holds(message: Uint8Array): boolean {
    return HELD.has(message[0]!);
  }

  /** Where one message's answer goes: the connection's buffer (chunks are copied, PGlite reuses its memory). */
  collect(handlerId: number): (data: Uint8Array) => void {
    let held = this.held.get(handlerId);
    if (!held) this.held.set(handlerId, (held = []));
    return (data) => {
      if (data.length > 0) held.push(data.slice());
    };
  }

  /** Writes what the connection's answers held, in one piece. */
  flush(handlerId: number, write: (data: Uint8Array) => void): void {
    const held = this.held.get(handlerId);
    if (!held || held.length === 0) return;
    this.held.set(handlerId, []);
    write(held.length === 1 ? held[0]! : Buffer.concat(held));
  }

  /** The connection is gone. */
  forget(handlerId: number): void {
    this.held.delete(handlerId);
  }
}

/** Parse, Bind, Describe, Execute, Close: PostgreSQL answers them at the exchange's Sync (or a Flush). */
const HELD = new Set([0x50, 0x42, 0x44, 0x45, 0x43]);

/**
 * The messages of a connection's extended-protocol exchange, kept until the message that ends it
 * (Sync or Flush, see AnswerBuffer) and then run with it in one call to PGlite. Nothing about them
 * can be answered earlier anyway, and PGlite pays for each call (entering and leaving its main
 * loop, flushing its output, the exclusive lock): pg sends a named statement as Bind, Describe,
 * Execute and Sync, four calls, now one. Until the exchange ends, the connection does not hold
 * the session: others run meanwhile, and it waits its turn with the message that ends it. An
 * exchange that grows past a bound runs as its messages come, in order (each waits its turn).
 */
class DeferredExchanges {
  private readonly held = new Map<number, { messages: Uint8Array[]; bytes: number }>();

  /** Keeps the message for later when it belongs to an exchange; false when it must run now. */
  defer(handlerId: number, message: Uint8Array): boolean {
    if (!HELD.has(message[0]!)) return false;
    let held = this.held.get(handlerId);
    if (!held) this.held.set(handlerId, (held = { messages: [], bytes: 0 }));
    if (held.messages.length >= MAX_DEFERRED_MESSAGES || held.bytes + message.length > MAX_DEFERRED_BYTES) return false;
    held.messages.push(message);
    held.bytes += message.length;
    return true;
  }

  /** The connection's kept messages, in the order they came; it keeps none after this. */
  take(handlerId: number): Uint8Array[] {
    const held = this.held.get(handlerId);
    if (!held || held.messages.length === 0) return [];
    this.held.set(handlerId, { messages: [], bytes: 0 });
    return held.messages;
  }

  /** The connection is gone: its unfinished exchange never ran. */
  forget(handlerId: number): void {
    this.held.delete(handlerId);
  }
}

/** Bounds on one connection's kept exchange (pg's own are a few messages and a statement's parameters). */
const MAX_DEFERRED_MESSAGES = 64;
const MAX_DEFERRED_BYTES = 1 << 20;
/** What the socket server is told of a kept message: answered with nothing yet. */
const DEFERRED = Promise.resolve(0);

/**
 * Replaces the message queue of a PGLiteSocketServer (created, not yet started) with a
 * PGliteSessionQueue. The server keeps its queue in a private field that every connection
 * handler receives when it is created; if that changes in another version, this throws rather
 * than run unprotected.
 */
export function installSessionQueue(server: PGLiteSocketServer, db: PGlite): void {
  const internals = server as unknown as { queryQueue?: { enqueue?: unknown } };
  if (typeof internals.queryQueue?.enqueue !== 'function') {
    throw new Error('@electric-sql/pglite-socket has no queryQueue field any more: re-check the session queue fix');
  }
  (internals as { queryQueue: unknown }).queryQueue = new PGliteSessionQueue(db);
}

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
}

const QUERY = 0x51; // 'Q'
const SYNC = 0x53; // 'S'
const TERMINATE = 0x58; // 'X'
const SYNC_MESSAGE = new Uint8Array([SYNC, 0, 0, 0, 4]);
