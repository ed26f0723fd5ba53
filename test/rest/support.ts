import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { DescService } from '@bufbuild/protobuf';
import { createConnectRouter, type ConnectRouter, type Interceptor } from '@connectrpc/connect';
import { createRestTranscoder, type RestTranscoderOptions } from '../../src/rest/transcoder.js';
import { writeRestError } from '../../src/rest/errors.js';
import { recordImplementations } from '../../src/rest/implementations.js';

export interface RestTestServer {
  url: string;
  /** Errors that escaped `transcoder.handle` (there must be none). */
  escaped: unknown[];
  /** Errors reported through the transcoder's onError. */
  reported: unknown[];
  close(): Promise<void>;
  transcoder: ReturnType<typeof createRestTranscoder>;
}

/**
 * A real HTTP/1.1 server: Connect router with the given implementations, the
 * REST transcoder in front (`handleExact`, then `handle`, as the server runs it),
 * and 404 ROUTE_NOT_FOUND for what it does not take.
 */
export async function startRestServer(options: {
  services: DescService[];
  register: (router: ConnectRouter) => void;
  interceptors?: Interceptor[];
  transcoder?: Partial<RestTranscoderOptions>;
}): Promise<RestTestServer> {
  const interceptors = options.interceptors ?? [];
  const { router, implementations } = recordImplementations(createConnectRouter({ interceptors }));
  options.register(router);
  const escaped: unknown[] = [];
  const reported: unknown[] = [];
  const transcoder = createRestTranscoder({
    services: options.services,
    implementations,
    interceptors,
    onError: (e) => reported.push(e),
    ...options.transcoder,
  });
  const server = http.createServer((req, res) => {
    // As the server does: a literal route in one lookup first, then the full match.
    const exact = transcoder.handleExact(req, res);
    (exact ? exact.then(() => true) : transcoder.handle(req, res)).then(
      (handled) => {
        if (!handled) writeRestError(res, 404, 'not_found', 'ROUTE_NOT_FOUND', `no route for ${req.method} ${req.url}`);
      },
      (e: unknown) => {
        escaped.push(e);
        res.destroy();
      },
    );
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    escaped,
    reported,
    transcoder,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** fetch + parsed JSON body. */
export async function call(
  url: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  let body = rest.body;
  if (json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(json);
  }
  const res = await fetch(url, { ...rest, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
