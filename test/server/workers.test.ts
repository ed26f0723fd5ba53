/**
 * SSO_WORKERS=2: `npm start` as an operator runs it (src/main.ts in its own process), on the
 * embedded database (the primary owns it, the workers reach it over its socket) or on PostgreSQL
 * (TEST_DATABASE_URL). Which worker answered a call is read from the log (its `worker` field and
 * the request id the test sent): nothing about the processes reaches a client.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createTestDatabaseConfig } from '../support/database.js';

const METRICS_TOKEN = 'metrics-token-'.padEnd(40, 'x');
const user = { identifier: 'workers@example.com', secret: 'workers-password-1' };

interface LogLine {
  level: number;
  msg: string;
  worker?: number;
  slot?: number;
  pid?: number;
  requestId?: string;
  rpc?: string;
}

/** The server's JSON log lines as they come, and a way to wait for one. */
class Output {
  readonly lines: LogLine[] = [];
  private text = '';
  private waiters: (() => void)[] = [];

  constructor(child: ChildProcess) {
    child.stdout!.on('data', (chunk) => {
      this.text += String(chunk);
      const parts = this.text.split('\n');
      this.text = parts.pop()!;
      for (const part of parts) if (part.trim()) this.lines.push(JSON.parse(part) as LogLine);
      for (const wake of this.waiters.splice(0)) wake();
    });
    child.stderr!.on('data', (chunk) => process.stderr.write(chunk));
  }

  async waitFor(what: string, match: (l: LogLine) => boolean, ms = 180_000): Promise<LogLine> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.lines.find(match);
      if (found) return found;
      assert.ok(Date.now() < deadline, `no ${what} in ${ms} ms:\n${this.lines.map((l) => JSON.stringify(l)).join('\n')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 1000);
      });
    }
  }

  /** The worker that logged the call with this request id. */
  async workerOf(requestId: string): Promise<number> {
    return (await this.waitFor(`call ${requestId}`, (l) => l.msg === 'call' && l.requestId === requestId, 30_000)).worker!;
  }
}

let nextRequest = 0;

/**
 * One call on a connection of its own (the primary hands each new connection to the next worker);
 * resolves with the status, the JSON body and the request id it sent.
 */
function call(
  port: number,
  method: string,
  path: string,
  opts: { token?: string; json?: unknown; holdBody?: Promise<void> } = {},
): Promise<{ status: number; body: Record<string, unknown>; requestId: string; headers: http.IncomingHttpHeaders }> {
  const requestId = `workers-test-${nextRequest++}`;
  const body = opts.json === undefined ? undefined : JSON.stringify(opts.json);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: {
          'x-request-id': requestId,
          ...(opts.token && { authorization: `Bearer ${opts.token}` }),
          ...(body !== undefined && { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += String(c)));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
            requestId,
            headers: res.headers,
          }),
        );
      },
    );
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (opts.holdBody) {
      // Headers and half the body now (the worker is answering the call from here on), the rest later.
      req.write(body.slice(0, 10));
      opts.holdBody.then(() => req.end(body.slice(10)), reject);
    } else req.end(body);
  });
}

/** Calls until every worker in `wanted` has answered one; returns each worker's answer. */
async function onEveryWorker(
  out: Output,
  wanted: number[],
  send: () => ReturnType<typeof call>,
): Promise<Map<number, Awaited<ReturnType<typeof call>>>> {
  const answers = new Map<number, Awaited<ReturnType<typeof call>>>();
  for (let i = 0; i < 20 && answers.size < wanted.length; i++) {
    const answer = await send();
    answers.set(await out.workerOf(answer.requestId), answer);
  }
  assert.deepEqual([...answers.keys()].sort(), wanted, 'the calls did not reach every worker');
  return answers;
}

test('SSO_WORKERS=2 serves from both workers, shares logins and logouts, restarts a killed worker and stops cleanly; start-up warnings are said once', async () => {
  const db = await createTestDatabaseConfig();
  const dataDir = mkdtempSync(join(tmpdir(), 'sso-workers-'));
  const env: Record<string, string> = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    SSO_WORKERS: '2',
    SSO_DATA_DIR: dataDir,
    SSO_BCRYPT_COST: '4',
    SSO_METRICS_TOKEN: METRICS_TOKEN,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
  };
  delete env.DATABASE_URL;
  // Left at their defaults, so that the server warns about both (and the workers share the generated key secret).
  delete env.SSO_ISSUER;
  delete env.SSO_KEY_SECRET;
  if (db.config.kind === 'postgres') {
    const url = new URL(db.config.url);
    url.searchParams.set('options', `-c search_path=${db.config.schema}`);
    env.DATABASE_URL = url.toString();
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const out = new Output(child);
  try {
    const ready = await out.waitFor('ready line', (l) => l.msg.startsWith('ready at '));
    const port = Number(/:(\d+)$/.exec(ready.msg)![1]);
    // Said once, by the primary, once both workers have told it (over IPC) that they listen. Their
    // own 'listening' lines come down the same pipe from other processes, in no promised order
    // with the primary's (seen on Node 24: one after the ready line), so they are waited for.
    for (const worker of [1, 2])
      await out.waitFor(`worker ${worker} listening`, (l) => l.msg === 'listening' && l.worker === worker, 30_000);
    const listening = out.lines.filter((l) => l.msg === 'listening').map((l) => l.worker);
    assert.deepEqual(listening.sort(), [1, 2]);
    assert.equal(ready.worker, 0);
    // Each start-up warning once, by the primary, not once more by every worker.
    for (const warning of [/^SSO_ISSUER is not set/, /^SSO_KEY_SECRET is not set/]) {
      const said = out.lines.filter((l) => l.level === 40 && warning.test(l.msg));
      assert.deepEqual(
        said.map((l) => l.worker),
        [0],
        `${warning}: ${JSON.stringify(said)}`,
      );
    }

    // One signing key, though two workers started on an empty database together.
    const jwks = await call(port, 'GET', '/.well-known/jwks.json');
    assert.equal((jwks.body.keys as unknown[]).length, 1);

    // A login answered by one worker is honoured by both.
    const login = await call(port, 'POST', '/api/sso/v1/auth/login', { json: { ...user, register: true } });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const token = login.body.access_token as string;
    let meCalls = 0;
    const me = () => {
      meCalls++;
      return call(port, 'GET', '/api/sso/v1/me', { token });
    };
    for (const [worker, answer] of await onEveryWorker(out, [1, 2], me)) {
      assert.equal(answer.status, 200, `worker ${worker}: ${JSON.stringify(answer.body)}`);
      for (const name of Object.keys(answer.headers)) assert.doesNotMatch(name, /worker|pid/i, 'a process detail reached a client');
    }

    // A scrape counts every worker's calls, whichever worker answers it.
    const scrape = await new Promise<string>((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port, path: '/metrics', agent: false, headers: { authorization: `Bearer ${METRICS_TOKEN}` } }, (res) => {
          let text = '';
          res.on('data', (c) => (text += String(c)));
          res.on('end', () => resolve(text));
        })
        .on('error', reject),
    );
    const getMe = /^sso_rpc_calls_total\{[^}]*method="GetMe"[^}]*code="ok"\} (\d+)$/m.exec(scrape);
    assert.equal(Number(getMe?.[1]), meCalls, scrape);
    assert.match(scrape, /^sso_active_sessions 1$/m);

    // A logout on one worker is honoured by both from the next call on.
    const logout = await call(port, 'POST', '/api/sso/v1/auth/logout', { token, json: {} });
    assert.equal(logout.status, 200, JSON.stringify(logout.body));
    for (const [worker, answer] of await onEveryWorker(out, [1, 2], me)) {
      assert.equal(answer.status, 401, `worker ${worker} still accepts a logged-out token`);
    }

    // A killed worker is replaced (and logged), and serves again.
    const first = out.lines.find((l) => l.msg === 'worker started' && l.slot === 1)!;
    process.kill(first.pid!, 'SIGKILL');
    await out.waitFor('restart log', (l) => l.msg === 'worker exited; restarting it' && l.slot === 1 && l.worker === 0);
    const replacement = await out.waitFor('replacement', (l) => l.msg === 'worker started' && l.slot === 1 && l.pid !== first.pid);
    await out.waitFor(
      'replacement listening',
      (l) => l.msg === 'listening' && l.worker === 1 && out.lines.indexOf(l) > out.lines.indexOf(replacement),
    );
    const again = await call(port, 'POST', '/api/sso/v1/auth/login', { json: user });
    assert.equal(again.status, 200);
    const fresh = again.body.access_token as string;
    await onEveryWorker(out, [1, 2], () => call(port, 'GET', '/api/sso/v1/me', { token: fresh }));

    // SIGTERM: a call in flight in each worker is finished, then everything stops with 0.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const inFlight = [0, 1].map(() => call(port, 'POST', '/api/sso/v1/auth/login', { json: user, holdBody: held }));
    // Time for both workers to read the calls' headers (each is being answered from then on).
    await new Promise((r) => setTimeout(r, 2000));
    child.kill('SIGTERM');
    await out.waitFor('shutdown of both workers', (l) => l.msg === 'shutting down' && l.worker === 2);
    await out.waitFor('shutdown of both workers', (l) => l.msg === 'shutting down' && l.worker === 1);
    release();
    const answers = await Promise.all(inFlight);
    for (const answer of answers) assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual((await Promise.all(answers.map((a) => out.workerOf(a.requestId)))).sort(), [1, 2]);
    assert.equal(await exited, 0);
    assert.equal(out.lines.filter((l) => l.msg.startsWith('ready at ')).length, 1);
    await assert.rejects(call(port, 'GET', '/healthz'), /ECONNREFUSED/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await db.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
