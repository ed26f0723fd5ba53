/**
 * `npm run bench:oidc`: requests per second of the OpenID Connect back channel, each next to the
 * raw limits it is bounded by, measured in the same run on the same machine:
 *   - POST /oauth/token grant_type=authorization_code (a confidential client, client_secret_basic,
 *     PKCE S256, scopes openid email profile: an access token and an ID token) vs a bare
 *     connect-node unary call, and vs signing the two tokens alone (jose, the server's algorithm,
 *     2 at a time: the machine's 2 cores);
 *   - POST /oauth/introspect of a live access token (client_secret_basic) vs the bare call, and vs
 *     verifying the token's signature alone (jose, 2 at a time);
 *   - both vs GET /readyz (an HTTP round trip and one `SELECT 1` in the server): the exchange makes
 *     about nine statements (client, code, SSO session, user, assignment, new session, binding,
 *     audit), introspection three (client, session, user), so the database is their floor.
 * Each code is single-use, so codes are minted before each run the way the authorization endpoint
 * mints them (issueCode on the server's own database, through bench/oidc-server.ts's side
 * listener), and each request takes the next one: the runs measure the exchange alone.
 * The server runs in its own process on the embedded database (or BENCH_DATABASE_URL).
 * BENCH_SECONDS sets each run's length (default 5).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { measure, opsPerSecond, postJson, row, startProcess, stopProcess, tempDir } from './lib.js';

const port = 19400 + Math.floor(Math.random() * 500);
const barePort = port + 1;
const mintPort = port + 2;
const base = `http://127.0.0.1:${port}`;
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const redirectUri = 'https://rp.example/callback';
const scopes = ['openid', 'email', 'profile'];
const json = { 'content-type': 'application/json' };

const post = (path: string, body: unknown, token?: string) => postJson(base, path, body, token);

async function mint(count: number, grant: { clientId: string; userId: string; challenge: string }): Promise<string[]> {
  const codes: string[] = [];
  while (codes.length < count) {
    const batch = Math.min(500, count - codes.length);
    const res = await fetch(`http://127.0.0.1:${mintPort}/mint`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ ...grant, redirectUri, scopes, count: batch }),
    });
    if (!res.ok) throw new Error(`mint: ${res.status} ${await res.text()}`);
    codes.push(...((await res.json()) as { codes: string[] }).codes);
  }
  return codes;
}

/** One run of code exchanges, each request taking the next code of `pool`. */
function exchangeLoad(pool: string[], basic: string, verifier: string, runSeconds: number) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic };
  return measure({
    url: `${base}/oauth/token`,
    method: 'POST',
    headers,
    seconds: runSeconds,
    requests: [
      {
        method: 'POST',
        headers,
        setupRequest: (req: any) => ({
          ...req,
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: pool.pop() ?? 'pool-exhausted',
            redirect_uri: redirectUri,
            code_verifier: verifier,
          }).toString(),
        }),
      },
    ] as any,
  });
}

async function main(): Promise<void> {
  const server = await startProcess(
    'bench/oidc-server.ts',
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      MINT_PORT: String(mintPort),
      SSO_DATA_DIR: tempDir(),
      SSO_BCRYPT_COST: '4',
      SSO_ISSUER: base,
      ...(process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}),
    },
    `${base}/readyz`,
  );
  const bare = await startProcess('bench/bare-server.ts', { PORT: String(barePort) }, `http://127.0.0.1:${barePort}/`);
  try {
    const admin = (
      await post('/api/sso/v1/auth/login', { identifier: 'admin@example.com', secret: 'bench-admin-password', register: true })
    ).access_token as string;
    const app = await post('/api/sso/v1/apps', { name: 'Bench RP', redirect_uris: [redirectUri], client_type: 'confidential' }, admin);
    const clientId = app.client_id as string;
    const clientSecret = app.client_secret as string;
    if (!clientId || !clientSecret) throw new Error(`POST /api/sso/v1/apps answered no client_id/client_secret: ${JSON.stringify(app)}`);
    const user = (await post('/api/sso/v1/auth/login', { identifier: 'jdoe@example.com', secret: 'bench-user-password', register: true }))
      .user;
    await post(`/api/sso/v1/apps/${app.id}/users/${user.id}`, {}, admin);
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
    const verifier = randomBytes(32).toString('base64url');
    const grant = { clientId, userId: user.id as string, challenge: createHash('sha256').update(verifier).digest('base64url') };

    const bareRpc = await measure({
      url: `http://127.0.0.1:${barePort}/sso.auth.v1.AuthService/GetMe`,
      method: 'POST',
      headers: json,
      body: '{}',
    });
    // The database's floor: one HTTP round trip and one `SELECT 1` in the server.
    const readyz = await measure({ url: `${base}/readyz` });

    // A short run sizes the pool (codes live 60 s, so they are minted just before the run that uses them).
    const calibration = await exchangeLoad(await mint(1500, grant), basic, verifier, 1);
    const pool = await mint(Math.ceil(calibration.rps * seconds * 2.5) + 500, grant);
    const exchange = await exchangeLoad(pool, basic, verifier, seconds);

    const one = await mint(1, grant);
    const issued = (await (
      await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: one[0]!, redirect_uri: redirectUri, code_verifier: verifier }),
      })
    ).json()) as { access_token: string; id_token: string };
    let inactive = 0;
    const introspectHeaders = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic };
    const introspectBody = new URLSearchParams({ token: issued.access_token }).toString();
    const introspect = await measure({
      url: `${base}/oauth/introspect`,
      method: 'POST',
      headers: introspectHeaders,
      body: introspectBody,
      requests: [
        {
          method: 'POST',
          headers: introspectHeaders,
          body: introspectBody,
          onResponse: (_status: number, text: string) => {
            if (JSON.parse(text).active !== true) inactive++;
          },
        },
      ] as any,
    });
    if (inactive > 0) throw new Error(`introspection answered inactive ${inactive} times`);

    // The cryptography each call cannot avoid, alone: the exchange signs two tokens, introspection
    // verifies one signature. Same algorithm as the server's key.
    const alg = JSON.parse(Buffer.from(issued.access_token.split('.')[0]!, 'base64url').toString()).alg as 'ES256' | 'RS256' | 'EdDSA';
    const { privateKey, publicKey } = await generateKeyPair(alg);
    const claims = { sub: user.id as string, aud: 'bench-rp', sid: crypto.randomUUID(), email: 'jdoe@example.com' };
    const sign = () =>
      new SignJWT(claims).setProtectedHeader({ alg, kid: 'k' }).setIssuer(base).setIssuedAt().setExpirationTime('15m').sign(privateKey);
    const rawSign = await opsPerSecond(() => Promise.all([sign(), sign()]), 2, 4);
    const local = await sign();
    const rawVerify = await opsPerSecond(() => jwtVerify(local, publicKey, { issuer: base, audience: 'bench-rp' }), 2, 4);
    // The access token is what a relying party verifies offline (a sanity check, not measured).
    const jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
    await jwtVerify(issued.access_token, jwks, { issuer: base });

    console.log(
      `\nOpenID Connect back-channel benchmark (${process.env.BENCH_DATABASE_URL ? 'PostgreSQL' : 'embedded database'}, ${alg}, 2 cores shared with the load generator)`,
    );
    console.log(row('bare connect-node unary RPC (raw limit)', bareRpc.rps, bareRpc.rps, `p50 ${bareRpc.p50} ms`));
    console.log(row('GET /readyz: HTTP + one SELECT 1 (raw limit)', readyz.rps, readyz.rps, `p50 ${readyz.p50} ms`));
    console.log(row(`bare jose sign ${alg} x2 (raw limit)`, rawSign, rawSign));
    console.log(row(`bare jose verify ${alg} (raw limit)`, rawVerify, rawVerify));
    console.log(row('POST /oauth/token authorization_code', exchange.rps, bareRpc.rps, `p50 ${exchange.p50} ms p99 ${exchange.p99} ms`));
    console.log(row('  ... vs one database round trip', exchange.rps, readyz.rps));
    console.log(row('  ... vs signing its two tokens alone', exchange.rps, rawSign));
    console.log(
      row('POST /oauth/introspect (active token)', introspect.rps, bareRpc.rps, `p50 ${introspect.p50} ms p99 ${introspect.p99} ms`),
    );
    console.log(row('  ... vs one database round trip', introspect.rps, readyz.rps));
    console.log(row('  ... vs verifying its signature alone', introspect.rps, rawVerify));
  } finally {
    await Promise.all([stopProcess(server), stopProcess(bare)]);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
