/**
 * The data directory holds the embedded database and a generated key secret: nobody but the
 * user the server runs as may read it. Directories are 0700 and files 0600, whatever the umask,
 * and what an older version left looser is tightened at start.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * A backstop for whatever else the server writes: private unless made otherwise on purpose (the
 * data directory is tightened explicitly too, since PGlite sets file modes past the umask). Set by
 * the process's entry before anything is written: main.ts, and built-entry.ts before it starts
 * the embedded database's thread (a worker thread may not change the umask itself).
 */
export function makeNewFilesPrivate(): void {
  process.umask(0o077);
}

/** A requested mode with group and other bits dropped (file type and owner bits kept). */
export function privateMode(mode: number): number {
  return mode & ~0o077;
}

/** Creates `dir` (and missing parents) 0700, and makes an existing `dir` 0700. */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  tighten(dir, PRIVATE_DIR_MODE);
}

/**
 * makePrivateDir, then every directory below 0700 and every file 0600. Symbolic links are not
 * followed. A file or directory below that vanishes meanwhile is passed over: a worker process
 * (SSO_WORKERS) walks the tree while the primary's embedded database creates and removes files.
 */
export function makePrivateTree(dir: string): void {
  makePrivateDir(dir);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    try {
      if (entry.isDirectory()) makePrivateTree(path);
      else if (entry.isFile()) tighten(path, PRIVATE_FILE_MODE);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** Makes an existing file 0600. */
export function makePrivateFile(file: string): void {
  tighten(file, PRIVATE_FILE_MODE);
}

function tighten(path: string, mode: number): void {
  // lstat: a link is left alone (chmod would follow it to whatever it points at).
  const stat = lstatSync(path);
  if (!stat.isSymbolicLink() && (stat.mode & 0o777) !== mode) chmodSync(path, mode);
}
