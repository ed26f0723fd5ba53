/**
 * One server (embedded database or PostgreSQL) under every hot operation of issue 14, with the
 * fixtures each needs. Used by bench/auth.ts, which divides these rates by raw limits.
 */
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { measure, postJson, startProcess, stopProcess, tempDir } from './lib.js';
import { scratchSchema } from './scratch-schema.js';

/** An operation's rate next to the raw limit it is divided by, measured just before it. */
export type Rate = { rps: number; p50: number; p99: number; limit: number };
export type OpName =
  | 'clientCredentials'
  | 'verifyToken'
  | 'meJwt'
  | 'meKey'
  | 'apiKeyVerify'
  | 'refresh'
  | 'login'
  | 'verifyAuthorized'
  | 'verifyBadKey';
/** Raw limits, each measured on demand so it sits next to the run it divides (the machine's load drifts). */
export interface Limits {
  bareRpc(): Promise<number>;
  es256Sign(): Promise<number>;
  bcrypt(): Promise<number>;
  pgTx(): Promise<number | undefined>;
}
export interface ServerFigures {
  ops: Record<OpName, Rate>;
  /** Embedded only: to ready on a fresh data dir and again on the same one, and RSS once idle. */
  start?: { firstMs: number; restartMs: number; idleRssMb: number; restartIdleRssMb: number };
}

const json = { 'content-type': 'application/json' };
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
/**
 * Connections of the hash-bound runs (login, /verify): as many as hashes run at once (libuv's 4
 * threads; queueing more only adds latency). Their raw bcrypt limit runs as many at a time.
 */
export const HASH_CONNECTIONS = 4;
const PASSWORD = 'bench-password-1';

function rssMb(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
}

async function timedStart(env: Record<string, string>, base: string): Promise<{ child: ChildProcess; ms: number }> {
  const started = Date.now();
  const child = await startProcess('src/main.ts', env, `${base}/readyz`);
  return { child, ms: Date.now() - started };
}

export async function measureServer(opts: {
  port: number;
  limits: Limits;
  cost: number;
  seconds: number;
  databaseUrl?: string;
}): Promise<ServerFigures> {
  const base = `http://127.0.0.1:${opts.port}`;
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
  const env: Record<string, string> = {
    PORT: String(opts.port),
    HOST: '127.0.0.1',
    SSO_DATA_DIR: tempDir(),
    SSO_BCRYPT_COST: String(opts.cost),
    SSO_KEY_SECRET: 'bench-key-secret-'.padEnd(40, 'x'),
    NODE_ENV: 'production',
    // A load test is not a guessing attack: login protection's limits are raised.
    SSO_LOGIN_MAX_FAILURES: '1000',
    SSO_LOGIN_MAX_FAILURES_PER_IP: '100000',
  };
  // A scratch schema: the benchmark's users never meet anyone else's.
  const scratch = opts.databaseUrl ? await scratchSchema(opts.databaseUrl) : undefined;
  if (scratch) env.DATABASE_URL = scratch.url;

  let start: ServerFigures['start'];
  let { child, ms } = await timedStart(env, base);
  try {
    if (!opts.databaseUrl) {
      await new Promise((r) => setTimeout(r, 3000));
      const idleRssMb = rssMb(child);
      await stopProcess(child);
      const again = await timedStart(env, base);
      child = again.child;
      await new Promise((r) => setTimeout(r, 3000));
      // The first start also ran initdb, whose memory PGlite never gives back; a restart does not.
      start = { firstMs: ms, restartMs: again.ms, idleRssMb, restartIdleRssMb: rssMb(child) };
    }
    const post = (path: string, body: unknown, token?: string) => postJson(base, path, body, token);
    const admin = await post('/api/sso/v1/auth/login', { identifier: 'bench@example.com', secret: PASSWORD, register: true });
    const token = admin.access_token as string;
    const userKey = (await post('/api/sso/v1/apikeys', { name: 'bench user key' }, token)).key as string;
    const agent = await post('/api/sso/v1/agents', { name: 'bench agent', scopes: ['read:agents'] }, token);
    const agentKey = (await post('/api/sso/v1/apikeys', { agent_id: agent.id, name: 'bench agent key' }, token)).key as string;
    const app = await post('/apps/', { name: 'Bench', url: 'https://bench.example.com' }, token);
    const jdoe = (await post('/api/sso/v1/auth/login', { identifier: 'jdoe', secret: PASSWORD, register: true })).user;
    await post(`/users/${jdoe.legacy_id}/assign/${app.id}`, {}, token);

    // As ../shared/peers does: each op is first run unmeasured (code paths compiled, pools and
    // caches filled), and requests a run abandons when it ends (a login keeps hashing) are let
    // finish before the next raw limit is measured, so neither the op nor the limit pays for them.
    const settle = () => new Promise((r) => setTimeout(r, 500));
    const run = async (limit: () => Promise<number | undefined>, load: Parameters<typeof measure>[0]): Promise<Rate> => {
      await measure({ connections, ...load, seconds: warmupSeconds });
      await settle();
      const before = (await limit()) ?? NaN;
      const rate = await measure({ connections, seconds: opts.seconds, ...load });
      await settle();
      return { ...rate, limit: before };
    };
    const { bareRpc, es256Sign, bcrypt, pgTx } = opts.limits;
    const clientCredentials = await run(es256Sign, {
      url: `${base}/oauth/token`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: agent.id, client_secret: agentKey }).toString(),
    });
    const verifyToken = await run(bareRpc, {
      url: `${base}/api/sso/v1/auth/verify-token`,
      method: 'POST',
      headers: json,
      body: JSON.stringify({ token }),
    });
    const meJwt = await run(bareRpc, { url: `${base}/api/sso/v1/me`, headers: { authorization: `Bearer ${token}` } });
    const meKey = await run(bareRpc, { url: `${base}/api/sso/v1/me`, headers: { 'x-api-key': userKey } });
    const apiKeyVerify = await run(bareRpc, {
      url: `${base}/api/sso/v1/apikeys/verify`,
      method: 'POST',
      headers: json,
      body: JSON.stringify({ api_key: agentKey }),
    });

    // A refresh token is single-use: a pool holds live tokens; each request takes one and puts
    // back the one its answer carries.
    const pool: string[] = [];
    for (let i = 0; i < connections * 2; i++)
      pool.push((await post('/api/sso/v1/auth/login', { identifier: 'jdoe', secret: PASSWORD })).refresh_token);
    const refresh = await run(pgTx, {
      url: `${base}/api/sso/v1/auth/refresh`,
      method: 'POST',
      headers: json,
      requests: [
        {
          method: 'POST',
          setupRequest: (req: any) => ({ ...req, headers: json, body: JSON.stringify({ refresh_token: pool.shift() }) }),
          onResponse: (_status: number, body: string) => {
            pool.push(JSON.parse(body).refresh_token);
          },
        },
      ] as any,
    });
    const login = await run(bcrypt, {
      url: `${base}/api/sso/v1/auth/login`,
      method: 'POST',
      headers: json,
      connections: HASH_CONNECTIONS,
      body: JSON.stringify({ identifier: 'jdoe', secret: PASSWORD }),
    });
    const verifyAuthorized = await run(bcrypt, {
      url: `${base}/verify`,
      method: 'POST',
      headers: json,
      connections: HASH_CONNECTIONS,
      body: JSON.stringify({ username: 'jdoe', password: PASSWORD, api_key: app.api_key }),
    });
    const verifyBadKey = await run(bareRpc, {
      url: `${base}/verify`,
      method: 'POST',
      headers: json,
      body: JSON.stringify({ username: 'jdoe', password: PASSWORD, api_key: 'abc123xyz' }),
    });
    return { ops: { clientCredentials, verifyToken, meJwt, meKey, apiKeyVerify, refresh, login, verifyAuthorized, verifyBadKey }, start };
  } finally {
    await stopProcess(child);
    await scratch?.drop();
  }
}
