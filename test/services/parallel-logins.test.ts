// Parallel logins of one name with the right password (a service signing in from many workers, a
// load test) all pass: each attempt is counted before its password is checked, so without more,
// the first five in flight reached the limit together and locked out the rest (40 parallel logins
// got 35 429s). A lock set while checks are in flight is now waited out, and one success lifts
// it. Guesses in parallel still get no more checks than the limit. At the login over REST, gRPC
// and Connect, at the legacy POST /verify, and across two instances on one database.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import type { Protocol, TestServer } from '../support/server.js';
import { startTwoInstances } from '../support/two-instances.js';

const LIMIT = 5;
const PARALLEL = 40;

let stop: (() => Promise<void>) | undefined;
let a: TestServer;
let b: TestServer;
let admin: string;
let appKey: string;

async function post(server: TestServer, path: string, json: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await server.rest(path, { method: 'POST', json, token });
  return { status: res.status, body: await res.json() };
}

async function account(name: string): Promise<{ id: string; identifier: string; password: string }> {
  const password = `${name}-Password-1`;
  const created = await post(a, '/api/sso/v1/users', { identifiers: [{ identifier: `${name}@example.com` }], password }, admin);
  assert.equal(created.status, 200, JSON.stringify(created.body));
  assert.equal((await post(a, `/users/${created.body.legacy_id}/assign/1`, {}, admin)).status, 200);
  return { id: created.body.id, identifier: `${name}@example.com`, password };
}

async function rpcLogin(server: TestServer, protocol: Protocol, identifier: string, secret: string): Promise<string> {
  try {
    await server.client(AuthService, { protocol }).login({ identifier, secret });
    return '200';
  } catch (e) {
    assert.ok(e instanceof ConnectError, String(e));
    return e.code === Code.Unauthenticated ? '401' : e.code === Code.ResourceExhausted ? '429' : Code[e.code];
  }
}

/** One login over REST, gRPC or Connect (by `i`), as an HTTP status. */
async function login(server: TestServer, i: number, identifier: string, secret: string): Promise<string> {
  if (i % 3 === 1) return rpcLogin(server, 'grpc', identifier, secret);
  if (i % 3 === 2) return rpcLogin(server, 'connect', identifier, secret);
  return String((await post(server, '/api/sso/v1/auth/login', { identifier, secret })).status);
}

async function throttles(userId: string, identifier: string): Promise<{ failures: number; inflight: number }[]> {
  return a.app.database.dataSource.query('SELECT failures, inflight FROM login_throttles WHERE key = ANY($1::text[]) ORDER BY key', [
    [`user:${userId}`, `id:${identifier}`],
  ]);
}

const passwordsChecked = async (userId: string): Promise<number> =>
  (
    await a.app.database.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE actor_id = $1 AND outcome = 'failure' AND detail->>'reason' = 'INVALID_CREDENTIALS'`,
      [userId],
    )
  )[0].n;

before(async () => {
  // The default per-address limit (50) stays: every call comes from 127.0.0.1, as a service's would.
  ({ a, b, stop } = await startTwoInstances({ loginMaxFailures: LIMIT, loginLockBase: 60 }));
  admin = (await post(a, '/api/sso/v1/auth/login', { identifier: 'admin@example.com', secret: 'AdminPassword123!', register: true })).body
    .access_token;
  appKey = (await post(a, '/apps/', { name: 'Legacy', url: '' }, admin)).body.api_key;
  assert.ok(appKey);
});

after(async () => {
  await stop?.();
});

describe(`${PARALLEL} parallel attempts on one name (limit ${LIMIT})`, { timeout: 120_000 }, () => {
  test('logins with the right password over REST, gRPC and Connect: every one passes', async () => {
    const u = await account('service');
    const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => login(a, i, u.identifier, u.password)));
    assert.deepEqual(results, Array(PARALLEL).fill('200'));
    assert.deepEqual(await throttles(u.id, u.identifier), [
      { failures: 0, inflight: 0 },
      { failures: 0, inflight: 0 },
    ]);
  });

  test('legacy POST /verify with the right password: every one is authorized', async () => {
    const u = await account('verifier');
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        const r = await post(a, '/verify', { username: u.identifier, password: u.password, api_key: appKey });
        return `${r.status} ${r.body.authorized}`;
      }),
    );
    assert.deepEqual(results, Array(PARALLEL).fill('200 true'));
  });

  test('logins split over two instances on one database: every one passes', async () => {
    const u = await account('spread');
    const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => login(i % 2 ? b : a, i, u.identifier, u.password)));
    assert.deepEqual(results, Array(PARALLEL).fill('200'));
    assert.deepEqual(await throttles(u.id, u.identifier), [
      { failures: 0, inflight: 0 },
      { failures: 0, inflight: 0 },
    ]);
  });

  test('wrong guesses, on both instances: at most the limit are checked, the rest refused; then the right password is refused too', async () => {
    const u = await account('target');
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) => login(i % 2 ? b : a, i, u.identifier, `Wrong-guess-${i}`)),
    );
    assert.ok(
      results.every((r) => r === '401' || r === '429'),
      results.join(','),
    );
    const checked = await passwordsChecked(u.id);
    assert.ok(checked >= 1 && checked <= LIMIT, `${checked} passwords checked`);
    assert.equal(await login(a, 0, u.identifier, u.password), '429');
    const [user, name] = await throttles(u.id, u.identifier);
    assert.equal(user?.inflight, 0, 'every check ended');
    assert.equal(name?.inflight, 0, 'every check ended');
  });
});
