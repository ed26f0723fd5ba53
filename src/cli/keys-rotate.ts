import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadKeySecret } from '../auth/index.js';
import { databaseConfigOf, loadConfig } from '../config.js';
import { openDatabase } from '../db/data-source.js';
import { KeyStore } from '../domain/keys/key-store.js';

/**
 * `npm run keys:rotate [-- --delay SECONDS]`: publishes a new signing key that starts signing
 * after the publication delay (default SSO_KEY_PUBLISH_DELAY); the current key then retires and
 * stays in the JWKS until every token it signed has expired. Running servers pick the change up
 * from the database within 30 seconds, and at once when they meet the new kid.
 * Against the embedded database, stop the server first (its data directory has one owner).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  // Logs go to stderr: stdout carries only the JSON answer, so it can be piped (`| jq`).
  const log = pino({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, base: undefined }, pino.destination(2));
  // Accepts `--delay 60` and `--delay=60`; anything else is refused rather than silently ignored.
  const { values } = parseArgs({ options: { delay: { type: 'string' } }, strict: true, allowPositionals: false });
  const delay = values.delay === undefined ? config.keyPublishDelay : /^\d+$/.test(values.delay) ? Number(values.delay) : NaN;
  if (!Number.isSafeInteger(delay)) throw new Error('--delay takes a whole number of seconds');
  const database = await openDatabase(databaseConfigOf(config), log);
  try {
    const secret = loadKeySecret({ configured: config.keySecret, dataDir: config.dataDir, warn: (m) => log.warn(m) });
    const keys = new KeyStore(database.dataSource, {
      alg: config.jwtAlg,
      secret,
      publishDelay: config.keyPublishDelay,
      retention: Math.max(config.accessTtl, config.refreshTtl) + 60,
    });
    await keys.init();
    const key = await keys.rotate(delay);
    console.log(
      JSON.stringify(
        {
          rotated: key.kid,
          alg: key.alg,
          signs_from: key.activatesAt.toISOString(),
          keys: keys.list().map((k) => ({
            kid: k.kid,
            status: k.status,
            activates_at: k.activatesAt,
            retired_at: k.retiredAt,
            unpublish_at: k.unpublishAt,
          })),
        },
        null,
        2,
      ),
    );
  } finally {
    await database.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
