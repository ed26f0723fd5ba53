import type { Interceptor, Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { buildSsoClients, normalizeBaseUrl, type SsoClientBaseOptions, type SsoClients, type SsoTransportKind } from './core.js';

/** Options of the Node variant. */
export interface NodeSsoClientOptions extends SsoClientBaseOptions {
  /** `grpc` (HTTP/2), `connect` or `grpc-web`. */
  transport: SsoTransportKind;
  /**
   * The HTTP version for `connect` and `grpc-web`: `1.1` (default, what proxies pass everywhere)
   * or `2`. `grpc` is always HTTP/2 (cleartext with prior knowledge on `http://`, ALPN on `https://`).
   */
  httpVersion?: '1.1' | '2';
}

function nodeTransport(opts: NodeSsoClientOptions, interceptors: Interceptor[]): Transport {
  const baseUrl = normalizeBaseUrl(opts.baseUrl);
  const httpVersion = opts.httpVersion ?? '1.1';
  switch (opts.transport) {
    case 'grpc':
      return createGrpcTransport({ baseUrl, interceptors });
    case 'connect':
      return createConnectTransport({ baseUrl, httpVersion, interceptors });
    case 'grpc-web':
      return createGrpcWebTransport({ baseUrl, httpVersion, interceptors });
    default:
      throw new TypeError(`unknown transport: ${String(opts.transport)} (grpc, connect or grpc-web)`);
  }
}

/**
 * Typed clients for all six SSO services from Node (transports of `@connectrpc/connect-node`).
 *
 * ```ts
 * const sso = createSsoClients({ baseUrl: 'http://localhost:8000', transport: 'grpc' });
 * const { accessToken } = await sso.auth.login({ identifier: 'user@example.com', secret: '...' });
 * sso.setToken(accessToken);
 * const { user } = await sso.auth.getMe({});
 * ```
 */
export function createSsoClients(opts: NodeSsoClientOptions): SsoClients {
  return buildSsoClients(opts, (interceptors) => nodeTransport(opts, interceptors));
}

export * from './core.js';
