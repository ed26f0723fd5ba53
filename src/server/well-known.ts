import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { KeyStore } from '../domain/keys/key-store.js';
import { JWKS_MAX_AGE_SECONDS } from '../domain/keys/publish-windows.js';
import { openidConfiguration } from './openid-configuration.js';

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

export function sendJson(res: Res, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * The plain (non-RPC) routes: the JWKS and OpenID discovery that relying apps read, and health
 * and readiness for orchestrators. Query strings are ignored (`?domain=` on the JWKS).
 */
export function createPlainRoutes(opts: { issuer: string; keys: KeyStore; ready: () => Promise<boolean> }) {
  const { issuer, keys } = opts;
  return async (req: Req, res: Res): Promise<boolean> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/.well-known/jwks.json':
        // Short cache: clients pick up a rotated-in key well within the publication delay.
        sendJson(res, 200, await keys.jwks(), { 'cache-control': `public, max-age=${JWKS_MAX_AGE_SECONDS}` });
        return true;
      case '/.well-known/openid-configuration':
        sendJson(res, 200, openidConfiguration(issuer, keys.algorithms()), { 'cache-control': 'public, max-age=300' });
        return true;
      case '/healthz':
      case '/health':
        sendJson(res, 200, { status: 'ok' });
        return true;
      case '/readyz':
      case '/ready': {
        const ok = await opts.ready().catch(() => false);
        sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'unavailable' });
        return true;
      }
      default:
        return false;
    }
  };
}
