// Issue 9, finding 10: `{"identifier": X, "secret": "x", "register": true}` told who exists
// (401 after a bcrypt for a known X, an instant 400 WEAK_PASSWORD for a new one, uncounted; with
// registration off, 401 vs 403; through an app's audience, 401 vs 403). Now a known and an
// unknown identifier get the same status, the same body and the same cost, over REST and RPC:
// - registration on: the password policy is checked before any lookup (the same 400 for both);
// - registration off, or an app's audience: `register` is ignored, so the call is a login (the
//   same 401 after one bcrypt, counted by the lockout for both).
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { PasswordHasher } from '../../src/auth/passwords.js';
import { insertUser } from '../../src/db/repositories/users.js';
import { startTestServer, type TestServer } from '../support/server.js';

const ADMIN = { identifier: 'admin@example.com', secret: 'AdminPassword123!' };
const KNOWN = { identifier: 'known@example.com', secret: 'KnownPassword123!' };
const WEAK = 'x';
const STRONG_WRONG = 'Not-the-password-1';

interface Answer {
  status: number;
  body: unknown;
  ms: number;
}

async function restLogin(server: TestServer, json: Record<string, unknown>): Promise<Answer> {
  const started = performance.now();
  const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json });
  const body = await res.json();
  return { status: res.status, body, ms: performance.now() - started };
}

/** The same call over gRPC: the status code, the reason and the message are what a caller sees. */
async function grpcLogin(
  server: TestServer,
  req: { identifier: string; secret: string; register?: boolean; audience?: string },
): Promise<string> {
  try {
    await server.client(AuthService, { protocol: 'grpc' }).login(req);
    return 'OK';
  } catch (e) {
    assert.ok(e instanceof ConnectError, String(e));
    return `${Code[e.code]}|${e.findDetails(ErrorInfoSchema)[0]?.reason}|${e.rawMessage}`;
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function userCount(server: TestServer): Promise<number> {
  return (await server.app.database.dataSource.query('SELECT count(*)::int AS n FROM users'))[0].n;
}

/**
 * Medians of `tries` interleaved calls for a known and for fresh unknown identifiers. Fresh
 * identifiers each time, so neither the name's count nor a cache helps the unknown side.
 */
async function timings(
  tries: number,
  known: () => Promise<Answer>,
  unknown: (i: number) => Promise<Answer>,
): Promise<{ k: number; u: number }> {
  await known();
  await unknown(-1);
  const k: number[] = [];
  const u: number[] = [];
  for (let i = 0; i < tries; i++) {
    k.push((await known()).ms);
    u.push((await unknown(i)).ms);
  }
  return { k: median(k), u: median(u) };
}

describe('registration open: a weak password is refused before anything is looked up', () => {
  let server: TestServer;
  let appAudience: string;
  before(async () => {
    // bcrypt cost 8 so that a hash is measurable; limits out of the way of the timing loop.
    server = await startTestServer({ bcryptCost: 8, loginMaxFailures: 1000, loginMaxFailuresPerIp: 100_000 });
    const admin = await restLogin(server, { ...ADMIN, register: true });
    assert.equal(admin.status, 200);
    assert.equal((await restLogin(server, { ...KNOWN, register: true })).status, 200);
    const token = (admin.body as any).access_token;
    const app = await server.rest('/api/sso/v1/apps', { method: 'POST', token, json: { name: 'Other', audience: 'other-app' } });
    assert.equal(app.status, 200);
    appAudience = 'other-app';
  });
  after(async () => {
    await server?.stop();
  });

  test('over REST: the same 400 WEAK_PASSWORD body for a known and an unknown identifier; nothing created', async () => {
    const users = await userCount(server);
    const known = await restLogin(server, { identifier: KNOWN.identifier, secret: WEAK, register: true });
    const unknown = await restLogin(server, { identifier: 'newcomer@example.com', secret: WEAK, register: true });
    assert.equal(known.status, 400);
    assert.equal((known.body as any).error_code, 'WEAK_PASSWORD');
    assert.equal(unknown.status, known.status);
    assert.deepEqual(unknown.body, known.body);
    assert.equal(await userCount(server), users);
  });

  test('over gRPC: the same InvalidArgument WEAK_PASSWORD for both', async () => {
    const known = await grpcLogin(server, { identifier: KNOWN.identifier, secret: WEAK, register: true });
    const unknown = await grpcLogin(server, { identifier: 'newcomer@example.com', secret: WEAK, register: true });
    assert.match(known, /^InvalidArgument\|WEAK_PASSWORD\|/);
    assert.equal(unknown, known);
  });

  test('a strong password for a known identifier is a wrong password (401), not a registration', async () => {
    const users = await userCount(server);
    const reg = await restLogin(server, { identifier: KNOWN.identifier, secret: STRONG_WRONG, register: true });
    const plain = await restLogin(server, { identifier: 'ghost@example.com', secret: STRONG_WRONG });
    assert.equal(reg.status, 401);
    assert.deepEqual(reg.body, plain.body);
    assert.equal(await userCount(server), users);
  });

  test("through an app's audience, register: true is a login: the same 401 for both, over REST and gRPC", async () => {
    const users = await userCount(server);
    const known = await restLogin(server, { identifier: KNOWN.identifier, secret: STRONG_WRONG, register: true, audience: appAudience });
    const unknown = await restLogin(server, {
      identifier: 'newcomer@example.com',
      secret: STRONG_WRONG,
      register: true,
      audience: appAudience,
    });
    assert.equal(known.status, 401);
    assert.equal(unknown.status, known.status);
    assert.deepEqual(unknown.body, known.body);
    const g = await grpcLogin(server, { identifier: KNOWN.identifier, secret: STRONG_WRONG, register: true, audience: appAudience });
    assert.match(g, /^Unauthenticated\|INVALID_CREDENTIALS\|/);
    assert.equal(
      await grpcLogin(server, { identifier: 'newcomer@example.com', secret: STRONG_WRONG, register: true, audience: appAudience }),
      g,
    );
    assert.equal(await userCount(server), users);
  });

  test('timing: a weak-password probe costs no bcrypt for either (medians of 9, interleaved)', async () => {
    const { k, u } = await timings(
      9,
      () => restLogin(server, { identifier: KNOWN.identifier, secret: WEAK, register: true }),
      (i) => restLogin(server, { identifier: `weak${i}@example.com`, secret: WEAK, register: true }),
    );
    // What one bcrypt costs here, measured the same way (a wrong password, an unknown name).
    const { k: wrong } = await timings(
      5,
      () => restLogin(server, { identifier: KNOWN.identifier, secret: STRONG_WRONG }),
      (i) => restLogin(server, { identifier: `ref${i}@example.com`, secret: STRONG_WRONG }),
    );
    assert.ok(wrong > 5, `bcrypt at cost 8 takes measurable time (${wrong.toFixed(1)} ms)`);
    // Before the fix a known identifier paid a bcrypt here and an unknown one did not.
    assert.ok(k < wrong / 2 && u < wrong / 2, `known ${k.toFixed(1)} ms, unknown ${u.toFixed(1)} ms, one bcrypt ${wrong.toFixed(1)} ms`);
  });
});

describe('registration off: register: true is a login', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      allowRegistration: false,
      bcryptCost: 8,
      loginMaxFailures: 4,
      loginMaxFailuresPerIp: 100_000,
      loginLockBase: 60,
    });
    // Nobody can register here: the known user is put in the directory directly.
    const passwordHash = await new PasswordHasher(8).hash(KNOWN.secret);
    await server.app.database.dataSource.transaction((tx) =>
      insertUser(tx, { identifiers: [{ type: 'email', value: KNOWN.identifier }], passwordHash, bootstrapAdmin: false }),
    );
  });
  after(async () => {
    await server?.stop();
  });

  test('over REST and gRPC: the same 401 for a known and an unknown identifier, weak or strong password; nothing created', async () => {
    const users = await userCount(server);
    for (const secret of [STRONG_WRONG, WEAK]) {
      const known = await restLogin(server, { identifier: KNOWN.identifier, secret, register: true });
      const unknown = await restLogin(server, { identifier: `new-${secret.length}@example.com`, secret, register: true });
      assert.equal(known.status, 401, JSON.stringify(known.body));
      assert.equal((known.body as any).error_code, 'INVALID_CREDENTIALS');
      assert.equal(unknown.status, known.status);
      assert.deepEqual(unknown.body, known.body);
    }
    const g = await grpcLogin(server, { identifier: KNOWN.identifier, secret: STRONG_WRONG, register: true });
    assert.match(g, /^Unauthenticated\|INVALID_CREDENTIALS\|/);
    assert.equal(await grpcLogin(server, { identifier: 'new-grpc@example.com', secret: STRONG_WRONG, register: true }), g);
    assert.equal(await userCount(server), users);
    // The known user's count is lifted for the tests below.
    assert.equal((await restLogin(server, KNOWN)).status, 200);
  });

  test('probes are counted like guesses: a known and an unknown identifier both lock after 4', async () => {
    for (const identifier of [KNOWN.identifier, 'counted@example.com']) {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await restLogin(server, { identifier, secret: STRONG_WRONG, register: true })).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 429], identifier);
    }
  });

  test('timing: a known and an unknown identifier cost one bcrypt each (medians of 9, ratio within 0.5..2)', async () => {
    const rest = await startTestServer({ allowRegistration: false, bcryptCost: 8, loginMaxFailures: 1000, loginMaxFailuresPerIp: 100_000 });
    try {
      const passwordHash = await new PasswordHasher(8).hash(KNOWN.secret);
      await rest.app.database.dataSource.transaction((tx) =>
        insertUser(tx, { identifiers: [{ type: 'email', value: KNOWN.identifier }], passwordHash, bootstrapAdmin: false }),
      );
      const { k, u } = await timings(
        9,
        () => restLogin(rest, { identifier: KNOWN.identifier, secret: STRONG_WRONG, register: true }),
        (i) => restLogin(rest, { identifier: `probe${i}@example.com`, secret: STRONG_WRONG, register: true }),
      );
      assert.ok(k > 5, `bcrypt at cost 8 takes measurable time (${k.toFixed(1)} ms)`);
      const ratio = u / k;
      // Before the fix the unknown side answered 403 without a bcrypt: a fraction of the time.
      assert.ok(ratio >= 0.5 && ratio <= 2, `unknown ${u.toFixed(1)} ms / known ${k.toFixed(1)} ms = ${ratio.toFixed(2)}`);
    } finally {
      await rest.stop();
    }
  });
});
