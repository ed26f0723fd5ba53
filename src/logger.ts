import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';

export type { Logger };

/**
 * Secrets never reach the log: credentials travel in these headers and fields, so pino replaces
 * them wherever a log line carries a request, a body or an error context.
 */
const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  '*.password',
  '*.secret',
  '*.refresh_token',
  '*.refreshToken',
  '*.access_token',
  '*.accessToken',
  '*.api_key',
  '*.apiKey',
  '*.token',
  '*.key',
  '*.client_secret',
];

// A database error names what failed (SQLSTATE, constraint, table, column) but carries the
// statement and its parameters too: key hashes, password hashes, tokens. Only these fields of it
// reach a log line; its message and stack say what went wrong without the values.
const databaseErrorFields = ['code', 'severity', 'routine', 'schema', 'table', 'column', 'dataType', 'constraint'];

function isDatabaseError(err: object): boolean {
  return (
    'query' in err || 'parameters' in err || 'driverError' in err || ['QueryFailedError', 'DatabaseError'].includes((err as Error).name)
  );
}

/** pino's error serializer, except that database errors (also as a `cause`) lose their statement. */
export function serializeError(err: unknown, depth = 0): unknown {
  if (typeof err === 'object' && err !== null && isDatabaseError(err)) {
    const fields = err as Record<string, unknown> & Partial<Error>;
    const out: Record<string, unknown> = { type: err.constructor?.name ?? fields.name, message: fields.message, stack: fields.stack };
    for (const key of databaseErrorFields) if (typeof fields[key] === 'string') out[key] = fields[key];
    if (fields.cause !== undefined && depth < 4) out.cause = serializeError(fields.cause, depth + 1);
    return out;
  }
  if (!(err instanceof Error)) return pino.stdSerializers.err(err as Error);
  const out = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  if (err.cause !== undefined && depth < 4) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * `auto` is for people at a terminal only: JSON lines are what log collectors, CI logs and
 * production want, so anything but an interactive stdout outside CI and production gets JSON.
 */
export function wantsPretty(format: LogFormat, env: NodeJS.ProcessEnv = process.env, tty = process.stdout.isTTY === true): boolean {
  if (format !== 'auto') return format === 'pretty';
  return tty && !env.CI && env.NODE_ENV !== 'production';
}

/**
 * pino-pretty (with its colour, date and JSON-parsing dependencies) is loaded only when a log is to
 * be pretty: a server writing JSON (production, CI, anything not a terminal) does not load it at
 * start. It is CommonJS, so a require loads it synchronously where it is first needed.
 */
function loadPretty(): typeof PinoPretty {
  return createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
}

export function createLogger(level: string, destination?: pino.DestinationStream, format: LogFormat = 'auto'): Logger {
  // pino-pretty as a synchronous stream in this thread (not a worker transport): lines appear in
  // order with whatever else the process prints, and nothing is lost on exit. Redaction and the
  // serializers run before it, so it never sees a secret.
  const out =
    destination ??
    (wantsPretty(format)
      ? loadPretty()({ sync: true, colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
      : undefined);
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: redactPaths, censor: '[redacted]' },
      serializers: { err: serializeError },
    },
    out,
  );
}
