/**
 * `npm run bench`: requests per second for the Auth hot paths, each next to the raw limit it is
 * bounded by, measured in the same run on the same machine:
 *   - GET /api/sso/v1/me and POST /api/sso/v1/auth/verify-token vs a bare connect-node unary call
 *   - POST /api/sso/v1/auth/refresh (two signatures, one conditional UPDATE) vs the bare call
 *   - POST /api/sso/v1/auth/login vs bare bcrypt.compare at the same cost
 * The server runs in its own process on the embedded database (or BENCH_DATABASE_URL).
 * BENCH_SECONDS sets each run's length (default 5).
 */
import bcrypt from 'bcrypt';
import { measure, opsPerSecond, row, postJson, startServers } from './lib.js';

const cost = Number(process.env.BENCH_BCRYPT_COST ?? 10);
const port = 18400 + Math.floor(Math.random() * 500);
const barePort = port + 1;
const base = `http://127.0.0.1:${port}`;
const json = { 'content-type': 'application/json' };

const post = (path: string, body: unknown, token?: string) => postJson(base, path, body, token);

async function main(): Promise<void> {
  const servers = await startServers(port, cost);
  try {
    const login = await post('/api/sso/v1/auth/login', { identifier: 'bench@example.com', secret: 'bench-password-1', register: true });
    const token = login.access_token as string;

    const bareRpc = await measure({
      url: `http://127.0.0.1:${barePort}/sso.auth.v1.AuthService/GetMe`, method: 'POST', headers: json, body: '{}',
    });
    const me = await measure({ url: `${base}/api/sso/v1/me`, headers: { authorization: `Bearer ${token}` } });
    const verify = await measure({
      url: `${base}/api/sso/v1/auth/verify-token`, method: 'POST', headers: json, body: JSON.stringify({ token }),
    });

    // A refresh token is single-use: a pool holds one live token per session; each request takes
    // one and puts back the token its answer carries (autocannon clears per-request context).
    const connections = 10;
    const pool: string[] = [];
    for (let i = 0; i < connections * 2; i++) {
      pool.push((await post('/api/sso/v1/auth/login', { identifier: 'bench@example.com', secret: 'bench-password-1' })).refresh_token);
    }
    const refresh = await measure({
      url: `${base}/api/sso/v1/auth/refresh`, method: 'POST', headers: json, connections,
      requests: [{
        method: 'POST',
        setupRequest: (req: any) => ({ ...req, headers: json, body: JSON.stringify({ refresh_token: pool.shift() }) }),
        onResponse: (_status: number, body: string) => { pool.push(JSON.parse(body).refresh_token); },
      }] as any,
    });

    const hash = await bcrypt.hash('bench-password-1', cost);
    const rawBcrypt = await opsPerSecond(() => bcrypt.compare('bench-password-1', hash), 2, 4);
    const loginLoad = await measure({
      url: `${base}/api/sso/v1/auth/login`, method: 'POST', headers: json, connections: 4,
      body: JSON.stringify({ identifier: 'bench@example.com', secret: 'bench-password-1' }),
    });

    console.log(`\nAuth benchmark (${process.env.BENCH_DATABASE_URL ? 'PostgreSQL' : 'embedded database'}, bcrypt cost ${cost}, 2 cores shared with the load generator)`);
    console.log(row('bare connect-node unary RPC (raw limit)', bareRpc.rps, bareRpc.rps, `p50 ${bareRpc.p50} ms`));
    console.log(row('GET /api/sso/v1/me', me.rps, bareRpc.rps, `p50 ${me.p50} ms p99 ${me.p99} ms`));
    console.log(row('POST /api/sso/v1/auth/verify-token', verify.rps, bareRpc.rps, `p50 ${verify.p50} ms p99 ${verify.p99} ms`));
    console.log(row('POST /api/sso/v1/auth/refresh', refresh.rps, bareRpc.rps, `p50 ${refresh.p50} ms p99 ${refresh.p99} ms`));
    console.log(row(`bare bcrypt.compare cost ${cost} x2 (raw limit)`, rawBcrypt, rawBcrypt));
    console.log(row('POST /api/sso/v1/auth/login', loginLoad.rps, rawBcrypt, `p50 ${loginLoad.p50} ms`));
  } finally {
    await servers.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
