import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import type { DescService } from '@bufbuild/protobuf';
import { loadConfig, type Config } from '../../src/config.js';
import type { DatabaseConfig } from '../../src/db/data-source.js';
import { startApp, type App } from '../../src/server/app.js';
import type { Logger } from '../../src/logger.js';
import { createTestDatabaseConfig } from './database.js';

export interface TestServer {
  app: App;
  url: string;
  config: Config;
  /** A typed client over the chosen protocol, optionally presenting a bearer credential. */
  client<S extends DescService>(service: S, opts?: { protocol?: Protocol; token?: string; apiKey?: string }): Client<S>;
  /** fetch against the server, with a JSON body when `json` is given. */
  rest(path: string, init?: RequestInit & { json?: unknown; token?: string }): Promise<Response>;
  stop(): Promise<void>;
}

export type Protocol = 'connect' | 'grpc' | 'grpc-web';

/**
 * Starts the real server on a free port with a fresh database (PostgreSQL when
 * TEST_DATABASE_URL is set, otherwise the embedded one), a low bcrypt cost and silent logs
 * (or `opts.log`, for a test that reads what the server logs). `opts.database`: another
 * instance's database instead (the caller cleans it up).
 */
export async function startTestServer(
  overrides: Partial<Config> = {},
  opts: { log?: Logger; database?: DatabaseConfig } = {},
): Promise<TestServer> {
  const db = opts.database ? { config: opts.database, cleanup: async () => {} } : await createTestDatabaseConfig();
  const dataDir = mkdtempSync(join(tmpdir(), 'sso-test-'));
  const base = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
  const config: Config = {
    ...base,
    dataDir,
    bcryptCost: 4,
    keySecret: 'test-secret-test-secret-test-secret-0123456789',
    keyPublishDelay: 0,
    shutdownGrace: 1,
    ...overrides,
  };
  let app: App;
  try {
    app = await startApp(config, { database: db.config, log: opts.log });
  } catch (e) {
    await db.cleanup();
    throw e;
  }
  const url = app.url;
  const transports = new Map<string, Transport>();
  const transport = (protocol: Protocol, auth?: string): Transport => {
    const key = `${protocol}|${auth ?? ''}`;
    let t = transports.get(key);
    if (!t) {
      const interceptors: Interceptor[] = auth
        ? [
            (next) => (req) => {
              req.header.set('authorization', auth);
              return next(req);
            },
          ]
        : [];
      t =
        protocol === 'grpc'
          ? createGrpcTransport({ baseUrl: url, interceptors })
          : protocol === 'grpc-web'
            ? createGrpcWebTransport({ baseUrl: url, httpVersion: '1.1', interceptors })
            : createConnectTransport({ baseUrl: url, httpVersion: '1.1', interceptors });
      transports.set(key, t);
    }
    return t;
  };
  return {
    app,
    url,
    config,
    client: (service, opts = {}) =>
      createClient(
        service,
        transport(opts.protocol ?? 'connect', opts.token ? `Bearer ${opts.token}` : opts.apiKey ? `Bearer ${opts.apiKey}` : undefined),
      ),
    rest: (path, init = {}) => {
      const headers = new Headers(init.headers);
      if (init.json !== undefined) headers.set('content-type', 'application/json');
      if (init.token) headers.set('authorization', `Bearer ${init.token}`);
      return fetch(url + path, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
    },
    async stop() {
      try {
        await app.close();
      } finally {
        await db.cleanup();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
