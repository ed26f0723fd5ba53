// First: the dependencies' source maps stay unread while the imports below run (see there).
import { restoreSourceMaps } from './dependency-source-maps.js';
import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { makeNewFilesPrivate } from './private-files.js';
import { startApp } from './server/app.js';
import { isWorker, workerSlot } from './server/cluster-messages.js';
import { runPrimary, runWorker, stopOnce } from './server/workers.js';

/** `npm start`: serve until SIGINT/SIGTERM, then finish in-flight calls and stop; SSO_WORKERS > 1 starts workers (workers.ts). */
async function main(): Promise<void> {
  restoreSourceMaps();
  makeNewFilesPrivate();
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
  const base = createLogger(config.logLevel, undefined, config.logFormat);
  const exit = (code: number) => process.exit(code);
  if (config.workers > 1 && cluster.isPrimary) {
    // Every line says which process wrote it: 0 the primary, 1..N the workers (README: Using both cores).
    return runPrimary(config, base.child({ worker: 0 }), exit);
  }
  if (isWorker()) return runWorker(config, base.child({ worker: workerSlot() }), exit);
  const log = base;
  const app = await startApp(config, { log });
  // The one line a person starting the server looks for (the JSON 'listening' line carries details).
  log.info({ ms: Math.round(process.uptime() * 1000) }, `ready at ${app.url}`);
  const stop = stopOnce(app, log, exit);
  // The embedded database runs in this process: without it every call would fail, so exit (1) for
  // a supervisor to restart the server, as a crash of PGlite in the main thread would have.
  void app.database.lost?.then((err) => {
    log.fatal({ err }, 'the embedded database stopped');
    exit(1);
  });
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
