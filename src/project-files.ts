import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's own files (proto/, package.json, the hosted pages' scripts, the console's source,
 * the embedded template's cache), found from the project's root: the nearest folder above this
 * module that holds package.json. A path relative to the module itself would not do: `npm start`
 * runs the server built into one file (dist/server/server.mjs, see package.json's build), where every
 * module shares that file's location, while tests and tools run src/ through tsx.
 */
export const PROJECT_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

export function projectFile(...parts: string[]): string {
  return join(PROJECT_ROOT, ...parts);
}

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
