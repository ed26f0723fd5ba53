// Several instances left at defaults derive their issuer from their port and refuse each other's
// tokens: the server says so at start instead of leaving operators to find out from 401s.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { startApp } from '../../src/server/app.js';
import { createTestDatabaseConfig } from '../support/database.js';

interface LogLine {
  level: number;
  msg: string;
  issuer?: string;
}

/** Starts the real server from an environment, with its log captured, and stops it again. */
async function startupLog(env: Record<string, string>): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const log = pino({ level: 'info', base: undefined }, sink);
  const db = await createTestDatabaseConfig();
  const dataDir = mkdtempSync(join(tmpdir(), 'sso-startup-'));
  try {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      SSO_DATA_DIR: dataDir,
      SSO_KEY_SECRET: 'startup-secret-startup-secret-0123456789',
      ...env,
    });
    const app = await startApp({ ...config, bcryptCost: 4 }, { database: db.config, log });
    // The server answers: the warning does not stop it.
    assert.equal((await fetch(`${app.url}/healthz`)).status, 200);
    await app.close();
  } finally {
    await db.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return lines;
}

const issuerWarning = (lines: LogLine[]) => lines.filter((l) => l.level === 40 && /SSO_ISSUER is not set/.test(l.msg));

test('without SSO_ISSUER the server warns at start, naming the derived issuer and the fix', async () => {
  const lines = await startupLog({});
  const warnings = issuerWarning(lines);
  assert.equal(warnings.length, 1, JSON.stringify(lines, null, 1));
  const [warning] = warnings;
  assert.match(warning!.issuer!, /^http:\/\/localhost:0$/);
  assert.match(warning!.msg, /refuse each other's tokens/);
  assert.match(warning!.msg, /Set SSO_ISSUER/);
  // Said before the server reports it is listening, where an operator reads the start-up.
  assert.ok(lines.indexOf(warning!) < lines.findIndex((l) => l.msg === 'listening'));
});

test('with SSO_ISSUER set there is no such warning', async () => {
  const lines = await startupLog({ SSO_ISSUER: 'https://sso.example.com' });
  assert.deepEqual(issuerWarning(lines), []);
  assert.ok(lines.some((l) => l.msg === 'listening' && l.issuer === 'https://sso.example.com'));
});
