// Loaded with --import into the built server by test/server/built-server.test.ts: as the process
// exits, says on stderr whether Node holds a source map for the server's bundle (and what its
// first mapped line comes from) and for one of TypeORM's files (src/built-entry.ts keeps those
// unread), and whether pino-pretty was loaded (src/logger.ts loads it only for a pretty log).
import { writeSync } from 'node:fs';
import { createRequire, findSourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';

const bundle = new URL('../../dist/server/server.mjs', import.meta.url).href;
const typeorm = fileURLToPath(new URL('../../node_modules/typeorm/driver/DriverFactory.js', import.meta.url));
// --import runs in the embedded database's thread too (a worker inherits it), which never loads the bundle.
if (isMainThread)
  process.on('exit', () => {
    const own = findSourceMap(bundle);
    const prettyLoaded = Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes('/node_modules/pino-pretty/'));
    const probe = {
      ownMap: own?.findEntry(100, 0)?.originalSource ?? null,
      dependencyMap: findSourceMap(typeorm) !== undefined,
      prettyLoaded,
    };
    writeSync(2, `source-map-probe ${JSON.stringify(probe)}\n`);
  });
