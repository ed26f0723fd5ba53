import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { AuditEntry } from '../domain/audit.js';
import type { CallObserver } from '../interceptors/logging.js';
import { clusterScrape } from './cluster-messages.js';

export interface Metrics {
  observeCall: CallObserver;
  observeAudit: (entry: AuditEntry) => void;
  /** Answers a scrape in Prometheus' text format (where and to whom: metrics-endpoint.ts). */
  scrape(res: ServerResponse | Http2ServerResponse): Promise<void>;
}

/**
 * The code as Connect and the REST errors spell it (`ok`, `not_found`, `invalid_argument`), whatever
 * spelling the caller used (`NotFound` is the Code enum's key), so a dashboard can join them.
 */
function connectCodeName(code: string): string {
  let name = codeNames.get(code);
  if (name === undefined) {
    name = code.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
    // Codes are Connect's few (callers pass Code's keys): spelled once each, not per call.
    if (codeNames.size < 64) codeNames.set(code, name);
  }
  return name;
}

const codeNames = new Map<string, string>();

/**
 * Prometheus metrics: every call by service, method, protocol and code with its latency, logins
 * and their failures (from the audit trail, so every door that checks a password counts), and the
 * number of live sessions (read from the database at scrape time, so it is right across instances).
 */
export function createMetrics(ds: DataSource): Metrics {
  const registry = new Registry();
  // Node's own (sso_process_cpu_seconds_total, sso_nodejs_heap_size_used_bytes, ...).
  collectDefaultMetrics({ register: registry, prefix: 'sso_' });
  const labels = ['service', 'method', 'protocol', 'code'] as const;
  const calls = new Counter({
    name: 'sso_rpc_calls_total',
    help: 'Calls by service, method, protocol and code',
    labelNames: labels,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'sso_rpc_duration_seconds',
    help: 'Call latency by service, method, protocol and code',
    labelNames: labels,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const authEvents = new Counter({
    name: 'sso_auth_events_total',
    help: 'Logins, token grants and refreshes by type and outcome',
    labelNames: ['type', 'outcome'],
    registers: [registry],
  });
  new Gauge({
    name: 'sso_active_sessions',
    help: 'Live (not revoked, not expired) sessions',
    registers: [registry],
    // Under SSO_WORKERS every worker counts the same table: one count, not their sum.
    aggregator: 'first',
    async collect() {
      const rows: { n: number }[] = await ds.query(
        'SELECT count(*)::int AS n FROM sessions WHERE revoked_at IS NULL AND expires_at > now()',
      );
      this.set(rows[0]?.n ?? 0);
    },
  });
  // A worker answers a scrape with every worker's figures (cluster-messages.ts).
  const scrapeAll = clusterScrape(registry);
  return {
    observeCall: ({ service, method, protocol, code, seconds }) => {
      const l = { service, method, protocol, code: connectCodeName(code) };
      calls.inc(l);
      latency.observe(l, seconds);
    },
    observeAudit: (entry) => authEvents.inc({ type: entry.type, outcome: entry.outcome }),
    async scrape(res) {
      const { body, contentType } = scrapeAll ? await scrapeAll() : { body: await registry.metrics(), contentType: registry.contentType };
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
    },
  };
}
