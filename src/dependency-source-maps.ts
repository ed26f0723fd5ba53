/**
 * Imported first by src/main.ts, so it runs before any other module of the server does. tsx turns
 * source maps on for the whole process; Node then reads and keeps, for every CommonJS module as it
 * is executed, the source map its package ships. TypeORM ships one per file (about 350 of them at
 * start): about 8 MB of heap, 11-15 MB of RSS and 50-150 ms of start. The server's own modules are
 * compiled (and their maps kept) before any module runs, so their stack traces still point at the
 * TypeScript; a dependency's frames point at its JavaScript. main.ts calls restoreSourceMaps()
 * once everything it imports has run, so what is loaded later (and every stack trace) maps as before.
 * In the built server this comes too late (a bundle's static imports of its dependencies run before
 * any of its code): its entry, src/built-entry.ts, loads them with source maps off instead.
 */
const enabled = process.sourceMapsEnabled;
process.setSourceMapsEnabled(false);

export function restoreSourceMaps(): void {
  process.setSourceMapsEnabled(enabled);
}
