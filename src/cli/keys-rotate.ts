import { loadKeySecret } from '../auth/index.js';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/data-source.js';
import { KeyStore } from '../domain/keys/key-store.js';
import { createLogger } from '../logger.js';
import { databaseConfigOf } from '../server/app.js';

/**
 * `npm run keys:rotate [-- --delay SECONDS]`: publishes a new signing key that starts signing
 * after the publication delay (default SSO_KEY_PUBLISH_DELAY); the current key then retires and
 * stays in the JWKS until every token it signed has expired. Running servers pick the change up
 * from the database within 30 seconds, and at once when they meet the new kid.
 * Against the embedded database, stop the server first (its data directory has one owner).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const at = process.argv.indexOf('--delay');
  const delay = at >= 0 ? Number(process.argv[at + 1]) : config.keyPublishDelay;
  if (!Number.isInteger(delay) || delay < 0) throw new Error('--delay takes a whole number of seconds');
  const database = await openDatabase(databaseConfigOf(config), log);
  try {
    const secret = loadKeySecret({ configured: config.keySecret, dataDir: config.dataDir, warn: (m) => log.warn(m) });
    const keys = new KeyStore(database.dataSource, {
      alg: config.jwtAlg, secret, publishDelay: config.keyPublishDelay,
      retention: Math.max(config.accessTtl, config.refreshTtl) + 60,
    });
    await keys.init();
    const key = await keys.rotate(delay);
    console.log(JSON.stringify({ rotated: key.kid, alg: key.alg, signs_from: key.activatesAt.toISOString(),
      keys: keys.list().map((k) => ({ kid: k.kid, status: k.status, activates_at: k.activatesAt, retired_at: k.retiredAt, unpublish_at: k.unpublishAt })) }, null, 2));
  } finally {
    await database.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
