// The secret that encrypts signing keys at rest (see signing-keys.ts).
//
// Production sets SSO_KEY_SECRET. For development we generate one and keep it
// in the data directory so keys survive restarts, and say loudly that this
// is happening.
import { chmodSync, linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { makePrivateDir, makePrivateFile, PRIVATE_FILE_MODE } from '../private-files.js';

export const MIN_KEY_SECRET_LENGTH = 32;
export const KEY_SECRET_FILE = 'key-secret';

export function loadKeySecret(opts: { configured?: string; dataDir: string; warn: (msg: string) => void }): string {
  if (opts.configured !== undefined) {
    // An empty value counts as configured (and too short): an unset variable
    // in a deployment manifest must not silently fall back to a dev secret.
    if (opts.configured.length < MIN_KEY_SECRET_LENGTH) {
      throw new Error(`SSO_KEY_SECRET must be at least ${MIN_KEY_SECRET_LENGTH} characters long`);
    }
    return opts.configured;
  }

  const file = join(opts.dataDir, KEY_SECRET_FILE);
  // Created 0700, or made 0700 again if an older version or a copy left it open.
  makePrivateDir(opts.dataDir);
  const secret = readSecretFile(file) ?? createSecretFile(file);
  opts.warn(
    `SSO_KEY_SECRET is not set: using a generated development key secret stored in ${file}. ` +
      'Set SSO_KEY_SECRET (at least 32 characters) in production.',
  );
  return secret;
}

function readSecretFile(file: string): string | undefined {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // A file an older version (or a copy) left readable to others is made private again.
  makePrivateFile(file);
  const secret = content.trim();
  if (secret.length < MIN_KEY_SECRET_LENGTH) {
    throw new Error(`${file} does not contain a valid key secret (expected at least ${MIN_KEY_SECRET_LENGTH} characters)`);
  }
  return secret;
}

function createSecretFile(file: string): string {
  const secret = randomBytes(48).toString('base64url');
  // Write a private temp file, then hard-link it into place: the link is
  // atomic and fails if the file exists, so two processes starting together
  // can't overwrite each other's secret or read a half-written file.
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, `${secret}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  try {
    chmodSync(tmp, PRIVATE_FILE_MODE); // in case of an unusual umask
    linkOrCreate(tmp, file, secret);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Someone else won the race; use theirs.
    const existing = readSecretFile(file);
    if (existing === undefined) throw error;
    return existing;
  } finally {
    unlinkSync(tmp);
  }
  return secret;
}

// Some mounted filesystems (e.g. certain container volumes) refuse hard
// links; fall back to an exclusive create, which still never overwrites.
function linkOrCreate(tmp: string, file: string, secret: string): void {
  try {
    linkSync(tmp, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw error;
    writeFileSync(file, `${secret}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
    chmodSync(file, PRIVATE_FILE_MODE);
  }
}
