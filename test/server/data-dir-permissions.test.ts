// The embedded database's files used to be created 0666 (PGlite chmods past the umask): anyone on
// the machine could read password hashes and encrypted signing keys, or write to the database.
// The data directory is now 0700 and every file in it 0600, from the first start on, for files
// PostgreSQL creates while it runs, and for what an older version left looser.
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { startApp, type App } from '../../src/server/app.js';
import { startTestServer } from '../support/server.js';

let root: string;
let umask: number;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'sso-perms-'));
  // The usual umask, under which the files came out 0666.
  umask = process.umask(0o022);
});

after(() => {
  process.umask(umask);
  rmSync(root, { recursive: true, force: true });
});

/** Every entry below `dir` (and `dir` itself) whose mode is not 0700 (directory) or 0600 (file). */
function looseEntries(dir: string): string[] {
  const loose: string[] = [];
  const walk = (path: string) => {
    const stat = lstatSync(path);
    const mode = stat.mode & 0o777;
    if (stat.isDirectory()) {
      if (mode !== 0o700) loose.push(`${path} ${mode.toString(8)}`);
      for (const name of readdirSync(path)) walk(join(path, name));
    } else if (stat.isFile() && mode !== 0o600) {
      loose.push(`${path} ${mode.toString(8)}`);
    }
  };
  walk(dir);
  return loose;
}

function fileCount(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
}

/** The real server on the embedded database in `dataDir/db`, with a generated key secret. */
async function startEmbedded(dataDir: string): Promise<App> {
  const base = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SSO_DATA_DIR: dataDir, SSO_ISSUER: 'http://sso.test' });
  return startApp({ ...base, bcryptCost: 4 });
}

/** Writes over the API, so PostgreSQL creates files (tables, indexes, WAL) while it runs. */
async function writeSome(app: App, who: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${app.url}/api/sso/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: `${who}-${i}@example.com`, secret: 'perm-password-1', register: true }),
    });
    assert.equal(res.status, 200, await res.text());
  }
  await app.database.dataSource.query(
    'CREATE TABLE IF NOT EXISTS perm_probe (id int PRIMARY KEY, v text); INSERT INTO perm_probe SELECT g, md5(g::text) FROM generate_series(1, 2000) g ON CONFLICT DO NOTHING; CHECKPOINT',
  );
}

test('a fresh embedded database: data dir 0700, every file 0600, also those made while serving', async () => {
  const dataDir = join(root, 'fresh', 'data'); // missing parents are created private too
  const app = await startEmbedded(dataDir);
  try {
    assert.deepEqual(looseEntries(dataDir), []);
    await writeSome(app, 'fresh');
    assert.deepEqual(looseEntries(join(root, 'fresh')), []);
    assert.equal(lstatSync(join(dataDir, 'key-secret')).mode & 0o777, 0o600);
    assert.ok(fileCount(join(dataDir, 'db')) > 100, 'the database files were checked');
  } finally {
    await app.close();
  }
  assert.deepEqual(looseEntries(dataDir), [], 'and after a clean shutdown');
});

test('an existing data dir left world-readable and -writable is tightened at start, and still opens', async () => {
  const dataDir = join(root, 'old');
  const first = await startEmbedded(dataDir);
  await writeSome(first, 'old');
  await first.close();
  // What an older version left behind: everything open to everyone.
  const loosen = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isDirectory()) {
      chmodSync(path, 0o777);
      for (const name of readdirSync(path)) loosen(join(path, name));
    } else if (stat.isFile()) chmodSync(path, 0o666);
  };
  loosen(dataDir);
  writeFileSync(join(dataDir, 'notes.txt'), 'left by an operator', { mode: 0o644 });
  assert.ok(looseEntries(dataDir).length > 100);

  const second = await startEmbedded(dataDir);
  try {
    assert.deepEqual(looseEntries(dataDir), []);
    // The data survived: the users made before log in again.
    const res = await fetch(`${second.url}/api/sso/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: 'old-0@example.com', secret: 'perm-password-1' }),
    });
    assert.equal(res.status, 200);
    await writeSome(second, 'again');
    assert.deepEqual(looseEntries(dataDir), []);
  } finally {
    await second.close();
  }
});

test('with the test database (PostgreSQL when TEST_DATABASE_URL is set), the generated key secret and its dir are private', async () => {
  const dataDir = join(root, 'secret-only', 'data');
  const server = await startTestServer({ dataDir, keySecret: undefined });
  try {
    assert.equal(
      (
        await server.rest('/api/sso/v1/auth/login', {
          method: 'POST',
          json: { identifier: 'k@example.com', secret: 'perm-password-1', register: true },
        })
      ).status,
      200,
    );
    assert.deepEqual(looseEntries(join(root, 'secret-only')), []);
    assert.equal(lstatSync(join(dataDir, 'key-secret')).mode & 0o777, 0o600);
  } finally {
    await server.stop();
  }
});
