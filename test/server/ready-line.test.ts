/**
 * `npm start` tells a person when it is ready and where (a "ready at http://..." line), in JSON
 * lines when its output is not a terminal (CI, log collectors) and human-readable when asked.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { wantsPretty } from '../../src/logger.js';

/** Starts src/main.ts, resolves with its output up to the ready line, then stops it. */
async function startUntilReady(env: Record<string, string>): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sso-ready-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', SSO_DATA_DIR: dataDir, SSO_KEY_SECRET: 'k'.repeat(40), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line in 90 s: ${out}`)), 90_000);
      child.stdout.on('data', (chunk) => {
        out += String(chunk);
        if (/ready at http:\/\/127\.0\.0\.1:\d+/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr.on('data', (chunk) => {
        out += String(chunk);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code}: ${out}`));
      });
    });
  } finally {
    child.removeAllListeners('exit');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
  return out;
}

test('without a terminal the ready line is a JSON line naming the URL', async () => {
  const out = await startUntilReady({ LOG_FORMAT: 'auto' });
  const lines = out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string; level: number });
  const ready = lines.find((l) => l.msg.startsWith('ready at '));
  assert.ok(ready, out);
  assert.match(ready.msg, /^ready at http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(ready.level, 30);
  // It comes after the start-up lines: by then the server is serving.
  assert.ok(lines.indexOf(ready) > lines.findIndex((l) => l.msg === 'listening'));
});

test('LOG_FORMAT=pretty writes human-readable lines, not JSON', async () => {
  const out = await startUntilReady({ LOG_FORMAT: 'pretty' });
  const line = out.split('\n').find((l) => l.includes('ready at http://'))!;
  assert.match(line, /INFO.*ready at http:\/\/127\.0\.0\.1:\d+/);
  assert.throws(() => JSON.parse(line));
});

test('auto is pretty only for a person at a terminal', () => {
  assert.equal(wantsPretty('auto', {}, true), true);
  assert.equal(wantsPretty('auto', {}, false), false);
  assert.equal(wantsPretty('auto', { CI: 'true' }, true), false);
  assert.equal(wantsPretty('auto', { NODE_ENV: 'production' }, true), false);
  assert.equal(wantsPretty('json', {}, true), false);
  assert.equal(wantsPretty('pretty', { CI: 'true' }, false), true);
});
