import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';

/** The Connect error codes, as they appear in Connect's JSON error body. */
export type ConnectCodeName =
  | 'canceled'
  | 'unknown'
  | 'invalid_argument'
  | 'deadline_exceeded'
  | 'not_found'
  | 'already_exists'
  | 'permission_denied'
  | 'resource_exhausted'
  | 'failed_precondition'
  | 'aborted'
  | 'out_of_range'
  | 'unimplemented'
  | 'internal'
  | 'unavailable'
  | 'data_loss'
  | 'unauthenticated';

const httpStatusByCode: Record<ConnectCodeName, number> = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
};

export function isConnectCodeName(code: string): code is ConnectCodeName {
  return Object.hasOwn(httpStatusByCode, code);
}

/** The HTTP status a REST caller gets for a Connect code (500 for a code we do not know). */
export function httpStatusForCode(code: string): number {
  return isConnectCodeName(code) ? httpStatusByCode[code] : 500;
}

/**
 * A problem with the REST request itself (body, path, query), found before the
 * RPC handler runs. The transcoder answers it with {@link writeRestError}.
 */
export class RestInputError extends Error {
  constructor(
    readonly status: number,
    readonly code: ConnectCodeName,
    readonly reason: string,
    message: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'RestInputError';
  }
}

export const malformedJson = (message: string) => new RestInputError(400, 'invalid_argument', 'MALFORMED_JSON', message);
export const invalidBody = (message: string) => new RestInputError(400, 'invalid_argument', 'INVALID_BODY', message);
export const invalidArgument = (message: string) => new RestInputError(400, 'invalid_argument', 'INVALID_ARGUMENT', message);
export const bodyTooLarge = (limit: number) =>
  new RestInputError(413, 'resource_exhausted', 'BODY_TOO_LARGE', `request body exceeds ${limit} bytes`);
export const unsupportedMediaType = (contentType: string) =>
  new RestInputError(
    415,
    'invalid_argument',
    'UNSUPPORTED_MEDIA_TYPE',
    `unsupported content type "${contentType}": send application/json or application/x-www-form-urlencoded`,
  );
export const methodNotAllowed = (method: string, allowed: string[]) =>
  new RestInputError(405, 'unimplemented', 'METHOD_NOT_ALLOWED', `method ${method} is not allowed on this path`, {
    allow: allowed.join(', '),
  });

/** The JSON body every REST error has. */
export interface RestErrorBody {
  code: string;
  error_code: string;
  message: string;
  detail: string;
}

export function restErrorBody(code: string, reason: string, message: string): RestErrorBody {
  return { code, error_code: reason, message, detail: message };
}

/**
 * Answers a REST error: `{"code", "error_code", "message", "detail"}` with the
 * given status. Safe to call when the response is already under way (it then
 * only ends it) or the client is gone.
 */
export function writeRestError(
  res: ServerResponse | Http2ServerResponse,
  status: number,
  code: string,
  reason: string,
  message: string,
  headers?: Record<string, string>,
): void {
  writeJson(res, status, restErrorBody(code, reason, message), headers);
}

/**
 * Writes a JSON answer; ends quietly if headers were already sent or the client left. `headers`
 * is the caller's to give away: its content type and length are set in it.
 */
export function writeJson(
  res: ServerResponse | Http2ServerResponse,
  status: number,
  value: unknown,
  headers?: Record<string, string | string[]>,
): void {
  if (res.headersSent || res.writableEnded || res.destroyed) {
    if (!res.writableEnded && !res.destroyed) res.end();
    return;
  }
  // A string, not a Buffer: Node's HTTP/1.1 response then sends the head and the body in one
  // write instead of queueing two chunks for a writev.
  const body = JSON.stringify(value ?? null);
  const out: Record<string, string | string[] | number> = headers ? (headers as Record<string, string | string[] | number>) : {};
  out['content-type'] = 'application/json';
  out['content-length'] = Buffer.byteLength(body, 'utf8');
  // Cast: ServerResponse and Http2ServerResponse have incompatible writeHead overloads.
  (res as ServerResponse).writeHead(status, out);
  (res as ServerResponse).end(body, 'utf8');
}
