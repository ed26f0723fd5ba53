import type { Config } from '../../src/config.js';
import type { DatabaseConfig } from '../../src/db/data-source.js';
import { createTestDatabaseConfig, type TestDatabase } from './database.js';
import { startTestServer, type TestServer } from './server.js';

/** Room on A's embedded socket for B's pool (as the first process of SSO_WORKERS makes for its workers). */
const B_CONNECTIONS = 20;

/**
 * Two server instances on one fresh database, as two replicas (or two SSO_WORKERS processes) are:
 * on PostgreSQL both open the same schema; on the embedded database B reaches A's PGlite over A's
 * socket. `stop` stops B, then A, then drops the database.
 */
export async function startTwoInstances(
  overrides: Partial<Config> = {},
): Promise<{ db: TestDatabase; a: TestServer; b: TestServer; stop(): Promise<void> }> {
  const db = await createTestDatabaseConfig();
  const own: DatabaseConfig = db.config.kind === 'embedded' ? { ...db.config, sharedConnections: B_CONNECTIONS } : db.config;
  const a = await startTestServer(overrides, { database: own });
  const shared: DatabaseConfig = db.kind === 'postgres' ? db.config : { kind: 'embedded-shared', socket: a.app.database.socket! };
  const b = await startTestServer(overrides, { database: shared });
  return {
    db,
    a,
    b,
    stop: async () => {
      await b.stop();
      await a.stop();
      await db.cleanup();
    },
  };
}
