import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants as h2constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createRegistry, type DescService } from '@bufbuild/protobuf';
import type { ContextValues, Interceptor } from '@connectrpc/connect';
import { createMethodUrl } from '@connectrpc/connect/protocol';
import { ClientGoneError, parseBody, readBody, type ParsedBody } from './body.js';
import { methodNotAllowed, RestInputError, writeJson, writeRestError } from './errors.js';
import { handlerRequestHeaders, restResponseHeaders } from './headers.js';
import { rpcKey, type UnaryImplementations, type UnarySpec } from './implementations.js';
import { clientGoneSignal, invokeUnary, requestOrigin } from './invoke.js';
import { compareSpecificity, type TemplateMatch } from './path-template.js';
import { createRouter } from './router.js';
import { buildRequestMessage } from './request-message.js';
import { restErrorOf, successJson } from './response-json.js';
import { oauthError, oauthInputError, usesOAuthErrors } from './oauth-errors.js';
import { collectRoutes, type CompiledRoute, type RestRoute } from './routes.js';

export type { RestRoute } from './routes.js';

export interface RestTranscoderOptions {
  /** The services whose `google.api.http` annotations become REST routes. */
  services: DescService[];
  /**
   * The RPCs' implementations (see `recordImplementations`): each REST call runs its RPC's own,
   * handed the message decoded from the request.
   */
  implementations: UnaryImplementations;
  /** The interceptors every RPC runs behind, as given to the Connect router (same order). */
  interceptors?: Interceptor[];
  /** Per-request context values, as connect-node's adapter makes them for an RPC. */
  contextValues?: (req: IncomingMessage | Http2ServerRequest) => ContextValues;
  /** The largest request body accepted; larger gets 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Told about unexpected failures (answered as a bare 500), e.g. to log them. */
  onError?: (error: unknown, req: IncomingMessage | Http2ServerRequest) => void;
}

export interface RestTranscoder {
  /** Every REST route, as derived from the annotations. */
  routes: RestRoute[];
  /**
   * Serves a request if its path matches a route: answers it (also 405 when
   * only the method is wrong) and resolves true. Resolves false, having
   * touched nothing, when no route path matches, so the caller can try other
   * routes or answer 404.
   */
  handle(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): Promise<boolean>;
  /**
   * Serves a request whose method and path are exactly those of a route without path variables
   * (`POST /oauth/token`), found in one map lookup, and resolves once answered; returns undefined,
   * having touched nothing, for anything else (`handle` then decides as always). The answer is
   * the one `handle` gives: the same route wins (a literal path is the most specific match).
   */
  handleExact(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): Promise<void> | undefined;
}

const defaultMaxBodyBytes = 1024 * 1024;

/** The query of a request without one (most): never written to, so one serves every call. */
const noQuery: ReadonlyURLSearchParams = new URLSearchParams();

type ReadonlyURLSearchParams = Pick<URLSearchParams, 'size' | typeof Symbol.iterator>;

/**
 * Creates the REST layer: routes from the `google.api.http` annotations of
 * `services`; each call's JSON (or form) becomes the RPC's request message,
 * which is handed to the RPC's own implementation behind the RPC's own
 * interceptors, exactly as a Connect call would reach them; the response
 * message (or error) becomes the JSON answer. No binary encoding in between.
 */
export function createRestTranscoder(opts: RestTranscoderOptions): RestTranscoder {
  const compiled = collectRoutes(opts.services);
  const findRoutes = createRouter(compiled);
  const maxBodyBytes = opts.maxBodyBytes ?? defaultMaxBodyBytes;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 0) {
    throw new RangeError(`maxBodyBytes must be a non-negative integer, got ${maxBodyBytes}`);
  }
  const registry = createRegistry(...new Set(opts.services.map((s) => s.file)));
  const interceptors = opts.interceptors ?? [];
  // Each route's implementation and RPC path, found once here rather than on every call.
  const targets = new Map<CompiledRoute, { spec: UnarySpec; path: string } | undefined>();
  for (const route of compiled) {
    const spec = opts.implementations.get(rpcKey(route.method));
    targets.set(route, spec && { spec, path: createMethodUrl('/', route.method) });
  }

  // Routes without variables by "METHOD /path" (the first declared, as `handle` would pick).
  const exact = new Map<string, CompiledRoute>();
  for (const route of compiled) {
    if (route.path.variables.length > 0 || route.path.verb !== undefined || route.path.segments.some((seg) => seg.kind !== 'literal'))
      continue;
    const key = `${route.httpMethod} ${route.template}`;
    if (!exact.has(key)) exact.set(key, route);
  }
  const noVariables: TemplateMatch = { variables: new Map(), malformed: [] };

  function handleExact(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): Promise<void> | undefined {
    const target = req.url ?? '';
    const q = target.indexOf('?');
    const route = exact.get(`${req.method} ${q < 0 ? target : target.slice(0, q)}`);
    if (!route) return undefined;
    closeUnreadStream(req);
    return serve(route, noVariables, q < 0 ? '' : target.slice(q + 1), req, res);
  }

  async function handle(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): Promise<boolean> {
    const { pathname, search } = splitUrl(req.url ?? '');
    const matching = findRoutes(pathname);
    if (matching.length === 0) return false;

    closeUnreadStream(req);
    const httpMethod = (req.method ?? '').toUpperCase();
    // HEAD is served by the GET route (Node sends no body for HEAD).
    const effective = httpMethod === 'HEAD' && matching.some((m) => m.route.httpMethod === 'GET') ? 'GET' : httpMethod;
    const candidates = matching.filter((m) => m.route.httpMethod === effective);
    if (candidates.length === 0) {
      const allowed = [...new Set(matching.map((m) => m.route.httpMethod))].sort();
      answerInputError(req, res, methodNotAllowed(httpMethod, allowed));
      return true;
    }
    candidates.sort((a, b) => compareSpecificity(a.route.path, b.route.path));
    const { route, match } = candidates[0]!;
    await serve(route, match, search, req, res);
    return true;
  }

  /** Answers a request for the chosen route; never throws (a failure becomes the answer). */
  async function serve(
    route: CompiledRoute,
    match: TemplateMatch,
    search: string,
    req: IncomingMessage | Http2ServerRequest,
    res: ServerResponse | Http2ServerResponse,
  ): Promise<void> {
    const client = clientGoneSignal(req, res);
    try {
      await transcode(route, match, search, req, res, client);
    } catch (e) {
      if (e instanceof RestInputError) {
        answerInputError(req, res, e, usesOAuthErrors(route));
      } else if (e instanceof ClientGoneError || client.gone()) {
        if (!res.writableEnded) res.destroy();
      } else {
        opts.onError?.(e, req);
        writeRestError(res, 500, 'internal', 'INTERNAL', 'internal error');
      }
    } finally {
      client.dispose();
    }
  }

  async function transcode(
    route: CompiledRoute,
    match: TemplateMatch,
    search: string,
    req: IncomingMessage | Http2ServerRequest,
    res: ServerResponse | Http2ServerResponse,
    client: ReturnType<typeof clientGoneSignal>,
  ): Promise<void> {
    let body: ParsedBody = { kind: 'empty' };
    if (route.bodyField !== '') {
      const bytes = await readBody(req, maxBodyBytes);
      body = parseBody(bytes, req.headers['content-type']);
    }
    const message = buildRequestMessage(route, match, search === '' ? noQuery : new URLSearchParams(search), body, registry);

    const target = targets.get(route);
    if (!target) {
      writeRestError(res, 501, 'unimplemented', 'UNIMPLEMENTED', `${route.method.parent.typeName}.${route.method.name} is not implemented`);
      return;
    }
    const answer = await invokeUnary(target.spec, interceptors, {
      message,
      header: handlerRequestHeaders(req.headers),
      url: `${requestOrigin(req)}${target.path}`,
      signal: client.signal,
      contextValues: opts.contextValues?.(req),
    });
    if (res.destroyed && client.gone()) return;

    const headers = restResponseHeaders(answer.header);
    if (answer.error === undefined) {
      writeJson(res, 200, successJson(route, answer.message, registry), headers);
    } else {
      const error = usesOAuthErrors(route) ? oauthError(restErrorOf(answer.error)) : restErrorOf(answer.error);
      writeJson(res, error.status, error.body, headers);
    }
  }

  return {
    routes: compiled.map(({ httpMethod, template, method, bodyField, responseBodyField, errorFormat }) => ({
      httpMethod,
      template,
      method,
      bodyField,
      responseBodyField,
      errorFormat,
    })),
    handle,
    handleExact,
  };
}

const absoluteForm = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/** Path and query of a request target (origin-form, or absolute-form as proxies send). */
function splitUrl(target: string): { pathname: string; search: string } {
  // Origin-form ("/path?query"), what nearly every client sends, needs no regular expression.
  let path = target.startsWith('/') ? target : target.replace(absoluteForm, '');
  const hash = path.indexOf('#');
  if (hash >= 0) path = path.slice(0, hash);
  const q = path.indexOf('?');
  return q < 0 ? { pathname: path, search: '' } : { pathname: path.slice(0, q), search: path.slice(q + 1) };
}

/**
 * HTTP/2: once the answer is sent, a request body we did not read (too large,
 * or sent to a route without a body) would keep the stream half-open and the
 * session from closing; end the stream with NO_ERROR, as RFC 9113 8.1 allows.
 */
function closeUnreadStream(req: IncomingMessage | Http2ServerRequest): void {
  if (!('stream' in req)) return;
  const stream = req.stream;
  // The stream's writable side, not `res`: Http2ServerResponse emits "finish" only once the stream closes.
  stream.once('finish', () => {
    if (req.readableEnded || stream.destroyed) return;
    if (!stream.closed) stream.close(h2constants.NGHTTP2_NO_ERROR);
    // Node destroys a closed stream only once its readable side ends: let the
    // little that is buffered (no more comes after the reset) drain away.
    req.resume();
  });
}

function answerInputError(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  e: RestInputError,
  oauth = false,
): void {
  const headers: Record<string, string> = { ...e.headers };
  // The rest of a too-large body is never read: close the HTTP/1 connection
  // after answering instead of draining it (HTTP/2 resets just the stream).
  if (e.status === 413 && req.httpVersionMajor === 1) headers['connection'] = 'close';
  if (oauth) writeJson(res, e.status, oauthInputError(e), headers);
  else writeRestError(res, e.status, e.code, e.reason, e.message, headers);
}
