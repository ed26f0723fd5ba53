import { fromBinary } from '@bufbuild/protobuf';
import type { Compression, UniversalHandler, UniversalServerRequest } from '@connectrpc/connect/protocol';
import { compressionBrotli, compressionGzip } from '@connectrpc/connect-node';
import { undecodableRequestKey } from '../interceptors/validation.js';

/*
 * Why this exists: Connect parses a request's binary protobuf before any interceptor runs, and
 * answers a parse failure as `internal` (on purpose, following gRPC's rule that the library
 * never says `invalid_argument`). For us garbage from a caller is a 400. So unary calls with a
 * binary body (Connect `application/proto`, gRPC, gRPC-Web) are decoded once here first; one that
 * does not decode reaches Connect as an empty message, marked, and the validation interceptor
 * refuses it as INVALID_ARGUMENT through the error catalog, on each protocol's own wire format.
 * A body that decodes is then decoded again by Connect, which takes no decoded message: that second
 * decode costs 1-3 µs (a login request), well under 1% of a call, less than any way around it.
 */

const compressions = new Map<string, Compression>([compressionGzip, compressionBrotli].map((c) => [c.name, c]));

type Framing = 'unary' | 'envelopes';

/** How a binary message travels in this content type, or undefined for JSON and anything else. */
function framingOf(contentType: string | null): Framing | undefined {
  const type = (contentType ?? '').toLowerCase();
  if (/^application\/proto\s*(;|$)/.test(type)) return 'unary';
  if (/^application\/grpc(-web)?(\+proto)?\s*(;|$)/.test(type)) return 'envelopes';
  return undefined;
}

/** The body, read whole while it stays within `limit`; else the bytes read so far and the rest unread. */
async function readUpTo(body: AsyncIterable<Uint8Array>, limit: number) {
  const it = body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let failure: { error: unknown } | undefined;
  let complete = false;
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) {
        complete = true;
        break;
      }
      chunks.push(r.value);
      size += r.value.byteLength;
      if (size > limit) break;
    }
  } catch (error) {
    failure = { error };
  }
  // What Connect reads instead of the original body: the same bytes, the same ending.
  async function* replay(): AsyncIterable<Uint8Array> {
    yield* chunks;
    if (failure) throw failure.error;
    if (complete) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  if (!complete) return { bytes: undefined, replay: replay() };
  // Read whole: Connect gets the body as the one chunk it would otherwise concatenate itself.
  const bytes = Buffer.concat(chunks, size);
  return { bytes, replay: bytes.byteLength > 0 ? once(bytes) : replay() };
}

/**
 * The messages in the body; a string saying why the body is not a well-framed unary request; or
 * undefined when the compression is not one we know (Connect answers that itself, as its spec says).
 */
async function messagesOf(
  bytes: Uint8Array,
  framing: Framing,
  encoding: string | null,
  limit: number,
): Promise<Uint8Array[] | string | undefined> {
  const compression = encoding && encoding !== 'identity' ? compressions.get(encoding) : undefined;
  if (encoding && encoding !== 'identity' && !compression) return undefined;
  try {
    if (framing === 'unary') return [compression ? await compression.decompress(bytes, limit) : bytes];
    const messages: Uint8Array[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let pos = 0; pos < bytes.byteLength; ) {
      if (pos + 5 > bytes.byteLength) return 'The request body ends inside an envelope header.';
      const flags = view.getUint8(pos);
      const length = view.getUint32(pos + 1);
      if (flags > 1) return 'An envelope of the request body has unknown flags.';
      if (pos + 5 + length > bytes.byteLength) return 'The request body ends inside a message.';
      if (flags === 1 && !compression) return 'A message is marked compressed but the request names no compression.';
      const data = bytes.subarray(pos + 5, pos + 5 + length);
      messages.push(flags === 1 ? await compression!.decompress(data, limit) : data);
      pos += 5 + length;
    }
    if (messages.length !== 1) return `A unary call takes one message; the request body has ${messages.length}.`;
    return messages;
  } catch {
    return 'The request body does not decompress.';
  }
}

function refusing(handler: UniversalHandler, readMaxBytes: number): UniversalHandler {
  const refuse = async (req: UniversalServerRequest) => {
    const framing = framingOf(req.header.get('content-type'));
    if (!framing || req.method !== 'POST' || !isByteStream(req.body)) return handler(req);
    const { bytes, replay } = await readUpTo(req.body, readMaxBytes);
    if (!bytes) return handler({ ...req, body: replay });
    const encodingHeader = framing === 'unary' ? 'content-encoding' : 'grpc-encoding';
    const messages = await messagesOf(bytes, framing, req.header.get(encodingHeader), readMaxBytes);
    const problem = typeof messages === 'string' ? messages : messages && undecodable(handler, messages);
    if (!problem) return handler({ ...req, body: replay });
    req.contextValues?.set(undecodableRequestKey, problem);
    const header = new Headers(req.header);
    header.delete('content-length');
    header.delete(encodingHeader);
    // An empty message: one empty envelope for gRPC and gRPC-Web, no bytes for Connect.
    const empty = framing === 'unary' ? new Uint8Array(0) : new Uint8Array(5);
    return handler({ ...req, header, body: once(empty) });
  };
  return Object.assign(refuse, {
    protocolNames: handler.protocolNames,
    supportedContentType: handler.supportedContentType,
    allowedMethods: handler.allowedMethods,
    requestPath: handler.requestPath,
    service: handler.service,
    method: handler.method,
  });
}

function undecodable(handler: UniversalHandler, messages: Uint8Array[]): string | undefined {
  for (const message of messages) {
    try {
      fromBinary(handler.method.input, message);
    } catch {
      return `The request body is not a valid ${handler.method.input.typeName} message.`;
    }
  }
  return undefined;
}

function isByteStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/**
 * Replaces each unary handler in the router's list (before connect-node indexes it by path) with
 * one that refuses undecodable binary input as described above. Streaming calls (reflection) are
 * left as they are: their messages arrive one by one and are not buffered.
 */
export function refuseUndecodableBinary(handlers: UniversalHandler[], readMaxBytes: number): void {
  handlers.forEach((h, i) => {
    if (h.method.methodKind === 'unary') handlers[i] = refusing(h, readMaxBytes);
  });
}
