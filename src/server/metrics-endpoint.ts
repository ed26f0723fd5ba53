import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { catalog } from '../errors/catalog.js';
import { writeRestError } from '../rest/index.js';
import type { Metrics } from './metrics.js';

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

/** Answers GET /metrics (true), or leaves the request to the next route (false). */
export type MetricsRoute = (req: Req, res: Res) => Promise<boolean>;

/**
 * Where and to whom /metrics is served. Metrics tell an attacker how many logins fail, which
 * calls are made and how the process is doing, so an identity service does not publish them:
 *
 * - SSO_METRICS_ADDRESS set: only on that listener (an internal address Prometheus reaches);
 *   the main port answers 404, as for any unknown route.
 * - Otherwise, SSO_METRICS_TOKEN set: on the main port, to `Authorization: Bearer <token>` only.
 * - Neither: not served at all (404).
 *
 * With both set the separate listener asks for the token too.
 */
export function metricsOnMainPort(metrics: Metrics, opts: { token?: string; address?: unknown }): MetricsRoute | undefined {
  if (opts.address !== undefined || opts.token === undefined) return undefined;
  return createMetricsRoute(metrics, opts.token);
}

/** /metrics, refused with 401 unless the request carries the token (when there is one). */
export function createMetricsRoute(metrics: Metrics, token: string | undefined): MetricsRoute {
  // Compared as SHA-256 digests: equal lengths for timingSafeEqual, and no timing hint of the length.
  const expected = token === undefined ? undefined : digest(token);
  return async (req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') return false;
    if (expected !== undefined && !timingSafeEqual(digest(bearerOf(req) ?? ''), expected)) {
      writeRestError(res, 401, 'unauthenticated', 'METRICS_TOKEN_REQUIRED', catalog.METRICS_TOKEN_REQUIRED.message, {
        'www-authenticate': 'Bearer realm="metrics"',
      });
      return true;
    }
    await metrics.scrape(res);
    return true;
  };
}

function bearerOf(req: Req): string | undefined {
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  return m?.[1];
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
