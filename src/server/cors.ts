import { cors as connectCors } from '@connectrpc/connect';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

const allowMethods = [...new Set([...connectCors.allowedMethods, 'GET', 'POST', 'PUT', 'PATCH', 'DELETE'])].join(', ');
const allowHeaders = [...connectCors.allowedHeaders, 'Authorization', 'X-Api-Key', 'X-Request-Id'].join(', ');
const exposeHeaders = [...connectCors.exposedHeaders, 'X-Request-Id', 'Retry-After'].join(', ');

/**
 * CORS for browser callers (Connect-Web, gRPC-Web and REST from another origin). Only the
 * configured origins get CORS headers; a browser on any other origin is refused by the browser
 * itself, and its preflight gets 403. With `*` any origin may call, without cookies.
 * Returns true when the request was a preflight and has been answered.
 */
export function createCors(origins: string[]) {
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins.filter((o) => o !== '*'));
  const enabled = anyOrigin || allowed.size > 0;
  return (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): boolean => {
    // Answers differ by Origin (with or without CORS headers): a shared cache (say, in front of
    // the JWKS) must not hand one origin's answer to another.
    if (enabled) res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    if (typeof origin !== 'string') return false;
    const listed = allowed.has(origin);
    const ok = listed || anyOrigin;
    const isPreflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (ok) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      if (listed) res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Expose-Headers', exposeHeaders);
    }
    if (!isPreflight) return false;
    if (!ok) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('origin not allowed');
      return true;
    }
    res.setHeader('Access-Control-Allow-Methods', allowMethods);
    res.setHeader('Access-Control-Allow-Headers', allowHeaders);
    res.setHeader('Access-Control-Max-Age', '7200');
    res.writeHead(204);
    res.end();
    return true;
  };
}
