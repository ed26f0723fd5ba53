/**
 * Makes LISTEN work over the embedded database's socket. PGlite is one backend shared by every
 * socket connection, so the backend itself listens on behalf of all of them, and it writes each
 * NotificationResponse into the output of whatever it is running when it delivers it: measured,
 * that is the committing connection's own answer (before its ReadyForQuery). PGlite's own
 * `listen()` does not see these either (it parses only what its own query API runs). So the
 * session queue shows this relay every message a connection sends and everything the backend
 * answers: a connection that sent `LISTEN <channel>` (simple query) is remembered with the
 * channel, and each NotificationResponse found in any answer is copied, whole, to every other
 * connection listening on its channel — synchronously, before the committer's answer goes out,
 * so on each listener's stream it comes before the answer to anything that listener sends after
 * the commit returned (the ordering the revocation cache's barrier relies on, as on PostgreSQL).
 */
export class PGliteNotificationRelay {
  /** handler → its channels and where its answers are written. */
  private readonly listeners = new Map<number, { channels: Set<string>; write: (data: Uint8Array) => void }>();

  /** Called with each message a connection sends, before it runs. */
  sent(handlerId: number, message: Uint8Array, write: (data: Uint8Array) => void): void {
    // Most simple queries are something else: look at the text only when it can be (UN)LISTEN.
    if (message[0] !== QUERY || !MAY_LISTEN.has(message[5] ?? 0)) return;
    const command = /^\s*(UNLISTEN|LISTEN)\s+("(?:[^"]|"")+"|[^\s;]+)\s*;?\s*$/i.exec(decoder.decode(message.subarray(5, -1)));
    if (!command) return;
    const channel = channelName(command[2]!);
    const listener = this.listeners.get(handlerId) ?? { channels: new Set<string>(), write };
    listener.write = write;
    if (command[1]!.toUpperCase() === 'LISTEN') listener.channels.add(channel);
    else if (command[2] === '*') listener.channels.clear();
    else listener.channels.delete(channel);
    if (listener.channels.size > 0) this.listeners.set(handlerId, listener);
    else this.listeners.delete(handlerId);
  }

  /** The connection is gone. */
  forget(handlerId: number): void {
    this.listeners.delete(handlerId);
  }

  /**
   * Wraps the writer of one message's answer: passes everything through and relays the
   * notifications in it. An answer is a sequence of whole messages, possibly cut across chunks.
   */
  answering(handlerId: number, write: (data: Uint8Array) => void): (data: Uint8Array) => void {
    if (this.listeners.size === 0 || (this.listeners.size === 1 && this.listeners.has(handlerId))) return write;
    const scanner = new NotificationScanner((notification) => this.relay(handlerId, notification));
    return (data) => {
      write(data);
      scanner.push(data);
    };
  }

  private relay(from: number, notification: Uint8Array): void {
    const channel = channelOf(notification);
    for (const [handlerId, listener] of this.listeners) {
      // The connection that committed has it in its own answer already.
      if (handlerId !== from && listener.channels.has(channel)) listener.write(notification);
    }
  }
}

const QUERY = 0x51; // 'Q'
const NOTIFICATION = 0x41; // 'A'
/** What a LISTEN or UNLISTEN statement's text can begin with: L, U (either case) or white space. */
const MAY_LISTEN = new Set([0x4c, 0x6c, 0x55, 0x75, 0x20, 0x09, 0x0a, 0x0d]);
const decoder = new TextDecoder();

/** An identifier as PostgreSQL names it: "Quoted" kept as written, unquoted folded to lower case. */
function channelName(identifier: string): string {
  return identifier.startsWith('"') ? identifier.slice(1, -1).replaceAll('""', '"') : identifier.toLowerCase();
}

/** A NotificationResponse's channel: 'A', length, the sender's pid, then the channel's C string. */
function channelOf(message: Uint8Array): string {
  const end = message.indexOf(0, 9);
  return decoder.decode(message.subarray(9, end < 0 ? message.length : end));
}

/** Finds the NotificationResponse messages in a backend stream fed in arbitrary chunks. */
class NotificationScanner {
  private header = new Uint8Array(5);
  private headerFill = 0;
  /** Bytes of the current message's body still to come. */
  private remaining = 0;
  /** The current notification being collected (undefined for a message of another type). */
  private collecting: Uint8Array | undefined;
  private collected = 0;

  constructor(private readonly found: (notification: Uint8Array) => void) {}

  push(data: Uint8Array): void {
    let i = 0;
    while (i < data.length) {
      if (this.remaining === 0 && this.collecting === undefined) {
        const take = Math.min(5 - this.headerFill, data.length - i);
        this.header.set(data.subarray(i, i + take), this.headerFill);
        this.headerFill += take;
        i += take;
        if (this.headerFill < 5) return;
        this.headerFill = 0;
        const length = new DataView(this.header.buffer).getInt32(1);
        this.remaining = length - 4;
        if (this.header[0] === NOTIFICATION) {
          this.collecting = new Uint8Array(1 + length);
          this.collecting.set(this.header);
          this.collected = 5;
        }
      }
      const take = Math.min(this.remaining, data.length - i);
      if (this.collecting) this.collecting.set(data.subarray(i, i + take), this.collected);
      this.collected += take;
      this.remaining -= take;
      i += take;
      if (this.remaining === 0 && this.collecting) {
        const notification = this.collecting;
        this.collecting = undefined;
        this.found(notification);
      }
    }
  }
}
