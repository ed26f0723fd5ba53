import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import {
  Code,
  ConnectError,
  createContextValues,
  type ContextValues,
  type HandlerContext,
  type Interceptor,
  type UnaryRequest,
  type UnaryResponse,
} from '@connectrpc/connect';
import type { UnarySpec } from './implementations.js';

type UnaryFn = (req: UnaryRequest) => Promise<UnaryResponse>;

/** What the RPC answered: its message or its error, and the response headers it set. */
export type UnaryAnswer =
  | { message: MessageShape<DescMessage>; error?: undefined; header: Headers }
  | { error: ConnectError; header: Headers };

/**
 * Runs a unary RPC in-process on an already decoded request message: the RPC's own implementation
 * behind the given interceptors, as Connect's handler runs it (its `invokeUnaryImplementation`:
 * the same request and context shapes, the interceptors in the same order, the answer normalized
 * to the output message). Like Connect's handler it never throws: an error becomes the answer,
 * with the error's metadata among the response headers.
 *
 * Written here rather than taken from Connect for two per-call costs a REST call does not need:
 * - Connect's `createHandlerContext` adds two AbortControllers (a deadline and one linked to the
 *   request's signal); a REST call has no deadline (the Connect timeout header is not forwarded),
 *   so the request's own signal serves as is (about 30 µs of CPU a call on Node 20, under 10 on
 *   Node 22 and 24);
 * - Connect reads the call's signal into every request and context it builds, so a signal would
 *   be made for every call; here `signal` is read through, and the client-gone signal
 *   (`clientGoneSignal`) is only made when something reads it (no handler on a REST route does).
 */
export async function invokeUnary(
  spec: UnarySpec,
  interceptors: Interceptor[],
  options: { message: MessageShape<DescMessage>; header: Headers; url: string; signal: () => AbortSignal; contextValues?: ContextValues },
): Promise<UnaryAnswer> {
  const method = spec.method;
  const service = method.parent;
  const responseHeader = new Headers();
  // A REST answer has no trailers (nothing copies them): the Headers is made only if asked for.
  const responseTrailer = lazyHeaders();
  const contextValues = options.contextValues ?? createContextValues();
  let next = implementationOf(spec, responseHeader, responseTrailer);
  // Connect's interceptors take either kind of call; this one is unary only.
  for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i]!(next as never) as UnaryFn;
  try {
    const answer = await next({
      stream: false,
      service,
      method,
      // What the RPC saw when REST calls reached it as Connect requests: a POST to its own path.
      requestMethod: 'POST',
      url: options.url,
      get signal() {
        return options.signal();
      },
      header: options.header,
      contextValues,
      message: options.message,
    });
    if (answer.header !== responseHeader) answer.header.forEach((value, key) => responseHeader.set(key, value));
    return { message: answer.message, header: responseHeader };
  } catch (e) {
    const error = e instanceof ConnectError ? e : new ConnectError('internal error', Code.Internal, undefined, undefined, e);
    error.metadata.forEach((value, key) => responseHeader.set(key, value));
    return { error, header: responseHeader };
  }
}

/** A Headers made on the first `get`. */
function lazyHeaders(): { get(): Headers } {
  let headers: Headers | undefined;
  return {
    get() {
      headers ??= new Headers();
      return headers;
    },
  };
}

/** A REST call has no deadline (see invokeUnary). */
function noDeadline(): undefined {
  return undefined;
}

/**
 * The innermost step of the chain: the implementation, handed the context the handler sees (the
 * call's, with what the interceptors handed down), its answer normalized to the output message.
 */
function implementationOf(spec: UnarySpec, responseHeader: Headers, responseTrailer: { get(): Headers }): UnaryFn {
  const method = spec.method;
  // Returned as is, not bound to a name first: tsx (esbuild's keepNames) renames every named
  // closure with Object.defineProperty, per call.
  return async (req) => {
    const context: HandlerContext = {
      service: req.service,
      method,
      protocolName: 'rest',
      requestMethod: req.requestMethod,
      url: req.url,
      get signal() {
        return req.signal;
      },
      timeoutMs: noDeadline,
      requestHeader: req.header,
      responseHeader,
      get responseTrailer() {
        return responseTrailer.get();
      },
      values: req.contextValues,
    };
    const output = await spec.impl(req.message, context);
    return {
      stream: false,
      service: method.parent,
      method,
      message: create(method.output, output),
      header: responseHeader,
      get trailer() {
        return responseTrailer.get();
      },
    };
  };
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
 * Why a call's signal is aborted once its answer is written (as Connect's handler aborts its own, so
 * work a handler left running is told). Connect aborts with no reason, which makes Node build a
 * DOMException, with its stack, on every call; a reason made once costs nothing.
 */
const callFinished = new ConnectError('the call has finished', Code.Canceled);

/**
 * An AbortSignal that fires when the client goes away (connection or stream
 * closed before the answer was sent), like connect-node's own adapter does.
 * The signal is made on the first `signal()` (most calls never ask: none is made
 * then). Call `dispose` once the answer is written: it ends the signal.
 */
export function clientGoneSignal(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
): { signal: () => AbortSignal; gone: () => boolean; dispose: () => void } {
  let controller: AbortController | undefined;
  let listeners: { close(): void; error(e: unknown): void } | undefined;
  // Methods, not arrow functions held by properties: tsx (esbuild's keepNames) renames each of
  // those with defineProperty, per call.
  return {
    signal() {
      if (!controller) {
        const made = new AbortController();
        controller = made;
        listeners = {
          close() {
            if (!res.writableFinished) made.abort(new ConnectError('client closed the connection', Code.Canceled));
          },
          error(e) {
            made.abort(ConnectError.from(e, Code.Canceled));
          },
        };
        res.once('close', listeners.close);
        req.once('error', listeners.error);
        if (res.destroyed && !res.writableFinished) listeners.close();
      }
      return controller.signal;
    },
    // Before `dispose`: whether the client left (or its request failed) before the answer.
    gone() {
      return controller?.signal.aborted === true || (res.destroyed && !res.writableFinished);
    },
    dispose() {
      if (!controller || !listeners) return;
      res.off('close', listeners.close);
      req.off('error', listeners.error);
      controller.abort(callFinished);
    },
  };
}
