import { pino, type Logger } from 'pino';

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

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    redact: { paths: redactPaths, censor: '[redacted]' },
  });
}
