/**
 * `npx tsx bench/apikeys.ts`: requests per second of API-key-authenticated calls next to the same
 * calls with a JWT and to a bare connect-node unary call, measured in the same run on the same
 * machine:
 *   - AuthService/GetMe over Connect (the call the bare server answers) and GET /api/sso/v1/me
 *     (REST) as a user: bearer JWT vs the user's API key (x-api-key)
 *   - GET /api/sso/v1/agents/{id} as an agent: its client-credentials JWT vs its API key
 *   - POST /api/sso/v1/auth/verify-token {token} vs POST /api/sso/v1/apikeys/verify {api_key}
 * An API key costs one indexed read (key, owner standing and grants together) and a SHA-256; a JWT
 * a signature check and one read of its session (or agent). Nothing is cached, so revocation holds
 * on the next call. The server runs in its own process on the embedded database (or
 * BENCH_DATABASE_URL). BENCH_SECONDS sets each run's length (default 5).
 */
import { measure, row, startServers } from './lib.js';

const port = 18900 + Math.floor(Math.random() * 500);
const barePort = port + 1;
const base = `http://127.0.0.1:${port}`;
const json = { 'content-type': 'application/json' };

async function call(path: string, init: { method?: string; body?: unknown; token?: string; form?: Record<string, string> } = {}) {
  const res = await fetch(base + path, {
    method: init.method ?? 'POST',
    body: init.form ? new URLSearchParams(init.form).toString() : init.body === undefined ? undefined : JSON.stringify(init.body),
    headers: {
      'content-type': init.form ? 'application/x-www-form-urlencoded' : 'application/json',
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, any>>;
}

async function main(): Promise<void> {
  const servers = await startServers(port, 4);
  try {
    const login = await call('/api/sso/v1/auth/login', {
      body: { identifier: 'bench@example.com', secret: 'bench-password-1', register: true },
    });
    const userToken = login.access_token as string;
    const userKey = (await call('/api/sso/v1/apikeys', { token: userToken, body: { name: 'bench user key' } })).key as string;
    const agent = await call('/api/sso/v1/agents', { token: userToken, body: { name: 'bench agent', scopes: ['read:agents'] } });
    const agentKey = (await call('/api/sso/v1/apikeys', { token: userToken, body: { agent_id: agent.id, name: 'bench agent key' } }))
      .key as string;
    const agentToken = (
      await call('/oauth/token', {
        form: { grant_type: 'client_credentials', client_id: agent.id, client_secret: agentKey },
      })
    ).access_token as string;

    const bareRpc = await measure({
      url: `http://127.0.0.1:${barePort}/sso.auth.v1.AuthService/GetMe`,
      method: 'POST',
      headers: json,
      body: '{}',
    });
    // The very call the bare server answers, over Connect, through every interceptor and the database.
    const getMe = `${base}/sso.auth.v1.AuthService/GetMe`;
    const rpcJwt = await measure({ url: getMe, method: 'POST', headers: { ...json, authorization: `Bearer ${userToken}` }, body: '{}' });
    const rpcKey = await measure({ url: getMe, method: 'POST', headers: { ...json, 'x-api-key': userKey }, body: '{}' });
    const meJwt = await measure({ url: `${base}/api/sso/v1/me`, headers: { authorization: `Bearer ${userToken}` } });
    const meKey = await measure({ url: `${base}/api/sso/v1/me`, headers: { 'x-api-key': userKey } });
    const agentJwt = await measure({ url: `${base}/api/sso/v1/agents/${agent.id}`, headers: { authorization: `Bearer ${agentToken}` } });
    const agentByKey = await measure({ url: `${base}/api/sso/v1/agents/${agent.id}`, headers: { 'x-api-key': agentKey } });
    const verifyToken = await measure({
      url: `${base}/api/sso/v1/auth/verify-token`,
      method: 'POST',
      headers: json,
      body: JSON.stringify({ token: userToken }),
    });
    const verifyKey = await measure({
      url: `${base}/api/sso/v1/apikeys/verify`,
      method: 'POST',
      headers: json,
      body: JSON.stringify({ api_key: agentKey }),
    });

    const line = (name: string, r: { rps: number; p50: number; p99: number }) =>
      row(name, r.rps, bareRpc.rps, `p50 ${r.p50} ms p99 ${r.p99} ms`);
    console.log(
      `\nAPI key benchmark (${process.env.BENCH_DATABASE_URL ? 'PostgreSQL' : 'embedded database'}, 2 cores shared with the load generator)`,
    );
    console.log(row('bare connect-node unary RPC (raw limit)', bareRpc.rps, bareRpc.rps, `p50 ${bareRpc.p50} ms`));
    console.log(line('Connect AuthService/GetMe, user JWT', rpcJwt));
    console.log(line('Connect AuthService/GetMe, user API key', rpcKey));
    console.log(line('GET /api/sso/v1/me, user JWT', meJwt));
    console.log(line('GET /api/sso/v1/me, user API key', meKey));
    console.log(line('GET /api/sso/v1/agents/{id}, agent JWT', agentJwt));
    console.log(line('GET /api/sso/v1/agents/{id}, agent API key', agentByKey));
    console.log(line('POST /api/sso/v1/auth/verify-token (JWT)', verifyToken));
    console.log(line('POST /api/sso/v1/apikeys/verify (API key)', verifyKey));
  } finally {
    await servers.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
