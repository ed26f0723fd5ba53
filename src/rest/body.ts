import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { JsonValue } from '@bufbuild/protobuf';
import { bodyTooLarge, invalidBody, malformedJson, unsupportedMediaType } from './errors.js';

/** A request body, parsed by its content type. */
export type ParsedBody =
  | { kind: 'empty' }
  | { kind: 'json'; value: JsonValue }
  /** Form fields in order; a key may repeat (repeated fields). */
  | { kind: 'form'; entries: [string, string][] };

/** The client went away while we were reading its body: nothing to answer. */
export class ClientGoneError extends Error {
  constructor() {
    super('client closed the request');
    this.name = 'ClientGoneError';
  }
}

/**
 * Reads the whole request body, up to `limit` bytes. Over the limit (by
 * Content-Length, or while streaming) it stops reading at once and throws the
 * 413 error; the caller should close the connection after answering, since
 * the rest of the body is never read.
 */
export function readBody(req: IncomingMessage | Http2ServerRequest, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limit) {
    return Promise.reject(bodyTooLarge(limit));
  }
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Listeners as an object's methods, not named closures: tsx (esbuild's keepNames) renames
    // every named closure (also an arrow function held by a property) with defineProperty, per call.
    const on = {
      data(chunk: Buffer | string) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        size += buf.byteLength;
        if (size > limit) {
          on.cleanup();
          req.pause();
          reject(bodyTooLarge(limit));
          return;
        }
        chunks.push(buf);
      },
      end() {
        on.cleanup();
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      },
      error() {
        on.cleanup();
        reject(new ClientGoneError());
      },
      // "close" before "end": the client aborted mid-body.
      close() {
        on.cleanup();
        reject(new ClientGoneError());
      },
      cleanup() {
        req.off('data', on.data);
        req.off('end', on.end);
        req.off('error', on.error);
        req.off('close', on.close);
      },
    };
    req.on('data', on.data);
    req.on('end', on.end);
    req.on('error', on.error);
    req.on('close', on.close);
  });
}

/** One decoder for every body: `decode` without `stream` keeps no state between calls. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function isJsonType(type: string): boolean {
  return type === '' || type === 'application/json' || type === 'text/json' || /^application\/[^/]+\+json$/.test(type);
}

/** Whether a request with this Content-Type could carry a body we accept. */
export function isSupportedBodyType(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return isJsonType(type) || type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data';
}

/**
 * Parses a body by its content type: JSON (also when no type is given),
 * `application/x-www-form-urlencoded`, or the text fields of
 * `multipart/form-data`. An empty body (or only whitespace) is `empty`.
 */
export function parseBody(bytes: Uint8Array, contentType: string | undefined): ParsedBody {
  const type = mediaType(contentType);
  if (!isSupportedBodyType(contentType)) {
    if (bytes.byteLength === 0) return { kind: 'empty' };
    throw unsupportedMediaType(type);
  }
  if (bytes.byteLength === 0) return { kind: 'empty' };
  if (type === 'multipart/form-data') {
    return { kind: 'form', entries: parseMultipart(bytes, contentType ?? '') };
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw (type === 'application/x-www-form-urlencoded' ? invalidBody : malformedJson)('request body is not valid UTF-8');
  }
  if (type === 'application/x-www-form-urlencoded') {
    return { kind: 'form', entries: [...new URLSearchParams(text)] };
  }
  if (text.trim() === '') return { kind: 'empty' };
  try {
    return { kind: 'json', value: JSON.parse(text) as JsonValue };
  } catch (e) {
    const detail = e instanceof SyntaxError ? `: ${e.message}` : '';
    throw malformedJson(`request body is not valid JSON${detail}`);
  }
}

/** The text fields of a multipart/form-data body (file parts are skipped). */
function parseMultipart(bytes: Uint8Array, contentType: string): [string, string][] {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw invalidBody('multipart/form-data without a boundary');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const delimiter = Buffer.from(`--${boundary}`);
  const entries: [string, string][] = [];
  let pos = buf.indexOf(delimiter);
  if (pos < 0) throw invalidBody('malformed multipart/form-data body');
  for (;;) {
    pos += delimiter.length;
    if (buf.subarray(pos, pos + 2).toString() === '--') return entries;
    if (buf.subarray(pos, pos + 2).toString() !== '\r\n') break;
    pos += 2;
    const headerEnd = buf.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) break;
    const headers = buf.subarray(pos, headerEnd).toString('utf8');
    const next = buf.indexOf(Buffer.from(`\r\n--${boundary}`), headerEnd + 4);
    if (next < 0) break;
    const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? /\bname=([^;\s]+)/i.exec(disposition)?.[1];
    const isFile = /\bfilename\*?=/i.test(disposition);
    if (name !== undefined && !isFile) {
      entries.push([name, buf.subarray(headerEnd + 4, next).toString('utf8')]);
    }
    pos = next + 2;
  }
  throw invalidBody('malformed multipart/form-data body');
}
