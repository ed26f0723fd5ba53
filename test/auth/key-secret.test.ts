import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKeySecret } from '../../src/auth/key-secret.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sso-key-secret-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a configured secret of 32+ characters is used as is, without warning', (t) => {
  const dataDir = join(tempDir(t), 'data');
  const warnings: string[] = [];
  const configured = 's'.repeat(32);
  assert.equal(loadKeySecret({ configured, dataDir, warn: (m) => warnings.push(m) }), configured);
  assert.deepEqual(warnings, []);
  assert.equal(existsSync(dataDir), false); // nothing written
});

test('a short configured secret is rejected with a clear message', (t) => {
  const dataDir = tempDir(t);
  const short = 'too-short-secret';
  for (const configured of [short, 's'.repeat(31), '']) {
    assert.throws(
      () => loadKeySecret({ configured, dataDir, warn: () => {} }),
      (err: Error) => /SSO_KEY_SECRET must be at least 32 characters/.test(err.message) && !err.message.includes(short),
    );
  }
});

test('without a configured secret one is generated once, stored 0600, and reused', (t) => {
  const dataDir = join(tempDir(t), 'nested', 'data'); // mkdir -p
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);

  const first = loadKeySecret({ dataDir, warn });
  assert.match(first, /^[A-Za-z0-9_-]{64}$/); // 48 bytes base64url
  assert.equal(Buffer.from(first, 'base64url').length, 48);
  assert.equal(warnings.length, 1);
  const warning = warnings[0] ?? '';
  assert.match(warning, /generated development/);
  assert.match(warning, /SSO_KEY_SECRET/);
  assert.match(warning, /production/);
  assert.equal(warning.includes(first), false); // never log the secret

  const file = join(dataDir, 'key-secret');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(readFileSync(file, 'utf8').trim(), first);

  const second = loadKeySecret({ dataDir, warn });
  assert.equal(second, first);
  assert.equal(warnings.length, 2); // one warning per call
});

test('an existing secret file is read, and a corrupt one is refused', (t) => {
  const dataDir = tempDir(t);
  const file = join(dataDir, 'key-secret');
  writeFileSync(file, `${'k'.repeat(40)}\n`, { mode: 0o600 });
  assert.equal(loadKeySecret({ dataDir, warn: () => {} }), 'k'.repeat(40));
  writeFileSync(file, 'short\n');
  assert.throws(() => loadKeySecret({ dataDir, warn: () => {} }), /does not contain a valid key secret/);
});

test('an existing secret file left readable to others is made 0600 again, and its dir 0700', (t) => {
  const dataDir = join(tempDir(t), 'data');
  const secret = loadKeySecret({ dataDir, warn: () => {} });
  chmodSync(join(dataDir, 'key-secret'), 0o644);
  chmodSync(dataDir, 0o755);
  assert.equal(loadKeySecret({ dataDir, warn: () => {} }), secret);
  assert.equal(statSync(join(dataDir, 'key-secret')).mode & 0o777, 0o600);
  assert.equal(statSync(dataDir).mode & 0o777, 0o700);
});
