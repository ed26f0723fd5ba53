/**
 * `npx tsx bench/verify.ts`: requests per second of the legacy POST /verify, each outcome next to
 * the raw limit it is bounded by, measured in the same run on the same machine:
 *   - authorized, wrong password and unknown user (one bcrypt compare each) vs bare
 *     `bcrypt.compare` at the same cost, run 2 at a time (the machine's 2 cores); the goal is to
 *     lose less than 10% to the hash;
 *   - a bad API key (no password check at all) vs a bare connect-node unary call.
 * The server runs in its own process on the embedded database (or BENCH_DATABASE_URL).
 * BENCH_SECONDS sets each run's length (default 5); BENCH_BCRYPT_COST the cost (default 12, the server's default).
 */
import bcrypt from 'bcrypt';
import { measure, opsPerSecond, row, postJson, startServers } from './lib.js';

const cost = Number(process.env.BENCH_BCRYPT_COST ?? 12); // the server's default cost
const port = 18900 + Math.floor(Math.random() * 500);
const barePort = port + 1;
const base = `http://127.0.0.1:${port}`;
const json = { 'content-type': 'application/json' };

const post = (path: string, body: unknown, token?: string) => postJson(base, path, body, token);

/** A /verify load whose every answer must carry the expected message (a 200 alone proves nothing here). */
function verifyLoad(body: Record<string, string>, message: string, connections: number) {
  let wrong = 0;
  return measure({
    url: `${base}/verify`,
    method: 'POST',
    headers: json,
    connections,
    body: JSON.stringify(body),
    requests: [
      {
        method: 'POST',
        headers: json,
        body: JSON.stringify(body),
        onResponse: (_status: number, text: string) => {
          if (JSON.parse(text).message !== message) wrong++;
        },
      },
    ] as any,
  }).then((r) => {
    if (wrong > 0) throw new Error(`/verify answered ${wrong} times other than "${message}"`);
    return r;
  });
}

async function main(): Promise<void> {
  const servers = await startServers(port, cost);
  try {
    const admin = (
      await post('/api/sso/v1/auth/login', { identifier: 'admin@example.com', secret: 'bench-admin-password', register: true })
    ).access_token as string;
    const app = await post('/apps/', { name: 'Bench', url: 'https://bench.example.com' }, admin);
    const user = (await post('/api/sso/v1/auth/login', { identifier: 'jdoe', secret: 'secretpassword', register: true })).user;
    await post(`/users/${user.legacy_id}/assign/${app.id}`, {}, admin);
    const apiKey = app.api_key as string;

    // The raw limit is measured before and after the hash-bound runs and averaged, so a change in
    // what else the machine is doing meanwhile weighs on both sides alike.
    const hash = await bcrypt.hash('secretpassword', cost);
    const rawBefore = await opsPerSecond(() => bcrypt.compare('secretpassword', hash), 2, 4);
    const connections = 4;
    const authorized = await verifyLoad({ username: 'jdoe', password: 'secretpassword', api_key: apiKey }, 'Authorized', connections);
    const unknown = await verifyLoad(
      { username: 'nobody', password: 'secretpassword', api_key: apiKey },
      'Invalid username or password',
      connections,
    );
    const wrong = await verifyLoad(
      { username: 'jdoe', password: 'wrong-password', api_key: apiKey },
      'Invalid username or password',
      connections,
    );
    const rawAfter = await opsPerSecond(() => bcrypt.compare('secretpassword', hash), 2, 4);
    const rawBcrypt = (rawBefore + rawAfter) / 2;
    const bareRpc = await measure({
      url: `http://127.0.0.1:${barePort}/sso.auth.v1.AuthService/GetMe`,
      method: 'POST',
      headers: json,
      body: '{}',
    });
    const badKey = await verifyLoad({ username: 'jdoe', password: 'secretpassword', api_key: 'abc123xyz' }, 'Invalid API key', 10);

    console.log(
      `\n/verify benchmark (${process.env.BENCH_DATABASE_URL ? 'PostgreSQL' : 'embedded database'}, bcrypt cost ${cost}, 2 cores shared with the load generator)`,
    );
    console.log(
      row(
        `bare bcrypt.compare cost ${cost} x2 (raw limit)`,
        rawBcrypt,
        rawBcrypt,
        `(before ${rawBefore.toFixed(1)}, after ${rawAfter.toFixed(1)})`,
      ),
    );
    console.log(row('POST /verify authorized', authorized.rps, rawBcrypt, `p50 ${authorized.p50} ms p99 ${authorized.p99} ms`));
    console.log(row('POST /verify wrong password', wrong.rps, rawBcrypt, `p50 ${wrong.p50} ms p99 ${wrong.p99} ms`));
    console.log(row('POST /verify unknown user', unknown.rps, rawBcrypt, `p50 ${unknown.p50} ms p99 ${unknown.p99} ms`));
    console.log(row('bare connect-node unary RPC (raw limit)', bareRpc.rps, bareRpc.rps, `p50 ${bareRpc.p50} ms`));
    console.log(row('POST /verify bad API key (no hash)', badKey.rps, bareRpc.rps, `p50 ${badKey.p50} ms p99 ${badKey.p99} ms`));
  } finally {
    await servers.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
