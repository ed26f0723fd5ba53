import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startApp } from './server/app.js';

/** `npm start`: serve until SIGINT/SIGTERM, then finish in-flight calls and stop. */
async function main(): Promise<void> {
  // A backstop for whatever else this process writes: private unless made otherwise on purpose.
  // (The data directory is tightened explicitly too, since PGlite sets file modes past the umask.)
  process.umask(0o077);
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.logLevel, undefined, config.logFormat);
  const app = await startApp(config, { log });
  // The one line a person starting the server looks for (the JSON 'listening' line carries details).
  log.info({ ms: Math.round(process.uptime() * 1000) }, `ready at ${app.url}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
