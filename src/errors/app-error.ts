import { catalog, type Reason } from './catalog.js';

/**
 * A refusal the domain means to give: a catalogued reason, optionally a more precise message,
 * and headers the caller should see (such as Retry-After). Anything else thrown is a bug and is
 * answered as `internal` with the cause only in the log.
 */
export class AppError extends Error {
  readonly reason: Reason;
  readonly headers: Record<string, string>;
  constructor(reason: Reason, message?: string, headers: Record<string, string> = {}) {
    super(message ?? catalog[reason].message);
    this.name = 'AppError';
    this.reason = reason;
    this.headers = headers;
  }
}

export function fail(reason: Reason, message?: string, headers?: Record<string, string>): never {
  throw new AppError(reason, message, headers);
}
