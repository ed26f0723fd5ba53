import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

const identifier = 'metrics-admin@example.com';
const secret = 'metrics-password-1';
/** What Prometheus sends (`authorization: {credentials: ...}` in its scrape config). */
const metricsToken = 'prometheus-scrape-token-0123456789abcdef';

let server: TestServer;
let token: string;

before(async () => {
  server = await startTestServer({ metricsToken });
  const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier, secret, register: true } });
  assert.equal(res.status, 200, await res.clone().text());
  token = ((await res.json()) as { access_token: string }).access_token;
});

after(async () => {
  await server?.stop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Scrapes /metrics and parses Prometheus' text format (one sample a line; # lines are metadata). */
async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { text, samples };
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

const getMe = { service: 'sso.auth.v1.AuthService', method: 'GetMe' };

test('calls are counted by service, method, protocol and code, with their latency', async () => {
  const before = (await scrape()).samples;
  for (let i = 0; i < 2; i++) await server.client(AuthService, { protocol: 'connect', token }).getMe({});
  for (let i = 0; i < 3; i++) await server.client(AuthService, { protocol: 'grpc', token }).getMe({});
  await server.client(AuthService, { protocol: 'grpc-web', token }).getMe({});
  for (let i = 0; i < 4; i++) assert.equal((await server.rest('/api/sso/v1/me', { token })).status, 200);
  assert.equal((await server.rest('/api/sso/v1/me')).status, 401);
  await assert.rejects(server.client(AuthService, { protocol: 'grpc' }).getMe({}));

  const { samples } = await scrape();
  const delta = (labels: Record<string, string>) =>
    (value(samples, 'sso_rpc_calls_total', labels) ?? 0) - (value(before, 'sso_rpc_calls_total', labels) ?? 0);
  assert.equal(delta({ ...getMe, protocol: 'connect', code: 'ok' }), 2);
  assert.equal(delta({ ...getMe, protocol: 'grpc', code: 'ok' }), 3);
  assert.equal(delta({ ...getMe, protocol: 'grpc-web', code: 'ok' }), 1);
  assert.equal(delta({ ...getMe, protocol: 'rest', code: 'ok' }), 4);
  // Codes as Connect and the REST error bodies spell them.
  assert.equal(delta({ ...getMe, protocol: 'rest', code: 'unauthenticated' }), 1);
  assert.equal(delta({ ...getMe, protocol: 'grpc', code: 'unauthenticated' }), 1);

  // The latency histogram: buckets, sum and count per label set; +Inf counts every call.
  const labels = { ...getMe, protocol: 'grpc', code: 'ok' };
  const count = value(samples, 'sso_rpc_duration_seconds_count', labels);
  assert.equal(count, value(samples, 'sso_rpc_calls_total', labels));
  assert.equal(value(samples, 'sso_rpc_duration_seconds_bucket', { ...labels, le: '+Inf' }), count);
  const sum = value(samples, 'sso_rpc_duration_seconds_sum', labels)!;
  assert.ok(sum > 0 && sum < 30, `latency sum ${sum}`);
  const buckets = samples.filter(
    (s) => s.name === 'sso_rpc_duration_seconds_bucket' && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  assert.ok(buckets.length >= 5, 'several buckets');
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, 'buckets are cumulative');
});

test('logins and their failures are counted', async () => {
  const before = (await scrape()).samples;
  const failed = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier, secret: 'wrong-password' } });
  assert.equal(failed.status, 401);
  const failedOverGrpc = server.client(AuthService, { protocol: 'grpc' }).login({ identifier, secret: 'wrong-again' });
  await assert.rejects(failedOverGrpc);
  const ok = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier, secret } });
  assert.equal(ok.status, 200);

  const { samples } = await scrape();
  const delta = (labels: Record<string, string>) =>
    (value(samples, 'sso_auth_events_total', labels) ?? 0) - (value(before, 'sso_auth_events_total', labels) ?? 0);
  assert.equal(delta({ type: 'login', outcome: 'failure' }), 2);
  assert.equal(delta({ type: 'login', outcome: 'success' }), 1);
  // The registration in before() counts too.
  assert.ok((value(samples, 'sso_auth_events_total', { type: 'register', outcome: 'success' }) ?? 0) >= 1);
  const rpc = (labels: Record<string, string>) =>
    (value(samples, 'sso_rpc_calls_total', labels) ?? 0) - (value(before, 'sso_rpc_calls_total', labels) ?? 0);
  assert.equal(rpc({ service: 'sso.auth.v1.AuthService', method: 'Login', protocol: 'rest', code: 'unauthenticated' }), 1);
  assert.equal(rpc({ service: 'sso.auth.v1.AuthService', method: 'Login', protocol: 'grpc', code: 'unauthenticated' }), 1);
});

test('active sessions are the live sessions in the database', async () => {
  const live = async () => {
    const rows: { n: number }[] = await server.app.database.dataSource.query(
      'SELECT count(*)::int AS n FROM sessions WHERE revoked_at IS NULL AND expires_at > now()',
    );
    return rows[0]!.n;
  };
  const gauge = async () => value((await scrape()).samples, 'sso_active_sessions', {});
  const start = await live();
  assert.ok(start >= 1);
  assert.equal(await gauge(), start);

  const tokens: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier, secret } });
    tokens.push(((await res.json()) as { access_token: string }).access_token);
  }
  assert.equal(await gauge(), start + 3);
  assert.equal((await server.rest('/api/sso/v1/auth/logout', { method: 'POST', token: tokens[0] })).status, 200);
  // An expired session is not live either.
  await server.app.database.dataSource.query(
    "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = (SELECT id FROM sessions WHERE revoked_at IS NULL ORDER BY created_at DESC LIMIT 1)",
  );
  assert.equal(await gauge(), start + 1);
  assert.equal(await live(), start + 1);
});

test('process metrics are there, and only GET answers', async () => {
  const { text } = await scrape();
  assert.match(text, /^sso_process_cpu_seconds_total /m);
  assert.match(text, /^# TYPE sso_rpc_duration_seconds histogram$/m);
  assert.equal((await fetch(`${server.url}/metrics`, { method: 'POST' })).status, 404);
  assert.equal(
    (await fetch(`${server.url}/metrics`, { method: 'POST', headers: { authorization: `Bearer ${metricsToken}` } })).status,
    404,
  );
});

/** A refusal that gives nothing away: 401, a Bearer challenge, the catalog's reason, no samples. */
async function assertRefused(res: Response, why: string): Promise<void> {
  assert.equal(res.status, 401, why);
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="metrics"/, why);
  const text = await res.text();
  assert.equal(JSON.parse(text).error_code, 'METRICS_TOKEN_REQUIRED', why);
  assert.doesNotMatch(text, /sso_/, why);
}

test('without the metrics token /metrics is refused on the public port (it was public)', async () => {
  const url = `${server.url}/metrics`;
  await assertRefused(await fetch(url), 'no credentials');
  await assertRefused(await fetch(url, { headers: { authorization: 'Bearer wrong-token' } }), 'a wrong token');
  await assertRefused(await fetch(url, { headers: { authorization: `Bearer ${metricsToken}x` } }), 'the token plus a character');
  await assertRefused(
    await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`x:${metricsToken}`).toString('base64')}` } }),
    'basic auth',
  );
  await assertRefused(await fetch(`${url}?token=${metricsToken}`), 'the token in the query');
  // A user's access token, even an administrator's, is not the metrics token.
  await assertRefused(await fetch(url, { headers: { authorization: `Bearer ${token}` } }), "a user's access token");
  const ok = await fetch(url, { headers: { authorization: `bearer ${metricsToken}` } });
  assert.equal(ok.status, 200, 'the scheme is case-insensitive');
});

test('with neither a token nor a metrics address, /metrics is not served (404)', async () => {
  const bare = await startTestServer();
  try {
    const res = await fetch(`${bare.url}/metrics`);
    assert.equal(res.status, 404);
    assert.doesNotMatch(await res.text(), /sso_/);
    assert.equal(bare.app.metricsUrl, undefined);
  } finally {
    await bare.stop();
  }
});

test('with a metrics address, metrics are served there only; the token, if set, is asked there too', async () => {
  const open = await startTestServer({ metricsAddress: { host: '127.0.0.1', port: 0 } });
  try {
    assert.equal((await fetch(`${open.url}/metrics`)).status, 404, 'not on the public port');
    const metricsUrl = open.app.metricsUrl!;
    assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.notEqual(new URL(metricsUrl).port, String(open.app.port));
    const res = await fetch(metricsUrl);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^sso_process_cpu_seconds_total /m);
    // Only /metrics: the API is not reachable through the metrics address.
    assert.equal((await fetch(new URL('/api/sso/v1/me', metricsUrl))).status, 404);
    assert.equal((await fetch(new URL('/.well-known/jwks.json', metricsUrl))).status, 404);
  } finally {
    await open.stop();
  }
  const both = await startTestServer({ metricsAddress: { host: '127.0.0.1', port: 0 }, metricsToken });
  try {
    assert.equal(
      (await fetch(`${both.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).status,
      404,
      'the token does not reopen the public port',
    );
    await assertRefused(await fetch(both.app.metricsUrl!), 'no token on the metrics address');
    assert.equal((await fetch(both.app.metricsUrl!, { headers: { authorization: `Bearer ${metricsToken}` } })).status, 200);
  } finally {
    await both.stop();
  }
});
