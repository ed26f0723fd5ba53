import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError, createHandlerContext, type ContextValues, type Interceptor } from '@connectrpc/connect';
import { invokeUnaryImplementation } from '@connectrpc/connect/protocol';
import type { UnarySpec } from './implementations.js';

/** What the RPC answered: its message or its error, and the response headers it set. */
export type UnaryAnswer =
  | { message: MessageShape<DescMessage>; error?: undefined; header: Headers }
  | { error: ConnectError; header: Headers };

/**
 * Why a finished call's signal is aborted. Connect's own handler aborts with no reason, which makes
 * Node build a DOMException (with its stack) on every call; a reason given up front costs nothing.
 * Nothing reads it: a call that has answered has no one left to tell.
 */
const callFinished = new ConnectError('the call has finished', Code.Canceled);

/**
 * Runs a unary RPC in-process on an already decoded request message: the RPC's own implementation
 * behind the given interceptors, with a handler context built as Connect's handler builds it
 * (Connect's `createHandlerContext` and `invokeUnaryImplementation`). Like Connect's handler it
 * never throws: an error becomes the answer, with the error's metadata among the response headers.
 */
export async function invokeUnary(
  spec: UnarySpec,
  interceptors: Interceptor[],
  options: { message: MessageShape<DescMessage>; header: Headers; url: string; signal: AbortSignal; contextValues?: ContextValues },
): Promise<UnaryAnswer> {
  const context = createHandlerContext({
    service: spec.method.parent,
    method: spec.method,
    protocolName: 'rest',
    // What the RPC saw when REST calls reached it as Connect requests: a POST to its own path.
    requestMethod: 'POST',
    url: options.url,
    requestSignal: options.signal,
    requestHeader: options.header,
    contextValues: options.contextValues,
  });
  try {
    const message = await invokeUnaryImplementation(spec, context, options.message, interceptors);
    return { message, header: context.responseHeader };
  } catch (e) {
    const error = e instanceof ConnectError ? e : new ConnectError('internal error', Code.Internal, undefined, undefined, e);
    context.abort(error);
    error.metadata.forEach((value, key) => context.responseHeader.set(key, value));
    return { error, header: context.responseHeader };
  } finally {
    context.abort(callFinished);
  }
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
