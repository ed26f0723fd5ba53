/**
 * `npm start` runs the server built into one file (`npm run build`: esbuild bundles src/main.ts
 * into dist/server/main.mjs, dependencies left in node_modules), not src/ through tsx as the other
 * tests do. This runs that built file as `npm start` does, on a fresh embedded database, and checks
 * what the bundle could break: files found from the project's root (the hosted page's script, the
 * protos behind the OpenAPI document, the prepared embedded template, found by the same key as
 * tsx's), a call over REST and one over Connect, a clean stop, and which source maps were read
 * (the bundle's, not the dependencies': src/built-entry.ts).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { templateDir } from '../../src/db/embedded-template.js';

test('the built server starts, serves and stops as npm start runs it', { timeout: 180_000 }, async () => {
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  const start = JSON.parse(readFileSync('package.json', 'utf8')).scripts.start as string;
  const [command, ...args] = start.split(' ');
  assert.equal(command, 'node', start);
  assert.ok(args.includes('dist/server/main.mjs'), start);

  // The RPC stack (protobuf-es, Connect) and jose are inside the bundle (scripts/build-server.mjs);
  // what the entry loads from node_modules first is the rest, TypeORM among it.
  const outside = JSON.parse(readFileSync('dist/server/server-imports.json', 'utf8')) as string[];
  assert.ok(outside.includes('typeorm'), String(outside));
  assert.deepEqual(
    outside.filter((p) => /^(@bufbuild|@connectrpc|jose)/.test(p)),
    [],
  );

  const dataDir = mkdtempSync(join(tmpdir(), 'sso-built-'));
  // The probe reports, as the server exits, which source maps Node read (see built-entry.ts).
  const child = spawn(process.execPath, ['--import', './test/support/source-map-probe.mjs', ...args], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', SSO_DATA_DIR: dataDir, SSO_KEY_SECRET: 'k'.repeat(40), LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += String(chunk);
  });
  child.stderr.on('data', (chunk) => {
    out += String(chunk);
  });
  try {
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line in 120 s: ${out}`)), 120_000);
      const look = () => {
        const m = /ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      child.stdout.on('data', look);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code}: ${out}`));
      });
    });
    const lines = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; from?: string; prestarted?: boolean });
    const opened = lines.find((l) => l.msg === 'embedded database started');
    if (existsSync(templateDir())) {
      assert.equal(opened?.from, 'template', 'the prepared template is found');
    }
    // The entry started the database's thread before loading the server, which took it over.
    assert.equal(opened?.prestarted, true, out);

    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const script = await fetch(`${base}/oidc/assets/passkey.js`);
    assert.equal(script.status, 200);
    assert.equal(await script.text(), readFileSync('src/oidc/assets/passkey.js', 'utf8'));
    const openapi = await fetch(`${base}/openapi.json`);
    assert.equal(openapi.status, 200);
    assert.ok(((await openapi.json()) as { paths: object }).paths['/api/sso/v1/auth/login' as keyof object]);

    const login = await fetch(`${base}/api/sso/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: 'first@example.com', secret: 'Password123!x', register: true }),
    });
    assert.equal(login.status, 200, await login.clone().text());
    const { access_token: token } = (await login.json()) as { access_token: string };
    const me = await fetch(`${base}/sso.auth.v1.AuthService/GetMe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{}',
    });
    assert.equal(me.status, 200, await me.clone().text());
    assert.equal(
      ((await me.json()) as { user: { identifiers: { identifier: string }[] } }).user.identifiers[0]?.identifier,
      'first@example.com',
    );
  } finally {
    child.removeAllListeners('exit');
    // 'close', not 'exit': the probe's line may still be in the pipe when the process has exited.
    const exited = new Promise<number | null>((r) => child.once('close', r));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
  }
  try {
    // Stopped cleanly: the database's thread closed PGlite and released the data dir.
    assert.ok(!existsSync(join(dataDir, 'db', 'sso-embedded.pid')), out);
    const restart = spawnSync(process.execPath, ['--input-type=module', '-e', RESTART_AND_LOGIN], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', SSO_DATA_DIR: dataDir, SSO_KEY_SECRET: 'k'.repeat(40), LOG_FORMAT: 'json' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(restart.status, 0, restart.stdout + restart.stderr);
    const found = JSON.parse(/restart (.*)/.exec(restart.stdout)?.[1] ?? 'null') as {
      from: string;
      prestarted: boolean;
      login: number;
    } | null;
    assert.deepEqual(found, { from: 'existing', prestarted: true, login: 200 }, restart.stdout + restart.stderr);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  // The server's stack traces point at its TypeScript; TypeORM's ~350 maps were not read at start.
  const probe = JSON.parse(/source-map-probe (.*)/.exec(out)?.[1] ?? 'null') as {
    ownMap: string | null;
    dependencyMap: boolean;
    prettyLoaded: boolean;
  } | null;
  assert.ok(probe, out);
  assert.match(probe.ownMap ?? '', /\/src\/.*\.ts$/, 'the bundle maps to src/');
  assert.equal(probe.dependencyMap, false, "a dependency's source map is not read");
  assert.equal(probe.prettyLoaded, false, 'a JSON log does not load pino-pretty');
});

/**
 * Run in a child process: starts the built server (as npm start does) on the data dir left by
 * the test, logs in with the account registered before the restart, stops it, and prints what the
 * database log line said and the login's status.
 */
const RESTART_AND_LOGIN = `
import { spawn } from 'node:child_process';
const child = spawn(process.execPath, ['dist/server/main.mjs'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (chunk) => (out += chunk));
const base = await new Promise((resolve, reject) => {
  child.stdout.on('data', () => { const m = /ready at (http:[^"\\s]+)/.exec(out); if (m) resolve(m[1]); });
  child.once('exit', (code) => reject(new Error('exited ' + code + ': ' + out)));
});
const login = await fetch(base + '/api/sso/v1/auth/login', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ identifier: 'first@example.com', secret: 'Password123!x' }),
});
child.removeAllListeners('exit');
const exited = new Promise((r) => child.once('exit', r));
child.kill('SIGTERM');
if ((await exited) !== 0) throw new Error('the restarted server did not stop cleanly: ' + out);
const opened = out.split('\\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((l) => l.msg === 'embedded database started');
console.log('restart ' + JSON.stringify({ from: opened?.from, prestarted: opened?.prestarted, login: login.status }));
`;
