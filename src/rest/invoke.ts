import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import { Code, ConnectError, type ContextValues } from '@connectrpc/connect';
import type { UniversalHandler, UniversalServerRequest } from '@connectrpc/connect/protocol';

/** What the Connect handler answered, fully read. */
export interface HandlerAnswer {
  status: number;
  header: Headers;
  body: Uint8Array;
}

/**
 * Calls a Connect universal handler in-process with a unary Connect request
 * carrying `body` (a binary protobuf message): POST to the handler's request
 * path, so the router's interceptors and the implementation run exactly as for
 * an RPC. Reads the whole answer.
 */
export async function invokeUnary(
  handler: UniversalHandler,
  options: {
    req: IncomingMessage | Http2ServerRequest;
    header: Headers;
    body: Uint8Array;
    signal: AbortSignal;
    contextValues?: ContextValues;
  },
): Promise<HandlerAnswer> {
  const { req } = options;
  const request: UniversalServerRequest = {
    httpVersion: req.httpVersion,
    // The Connect handler parses this with `new URL()`, so it must be absolute.
    url: `${requestOrigin(req)}${handler.requestPath}`,
    method: 'POST',
    header: options.header,
    body: singleChunk(options.body),
    signal: options.signal,
    contextValues: options.contextValues,
  };
  const answer = await handler(request);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (answer.body) {
    for await (const chunk of answer.body) {
      chunks.push(chunk);
      size += chunk.byteLength;
    }
  }
  const header = new Headers(answer.header);
  let body: Uint8Array = Buffer.concat(chunks, size);
  const encoding = header.get('content-encoding');
  if (encoding && encoding !== 'identity') body = await decompress(encoding, body);
  return { status: answer.status, header, body };
}

async function* singleChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  if (bytes.byteLength > 0) yield bytes;
}

const decompressors: Record<string, (b: Uint8Array) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  br: promisify(brotliDecompress),
  deflate: promisify(inflate),
};

async function decompress(encoding: string, body: Uint8Array): Promise<Uint8Array> {
  const fn = decompressors[encoding.toLowerCase()];
  if (!fn) throw new Error(`handler answered with unsupported content-encoding ${encoding}`);
  return fn(body);
}

/** `http(s)://host[:port]` of the request, from Host / :authority, or localhost when it is unusable. */
export function requestOrigin(req: IncomingMessage | Http2ServerRequest): string {
  const encrypted = 'encrypted' in req.socket && (req.socket as { encrypted?: boolean }).encrypted === true;
  const scheme = encrypted ? 'https' : 'http';
  const authority = ('authority' in req && typeof req.authority === 'string' ? req.authority : undefined) ?? req.headers.host;
  if (!authority) return `${scheme}://localhost`;
  // Every call would otherwise parse a `new URL` here; clients send the same few Host values.
  const key = `${scheme} ${authority}`;
  let origin = origins.get(key);
  if (origin === undefined) {
    origin = parseOrigin(scheme, authority);
    // The Host header is the client's to choose: bounded, so varying it cannot grow memory.
    if (origins.size >= 256) origins.clear();
    origins.set(key, origin);
  }
  return origin;
}

const origins = new Map<string, string>();

function parseOrigin(scheme: string, authority: string): string {
  try {
    const url = new URL(`${scheme}://${authority}`);
    if (url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '' && url.password === '') {
      return url.origin;
    }
  } catch {
    /* fall through */
  }
  return `${scheme}://localhost`;
}

/**
 * An AbortSignal that fires when the client goes away (connection or stream
 * closed before the answer was sent), like connect-node's own adapter does.
 * Call the returned `dispose` once the answer is written.
 */
export function clientGoneSignal(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) controller.abort(new ConnectError('client closed the connection', Code.Canceled));
  };
  const onError = (e: unknown) => controller.abort(ConnectError.from(e, Code.Canceled));
  res.once('close', onClose);
  req.once('error', onError);
  if (res.destroyed && !res.writableFinished) onClose();
  return {
    signal: controller.signal,
    dispose: () => {
      res.off('close', onClose);
      req.off('error', onError);
    },
  };
}
