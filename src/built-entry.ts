/**
 * What `npm start` runs: `npm run build` (scripts/build-server.mjs) bundles this file into
 * dist/server/main.mjs and the server (src/main.ts) into dist/server/server.mjs beside it, and
 * lists there (server-imports.json) the packages the bundle imports statically, in its order.
 *
 * First it starts opening the embedded database, in its own thread (db/embedded-prestart.ts), so
 * that PGlite's open overlaps loading the server; the server takes that thread over.
 *
 * The bundle imports those packages (TypeORM, pg, PGlite, ...) with static imports, which ES
 * modules load and run before any of the bundle's own code, so src/dependency-source-maps.ts
 * cannot keep their source maps unread there: with source maps on, Node read and measured the map
 * of each of TypeORM's ~350 CommonJS files at every start (a CPU profile of a restart: 285 ms of
 * 3.0 s in maybeCacheSourceMap on a loaded machine, and more garbage to collect). So this loads
 * them first, with source maps off, in the bundle's order; then turns source maps on and loads
 * the bundle, whose own map is read as it is compiled: the server's stack traces still point at
 * its TypeScript, a dependency's frames at its JavaScript (as under tsx, where
 * dependency-source-maps.ts does the same).
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';

import { databaseConfigOf, loadConfig } from './config.js';
import { prestartEmbedded } from './db/embedded-prestart.js';
import { makeNewFilesPrivate } from './private-files.js';

function prestartDatabase(): void {
  // A worker process of SSO_WORKERS reaches the database its primary opened, over its socket.
  if (cluster.isWorker) return;
  let database;
  try {
    database = databaseConfigOf(loadConfig());
  } catch {
    return; // main.ts reports what is wrong with the configuration
  }
  if (database.kind !== 'embedded' || database.dataDir === undefined) return;
  makeNewFilesPrivate();
  prestartEmbedded(database.dataDir);
}

prestartDatabase();
const imports = JSON.parse(readFileSync(new URL('./server-imports.json', import.meta.url), 'utf8')) as string[];
process.setSourceMapsEnabled(false);
for (const specifier of imports) await import(specifier);
process.setSourceMapsEnabled(true);
await import(new URL('./server.mjs', import.meta.url).href);
