import type { Interceptor, Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-web';
import { buildSsoClients, normalizeBaseUrl, type SsoClientBaseOptions, type SsoClients } from './core.js';

/** Options of the browser variant. */
export interface WebSsoClientOptions extends SsoClientBaseOptions {
  /** `connect` or `grpc-web`: browsers cannot speak plain gRPC (no access to HTTP/2 trailers). */
  transport: 'connect' | 'grpc-web';
  /**
   * The fetch to call; default `globalThis.fetch`. Wrap it to set fetch options, e.g.
   * `(input, init) => fetch(input, { ...init, credentials: 'include' })` to send the
   * `usso-access-token` cookie cross-origin.
   */
  fetch?: typeof globalThis.fetch;
}

function webTransport(opts: WebSsoClientOptions, interceptors: Interceptor[]): Transport {
  const baseUrl = normalizeBaseUrl(opts.baseUrl);
  // Bound, so a bare `window.fetch` is never called with the transport as `this` ("Illegal invocation").
  const fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  switch (opts.transport) {
    case 'connect':
      return createConnectTransport({ baseUrl, fetch, interceptors });
    case 'grpc-web':
      return createGrpcWebTransport({ baseUrl, fetch, interceptors });
    default:
      throw new TypeError(`unknown transport for browsers: ${String(opts.transport)} (connect or grpc-web)`);
  }
}

/**
 * Typed clients for all six SSO services from a browser (transports of `@connectrpc/connect-web`).
 * The server must list the page's origin in `SSO_CORS_ORIGINS`.
 *
 * ```ts
 * const sso = createSsoClients({ baseUrl: 'https://sso.example.com', transport: 'connect' });
 * const { accessToken } = await sso.auth.login({ identifier, secret });
 * sso.setToken(accessToken);
 * const { user } = await sso.auth.getMe({});
 * ```
 */
export function createSsoClients(opts: WebSsoClientOptions): SsoClients {
  return buildSsoClients(opts, (interceptors) => webTransport(opts, interceptors));
}

export * from './core.js';
