/**
 * What `npm start` runs: `npm run build` bundles this file into dist/server/main.mjs and the server
 * (src/main.ts) into dist/server/server.mjs beside it, with esbuild's metafile (server.meta.json).
 *
 * The bundle imports its dependencies (TypeORM, pg, protobuf-es, ...) with static imports, which
 * ES modules load and run before any of the bundle's own code, so src/dependency-source-maps.ts
 * cannot keep their source maps unread there: with source maps on, Node read and measured the map
 * of each of TypeORM's ~350 CommonJS files at every start (a CPU profile of a restart: 285 ms of
 * 3.0 s in maybeCacheSourceMap on a loaded machine, and more garbage to collect). So this loads
 * them first, with source maps off, in the bundle's own order; then turns source maps on and loads
 * the bundle, whose own map is read as it is compiled: the server's stack traces still point at
 * its TypeScript, a dependency's frames at its JavaScript (as under tsx, where
 * dependency-source-maps.ts does the same).
 */
import { readFileSync } from 'node:fs';

interface Metafile {
  outputs: Record<string, { entryPoint?: string; imports: { path: string; kind: string; external?: boolean }[] }>;
}

const meta = JSON.parse(readFileSync(new URL('./server.meta.json', import.meta.url), 'utf8')) as Metafile;
const server = Object.values(meta.outputs).find((output) => output.entryPoint !== undefined);
// Static imports only, as the bundle runs them (a dynamic import stays lazy); Node's own modules need nothing.
const dependencies = new Set(
  (server?.imports ?? []).filter((i) => i.external && i.kind === 'import-statement' && !i.path.startsWith('node:')).map((i) => i.path),
);
process.setSourceMapsEnabled(false);
for (const specifier of dependencies) await import(specifier);
process.setSourceMapsEnabled(true);
await import(new URL('./server.mjs', import.meta.url).href);
