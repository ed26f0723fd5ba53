/**
 * PGlite writes no postmaster.pid, so nothing stops a second process from opening the same files
 * and corrupting them. A pid file does; one left by a process that is gone (a crash, or an earlier
 * container whose pid we now have) is taken over. The embedded database's thread takes it before
 * it touches the data dir and drops it after PGlite is closed (pglite-worker.ts).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import { PRIVATE_FILE_MODE } from '../private-files.js';

const LOCK_FILE = 'sso-embedded.pid';

export async function lockDataDir(dataDir: string): Promise<void> {
  const file = resolve(dataDir, LOCK_FILE);
  try {
    await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: PRIVATE_FILE_MODE });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const holder = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
  if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isRunning(holder)) {
    throw new Error(
      `the embedded database in ${dataDir} is in use by process ${holder} (remove ${file} if that process is not an SSO server)`,
    );
  }
  await writeFile(file, `${process.pid}\n`);
}

export async function unlockDataDir(dataDir: string): Promise<void> {
  await rm(resolve(dataDir, LOCK_FILE), { force: true });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
