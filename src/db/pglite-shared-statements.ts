/**
 * Named prepared statements over the embedded database's socket. PGlite is one backend session
 * behind every socket connection, while `pg` keeps track of what it has prepared per connection:
 * the second connection to prepare `user_view` would get "prepared statement already exists".
 * Yet on PGlite a prepared statement pays most: the backend runs in the server's own thread, and
 * parsing and planning GET /me's user view costs about 0.7 ms of that thread's CPU per call (1.0
 * ms unnamed against 0.25-0.3 ms named, measured over the socket on this machine).
 *
 * So the session queue shows every message to this registry first. A Parse of a name the session
 * holds with the very same text and parameter types is answered here with ParseComplete, which is
 * what the connection would have got had it been alone; the backend keeps the statement for every
 * connection. Any other Parse runs, and a named one that succeeds is remembered. A connection
 * closing a shared statement is answered CloseComplete and the statement stays (others use it).
 *
 * Nothing here sends DEALLOCATE or DISCARD, but should anyone, the connections that prepared a
 * name before still believe they hold it: after such a simple query the queue asks the backend
 * what it still holds (`keepOnly`), and the first Bind or Describe of a dropped name has its
 * Parse replayed first (`replayBefore`).
 *
 * Names come from the repositories (`prepareAs`), one fixed text each; a name reused for another
 * text reaches the backend and fails there, as it would on one PostgreSQL connection.
 */
export class PGliteSharedStatements {
  /** Statement name → its Parse message, and whether the backend holds it now. */
  private readonly statements = new Map<string, { parse: Uint8Array; rest: Uint8Array; held: boolean }>();

  /**
   * Shown each message before it runs: the answer to give without the backend, or undefined when
   * the message must run.
   */
  answerLocally(message: Uint8Array): Uint8Array | undefined {
    switch (message[0]) {
      case PARSE: {
        const parse = parseOf(message);
        const known = parse && parse.name !== '' ? this.statements.get(parse.name) : undefined;
        return known?.held && sameBytes(known.rest, parse!.rest) ? PARSE_COMPLETE : undefined;
      }
      case CLOSE:
        return message[5] === STATEMENT && this.statements.get(cString(message, 6)?.text ?? '')?.held ? CLOSE_COMPLETE : undefined;
      default:
        return undefined;
    }
  }

  /** The Parse to run before this Bind or Describe: it names a statement the backend dropped. */
  replayBefore(message: Uint8Array): Uint8Array | undefined {
    let name: string | undefined;
    if (message[0] === BIND) name = cString(message, cString(message, 5)?.end ?? message.length)?.text;
    else if (message[0] === DESCRIBE && message[5] === STATEMENT) name = cString(message, 6)?.text;
    const known = name ? this.statements.get(name) : undefined;
    return known && !known.held ? known.parse : undefined;
  }

  /** Whether `ran` needs to see this message's answer: a Parse of a named statement. */
  watches(message: Uint8Array): boolean {
    return message[0] === PARSE && message[5] !== 0;
  }

  /** After a watched Parse ran, with everything the backend answered: remembers the statement if it was prepared. */
  ran(message: Uint8Array, answer: readonly Uint8Array[]): boolean {
    const parse = parseOf(message);
    // A Parse alone is answered ParseComplete, or ErrorResponse (or nothing, while an earlier
    // error's messages are skipped until Sync).
    const types = messageTypes(answer);
    const prepared = types.includes(PARSE_COMPLETE_TYPE) && !types.includes(ERROR);
    if (parse && parse.name !== '' && prepared) {
      const copy = message.slice();
      this.statements.set(parse.name, { parse: copy, rest: copy.subarray(message.length - parse.rest.length), held: true });
    }
    return prepared;
  }

  /** Whether a simple query may drop prepared statements: the queue then calls `keepOnly`. */
  mayForget(message: Uint8Array): boolean {
    return message[0] === QUERY && this.statements.size > 0 && FORGETS.test(decoder.decode(message.subarray(5, 5 + 64)));
  }

  /** The backend holds these names now (and no other). */
  keepOnly(names: ReadonlySet<string>): void {
    for (const [name, statement] of this.statements) statement.held &&= names.has(name);
  }
}

const PARSE = 0x50; // 'P'
const BIND = 0x42; // 'B'
const DESCRIBE = 0x44; // 'D'
const CLOSE = 0x43; // 'C'
const QUERY = 0x51; // 'Q'
const STATEMENT = 0x53; // 'S': Close or Describe of a statement (not a portal)
const PARSE_COMPLETE_TYPE = 0x31; // '1'
const ERROR = 0x45; // 'E'
const PARSE_COMPLETE = new Uint8Array([PARSE_COMPLETE_TYPE, 0, 0, 0, 4]);
const CLOSE_COMPLETE = new Uint8Array([0x33, 0, 0, 0, 4]); // '3'
const FORGETS = /^\s*(DEALLOCATE|DISCARD)\b/i;
const decoder = new TextDecoder();

/** The type bytes of the backend messages in an answer (whole messages, cut anywhere into chunks). */
export function messageTypes(answer: readonly Uint8Array[]): number[] {
  const bytes = answer.length === 1 ? answer[0]! : Buffer.concat(answer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const types: number[] = [];
  for (let at = 0; at + 5 <= bytes.length; at += 1 + view.getInt32(at + 1)) types.push(bytes[at]!);
  return types;
}

/** A C string at `offset`: its text and the offset after its NUL. */
function cString(message: Uint8Array, offset: number): { text: string; end: number } | undefined {
  const nul = message.indexOf(0, offset);
  if (nul < 0) return undefined;
  return { text: decoder.decode(message.subarray(offset, nul)), end: nul + 1 };
}

/** Parse: 'P', length, statement name, then the query text and parameter types (`rest`). */
function parseOf(message: Uint8Array): { name: string; rest: Uint8Array } | undefined {
  const name = cString(message, 5);
  return name && { name: name.text, rest: message.subarray(name.end) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
