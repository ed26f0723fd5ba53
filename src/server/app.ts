import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { databaseConfigOf, type Config } from '../config.js';
import { openDatabase, type Database, type DatabaseConfig } from '../db/data-source.js';
import type { KeyStore } from '../domain/keys/key-store.js';
import { buildDeps } from './deps.js';
import { warnAboutDefaults } from './default-warnings.js';
import { createServices } from '../services/index.js';
import { auditRefusedTokenRequests } from '../services/refused-token-requests.js';
import { createAuthenticationInterceptor } from '../interceptors/authentication.js';
import { createAuthorizationInterceptor } from '../interceptors/authorization.js';
import { createCallContext } from '../interceptors/call-context.js';
import { createErrorInterceptor } from '../interceptors/errors.js';
import { createLoggingInterceptor, requestIdOf } from '../interceptors/logging.js';
import { createValidationInterceptor } from '../interceptors/validation.js';
import { createLogger, type Logger } from '../logger.js';
import { makePrivateTree } from '../private-files.js';
import { createRestTranscoder, recordImplementations, type UnaryImplementations, writeRestError } from '../rest/index.js';
import { createOpenApiRoutes } from '../rest/openapi.js';
import { createCookieGuard } from './cookie-guard.js';
import { createCors } from './cors.js';
import { createListener, type Listener } from './listener.js';
import { createMetricsRoute, metricsOnMainPort } from './metrics-endpoint.js';
import { refuseUndecodableBinary } from './binary-input.js';
import { registerServices, services } from './routes.js';
import { createPlainRoutes } from './well-known.js';
import { createOidcRoutes } from '../oidc/routes.js';
import { bundleConsole } from '../console/bundle.js';
import { createConsoleRoutes } from '../console/routes.js';
import { ensureConsoleClient } from '../domain/oidc/first-party.js';
import { type StandingCache, startStandingCache } from '../domain/auth/standing-cache.js';

export interface App {
  url: string;
  port: number;
  log: Logger;
  database: Database;
  keys: KeyStore;
  /** The separate metrics listener's URL when SSO_METRICS_ADDRESS is set. */
  metricsUrl: string | undefined;
  /** Requests being answered right now (what a graceful close waits for). */
  inFlight(): number;
  /** Stops accepting, finishes in-flight calls (up to the grace period), closes the database. */
  close(): Promise<void>;
}

const maxBodyBytes = 1024 * 1024;

export { databaseConfigOf } from '../config.js';

/** Wires the whole server: database, keys, domain, interceptors, RPC and REST routes, listener. */
export async function startApp(
  config: Config,
  opts: {
    database?: DatabaseConfig;
    log?: Logger;
    /** Warn about risky defaults (default-warnings.ts); false in a worker of several, whose primary says them once. */
    sayDefaults?: boolean;
  } = {},
): Promise<App> {
  const log = opts.log ?? createLogger(config.logLevel);
  if (opts.sayDefaults !== false) warnAboutDefaults(config, log);
  // The data dir holds the embedded database and a generated key secret: private, however an
  // older version left it. Untouched when neither is in use (PostgreSQL and SSO_KEY_SECRET set).
  if (!config.databaseUrl || config.keySecret === undefined) makePrivateTree(config.dataDir);
  // The admin console is built while the database opens (esbuild runs beside Node).
  const consoleBundle = bundleConsole();
  consoleBundle.catch(() => {});
  const database = await openDatabase(opts.database ?? databaseConfigOf(config), log);
  let standing: StandingCache | undefined;
  try {
    const ds = database.dataSource;
    // Listening before the first call; until it listens, every call reads the database.
    if (config.revocationCache) standing = await startStandingCache(ds, log);
    const deps = await buildDeps(config, ds, log);
    const { keys, credentials } = deps;
    await ensureConsoleClient(ds, config.issuer);

    const contextValues = createCallContext(config.trustProxy);
    let implementations: UnaryImplementations | undefined;
    const ready = async () => {
      await ds.query('SELECT 1');
      return true;
    };
    const plain = createPlainRoutes({ issuer: config.issuer, keys, ready });
    const oidc = createOidcRoutes(deps);
    const adminConsole = createConsoleRoutes({ issuer: config.issuer, bundle: consoleBundle });
    const cors = createCors(config.corsOrigins);
    const guardCookie = createCookieGuard({ issuer: config.issuer, corsOrigins: config.corsOrigins });
    const metrics = metricsOnMainPort(deps.metrics, { token: config.metricsToken, address: config.metricsAddress });
    let rest: ReturnType<typeof createRestTranscoder> | undefined;
    let openapi: ReturnType<typeof createOpenApiRoutes> | undefined;

    // One chain for every call, RPC or REST (the order is explained in docs/architecture.md).
    const interceptors = [
      createLoggingInterceptor(log, deps.metrics.observeCall),
      createErrorInterceptor(log),
      createAuthenticationInterceptor(credentials),
      createAuthorizationInterceptor(),
      createValidationInterceptor(auditRefusedTokenRequests(deps.audit)),
    ];
    const rpc = connectNodeAdapter({
      routes: (r) => {
        // REST calls reach the same implementations directly, with the message decoded from JSON.
        const recorded = recordImplementations(r);
        registerServices(recorded.router, createServices(deps), ready);
        refuseUndecodableBinary(r.handlers, maxBodyBytes);
        implementations = recorded.implementations;
      },
      interceptors,
      contextValues,
      readMaxBytes: maxBodyBytes,
      jsonOptions: { ignoreUnknownFields: true },
      fallback: (req, nodeRes) => {
        // connect-node's response type is a union Node's own handlers do not accept as is.
        const res = nodeRes as ServerResponse;
        // Non-RPC answers carry a request id too; a REST call's own (from the RPC's logging interceptor) replaces it.
        const sentId = req.headers['x-request-id'];
        res.setHeader('x-request-id', requestIdOf(typeof sentId === 'string' ? sentId : undefined));
        // A REST route with a literal path (POST /oauth/token, /api/sso/v1/auth/verify-token) is
        // found in one lookup and served before the tables below are asked in turn: none of them
        // answers such a path (theirs are /.well-known, /health*, /ready*, /oidc/<pages>,
        // /console, /metrics, /openapi.json and /docs), so the order changes no answer.
        const exact = rest!.handleExact(req, res);
        if (exact) {
          exact.catch((err) => answerFailure(log, res, err));
          return;
        }
        void (async () => {
          if (await plain(req, res)) return;
          if (await oidc(req, res)) return;
          if (await adminConsole(req, res)) return;
          if (metrics && (await metrics(req, res))) return;
          if (await openapi!(req, res)) return;
          if (await rest!.handle(req, res)) return;
          writeRestError(res, 404, 'not_found', 'ROUTE_NOT_FOUND', `No route for ${req.method} ${(req.url ?? '').split('?')[0]}.`);
        })().catch((err) => answerFailure(log, res, err));
      },
    });
    rest = createRestTranscoder({ services, implementations: implementations!, interceptors, contextValues, maxBodyBytes });
    // The OpenAPI document is built from the transcoder's own routes, so the two cannot disagree.
    openapi = createOpenApiRoutes(rest.routes);

    const listener = createListener(
      (req, res) => {
        if (cors(req, res)) return;
        guardCookie(req);
        rpc(req, res);
      },
      config.tlsCert && config.tlsKey ? { cert: config.tlsCert, key: config.tlsKey } : undefined,
    );

    // Ready means ready: the console's first page is served from memory from the first request on.
    await consoleBundle;
    await new Promise<void>((resolve, reject) => {
      listener.server.once('error', reject);
      listener.server.listen(config.port, config.host, () => {
        listener.server.off('error', reject);
        resolve();
      });
    });
    // An accept error (EMFILE when out of file descriptors) is emitted on the server: without a
    // listener it would crash the process instead of refusing one connection.
    listener.server.on('error', (err) => log.error({ err }, 'listener error'));
    const port = (listener.server.address() as AddressInfo).port;
    const url = `${config.tlsCert ? 'https' : 'http'}://${reachableHost(config.host)}:${port}`;
    const metricsListener = config.metricsAddress
      ? await startMetricsListener(config.metricsAddress, createMetricsRoute(deps.metrics, config.metricsToken), log).catch(async (e) => {
          await listener.close(0);
          throw e;
        })
      : undefined;
    log.info(
      {
        url,
        database: database.describe,
        alg: config.jwtAlg,
        issuer: config.issuer,
        metrics: metricsListener ? metricsListener.url : metrics ? `${url}/metrics (bearer token)` : 'off',
      },
      'listening',
    );

    let closing: Promise<void> | undefined;
    return {
      url,
      port,
      log,
      database,
      keys,
      metricsUrl: metricsListener?.url,
      inFlight: () => listener.inFlight(),
      close: () =>
        (closing ??= (async () => {
          await Promise.all([listener.close(config.shutdownGrace * 1000), metricsListener?.listener.close(0)]);
          // Audit events still queued (their calls answered without waiting) are written before the database goes.
          await deps.audit.flush();
          await standing?.close();
          await database.close();
        })()),
    };
  } catch (e) {
    await standing?.close();
    await database.close();
    throw e;
  }
}

/** A request whose handling failed unexpectedly: logged, and a bare 500 if nothing was sent yet. */
function answerFailure(log: Logger, res: ServerResponse, err: unknown): void {
  log.error({ err }, 'request failed');
  if (!res.headersSent) writeRestError(res, 500, 'internal', 'INTERNAL', 'Internal error.');
  else res.destroy?.();
}

function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Plain HTTP on its own address, answering /metrics and 404 for everything else. */
async function startMetricsListener(
  address: { host: string; port: number },
  route: ReturnType<typeof createMetricsRoute>,
  log: Logger,
): Promise<{ listener: Listener; url: string }> {
  const listener = createListener((req, res) => {
    void route(req, res)
      .then((answered) => {
        if (!answered)
          writeRestError(res, 404, 'not_found', 'ROUTE_NOT_FOUND', `No route for ${req.method} ${(req.url ?? '').split('?')[0]}.`);
      })
      .catch((err) => {
        log.error({ err }, 'metrics request failed');
        writeRestError(res, 500, 'internal', 'INTERNAL', 'Internal error.');
      });
  });
  await new Promise<void>((resolve, reject) => {
    listener.server.once('error', reject);
    listener.server.listen(address.port, address.host, () => {
      listener.server.off('error', reject);
      resolve();
    });
  });
  listener.server.on('error', (err) => log.error({ err }, 'metrics listener error'));
  const port = (listener.server.address() as AddressInfo).port;
  return { listener, url: `http://${reachableHost(address.host)}:${port}/metrics` };
}
