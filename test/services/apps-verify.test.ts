// The legacy POST /verify (and AppRegistryService.Verify): every outcome with its exact ASF
// message and always HTTP 200, the check order (nothing about a user before the password is
// proven), dead keys (unknown, other kinds, rotated, deactivated, deleted apps), malformed bodies
// refused with a clear 4xx and no side effects, login protection, and audit events.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { AppRegistryService } from '../../gen/sso/appregistry/v1/app_registry_service_pb.js';
import { startTestServer, type Protocol, type TestServer } from '../support/server.js';

const ADMIN = { identifier: 'admin@example.com', secret: 'AdminPassword123!' };
const JDOE = { identifier: 'jdoe', secret: 'secretpassword' };
const MESSAGES = {
  authorized: 'Authorized',
  invalid: 'Invalid username or password',
  notAssigned: 'User not authorized for this application',
  inactive: 'User account is inactive',
  badKey: 'Invalid API key',
};

type Answer = { status: number; body: any; headers: Headers };

async function call(
  server: TestServer,
  method: string,
  path: string,
  opts: { json?: unknown; token?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await server.rest(path, { method, ...opts });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

function ok(r: Answer): any {
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

async function login(server: TestServer, body: Record<string, unknown>): Promise<any> {
  return ok(await call(server, 'POST', '/api/sso/v1/auth/login', { json: body }));
}

/** POST /verify as the seed's curl sends it. */
function verify(server: TestServer, username: string, password: string, apiKey: string): Promise<Answer> {
  return call(server, 'POST', '/verify', { json: { username, password, api_key: apiKey } });
}

/** A refusal: HTTP 200, exactly `{authorized: false, message}`. */
async function expectRefusal(server: TestServer, username: string, password: string, apiKey: string, message: string): Promise<void> {
  const r = await verify(server, username, password, apiKey);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { authorized: false, message }, `${username}: ${JSON.stringify(r.body)}`);
}

interface Setup {
  server: TestServer;
  admin: string;
  app: any;
  other: any;
}

async function setUp(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<Setup> {
  const server = await startTestServer(overrides);
  const admin = (await login(server, { ...ADMIN, register: true })).access_token;
  const app = ok(
    await call(server, 'POST', '/apps/', { token: admin, json: { name: 'OpenProject', url: 'https://openproject.nabd-co.com' } }),
  );
  const other = ok(await call(server, 'POST', '/apps/', { token: admin, json: { name: 'Wiki', url: 'https://wiki.example.com' } }));
  return { server, admin, app, other };
}

async function register(s: Setup, identifier: string, secret: string, assignTo?: number): Promise<{ id: string; number: number }> {
  const user = (await login(s.server, { identifier, secret, register: true })).user;
  if (assignTo !== undefined) ok(await call(s.server, 'POST', `/users/${user.legacy_id}/assign/${assignTo}`, { token: s.admin }));
  return { id: user.id, number: user.legacy_id };
}

describe('POST /verify outcomes', () => {
  let s: Setup;
  let jdoe: { id: string; number: number };

  before(async () => {
    s = await setUp();
    jdoe = await register(s, JDOE.identifier, JDOE.secret, s.app.id);
    // A second identifier, so the answer shows both username and e-mail (the legacy user routes
    // that set both belong to the directory; the ASF seed test goes through them).
    await s.server.app.database.dataSource.query(
      `INSERT INTO user_identifiers (user_id, type, value) VALUES ($1, 'email', 'jdoe@example.com')`,
      [jdoe.id],
    );
    const inactive = await register(s, 'sleepy', 'SleepyPassword1', s.app.id);
    await s.server.app.database.dataSource.query('UPDATE users SET is_active = false WHERE id = $1', [inactive.id]);
    await register(s, 'outsider', 'OutsiderPassword1');
  });
  after(async () => {
    await s?.server.stop();
  });

  test('authorized: HTTP 200 with the ASF user', async () => {
    const r = await verify(s.server, 'jdoe', 'secretpassword', s.app.api_key);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(Object.keys(r.body).sort(), ['authorized', 'message', 'user']);
    assert.equal(r.body.authorized, true);
    assert.equal(r.body.message, 'Authorized');
    const user = r.body.user;
    assert.deepEqual(Object.keys(user).sort(), ['created_at', 'email', 'id', 'is_active', 'is_admin', 'updated_at', 'username']);
    assert.equal(user.username, 'jdoe');
    assert.equal(user.email, 'jdoe@example.com');
    assert.equal(user.is_active, true);
    assert.equal(user.is_admin, false);
    assert.equal(user.id, jdoe.number);
    assert.equal(typeof user.id, 'number');
    assert.ok(!Number.isNaN(Date.parse(user.created_at)));
    assert.ok(!Number.isNaN(Date.parse(user.updated_at)));
  });

  test('the username may be the e-mail address, in any case', async () => {
    const r = ok(await verify(s.server, 'JDoe@Example.com', 'secretpassword', s.app.api_key));
    assert.equal(r.authorized, true);
    assert.equal(r.user.username, 'jdoe');
    assert.equal(ok(await verify(s.server, ' JDOE ', 'secretpassword', s.app.api_key)).authorized, true);
  });

  test('wrong password, unknown user: the same answer', async () => {
    await expectRefusal(s.server, 'jdoe', 'wrongpassword', s.app.api_key, MESSAGES.invalid);
    await expectRefusal(s.server, 'testuser', 'password123', s.app.api_key, MESSAGES.invalid);
    await expectRefusal(s.server, 'nobody@example.com', 'password123', s.app.api_key, MESSAGES.invalid);
    await expectRefusal(s.server, '!!! not an identifier !!!', 'password123', s.app.api_key, MESSAGES.invalid);
    await expectRefusal(s.server, 'jdoe', 'x'.repeat(100), s.app.api_key, MESSAGES.invalid);
  });

  test('inactive user: said only to whoever has the password', async () => {
    await expectRefusal(s.server, 'sleepy', 'SleepyPassword1', s.app.api_key, MESSAGES.inactive);
    await expectRefusal(s.server, 'sleepy', 'wrong-password', s.app.api_key, MESSAGES.invalid);
  });

  test('user not assigned to the app: said only to whoever has the password', async () => {
    await expectRefusal(s.server, 'outsider', 'OutsiderPassword1', s.app.api_key, MESSAGES.notAssigned);
    await expectRefusal(s.server, 'outsider', 'wrong-password', s.app.api_key, MESSAGES.invalid);
    // Assignment is per app: jdoe is assigned to OpenProject, not to the Wiki; so is the admin.
    await expectRefusal(s.server, 'jdoe', 'secretpassword', s.other.api_key, MESSAGES.notAssigned);
    await expectRefusal(s.server, ADMIN.identifier, ADMIN.secret, s.app.api_key, MESSAGES.notAssigned);
  });

  test('bad API key: checked first, before anything about the user', async () => {
    const wellFormed = 'sso_app_abcdefghijkl_' + 'A'.repeat(42) + 'A';
    const otherKind = s.app.api_key.replace('sso_app_', 'sso_agent_');
    const tampered = s.app.api_key.slice(0, -2) + (s.app.api_key.endsWith('AA') ? 'BA' : 'AA');
    for (const key of ['abc123xyz', 'YOUR_APP_API_KEY', wellFormed, otherKind, tampered, s.app.api_key + 'x', ' ' + s.app.api_key]) {
      await expectRefusal(s.server, 'jdoe', 'secretpassword', key, MESSAGES.badKey);
      await expectRefusal(s.server, 'testuser', 'password123', key, MESSAGES.badKey);
      await expectRefusal(s.server, 'sleepy', 'SleepyPassword1', key, MESSAGES.badKey);
    }
  });

  test('a rotated-away key is dead at once; the new one works', async () => {
    const app = ok(await call(s.server, 'GET', `/api/sso/v1/apps?limit=100`, { token: s.admin })).items.find(
      (a: any) => a.legacy_id === s.app.id,
    );
    const rotated = ok(await call(s.server, 'POST', `/api/sso/v1/apps/${app.id}/rotate-key`, { token: s.admin }));
    await expectRefusal(s.server, 'jdoe', 'secretpassword', s.app.api_key, MESSAGES.badKey);
    assert.equal(ok(await verify(s.server, 'jdoe', 'secretpassword', rotated.api_key)).authorized, true);
    s.app = { ...s.app, api_key: rotated.api_key, uuid: app.id };
  });

  test("a deactivated app's key is dead; reactivated, it works again", async () => {
    ok(await call(s.server, 'PATCH', `/api/sso/v1/apps/${s.app.uuid}`, { token: s.admin, json: { is_active: false } }));
    await expectRefusal(s.server, 'jdoe', 'secretpassword', s.app.api_key, MESSAGES.badKey);
    ok(await call(s.server, 'PATCH', `/api/sso/v1/apps/${s.app.uuid}`, { token: s.admin, json: { is_active: true } }));
    assert.equal(ok(await verify(s.server, 'jdoe', 'secretpassword', s.app.api_key)).authorized, true);
  });

  test("a deleted app's key is dead", async () => {
    const temp = ok(await call(s.server, 'POST', '/apps/', { token: s.admin, json: { name: 'Temp', url: '' } }));
    ok(await call(s.server, 'POST', `/users/${jdoe.number}/assign/${temp.id}`, { token: s.admin }));
    assert.equal(ok(await verify(s.server, 'jdoe', 'secretpassword', temp.api_key)).authorized, true);
    const uuid = ok(await call(s.server, 'GET', '/api/sso/v1/apps?limit=100', { token: s.admin })).items.find(
      (a: any) => a.legacy_id === temp.id,
    ).id;
    ok(await call(s.server, 'DELETE', `/api/sso/v1/apps/${uuid}`, { token: s.admin }));
    await expectRefusal(s.server, 'jdoe', 'secretpassword', temp.api_key, MESSAGES.badKey);
  });

  test('unassigning takes effect at once', async () => {
    const temp = ok(await call(s.server, 'POST', '/api/sso/v1/apps', { token: s.admin, json: { name: 'Short lived' } }));
    ok(await call(s.server, 'POST', `/api/sso/v1/apps/${temp.id}/users/${jdoe.id}`, { token: s.admin }));
    assert.equal(ok(await verify(s.server, 'jdoe', 'secretpassword', temp.api_key)).authorized, true);
    ok(await call(s.server, 'DELETE', `/api/sso/v1/apps/${temp.id}/users/${jdoe.id}`, { token: s.admin }));
    await expectRefusal(s.server, 'jdoe', 'secretpassword', temp.api_key, MESSAGES.notAssigned);
  });

  test('form data is accepted as JSON is; extra fields are ignored', async () => {
    const form = await call(s.server, 'POST', '/verify', {
      body: new URLSearchParams({ username: 'jdoe', password: 'secretpassword', api_key: s.app.api_key }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(ok(form).authorized, true);
    const extra = await call(s.server, 'POST', '/verify', {
      json: { username: 'jdoe', password: 'secretpassword', api_key: s.app.api_key, remember: true },
    });
    assert.equal(ok(extra).authorized, true);
    const camel = await call(s.server, 'POST', '/verify', {
      json: { username: 'jdoe', password: 'secretpassword', apiKey: s.app.api_key },
    });
    assert.equal(ok(camel).authorized, true);
  });

  test('malformed bodies get a clear 4xx, never a 500, and count no attempt', async () => {
    const [{ n: throttlesBefore }] = await s.server.app.database.dataSource.query('SELECT count(*)::int AS n FROM login_throttles');
    const full = { username: 'jdoe', password: 'secretpassword', api_key: s.app.api_key };
    const cases: [string, { body?: string; json?: unknown; headers?: Record<string, string> }, number, string][] = [
      ['not JSON', { body: '{"username": "jdoe", ', headers: { 'content-type': 'application/json' } }, 400, 'MALFORMED_JSON'],
      ['plain text', { body: 'username=jdoe', headers: { 'content-type': 'text/plain' } }, 415, ''],
      ['empty body', { body: '', headers: { 'content-type': 'application/json' } }, 400, 'MISSING_FIELD'],
      ['empty object', { json: {} }, 400, 'MISSING_FIELD'],
      ['no password', { json: { username: 'jdoe', api_key: s.app.api_key } }, 400, 'MISSING_FIELD'],
      ['no api_key', { json: { username: 'jdoe', password: 'secretpassword' } }, 400, 'MISSING_FIELD'],
      ['no username', { json: { password: 'secretpassword', api_key: s.app.api_key } }, 400, 'MISSING_FIELD'],
      ['number username', { json: { ...full, username: 123 } }, 400, 'INVALID_BODY'],
      ['null password', { json: { ...full, password: null } }, 400, 'MISSING_FIELD'],
      ['object password', { json: { ...full, password: { $ne: '' } } }, 400, 'INVALID_BODY'],
      ['array body', { json: [full] }, 400, 'INVALID_BODY'],
      ['string body', { json: 'jdoe' }, 400, 'INVALID_BODY'],
      ['huge username', { json: { ...full, username: 'j'.repeat(10_000) } }, 400, 'INVALID_ARGUMENT'],
      ['huge password', { json: { ...full, password: 'p'.repeat(10_000) } }, 400, 'INVALID_ARGUMENT'],
      ['huge api_key', { json: { ...full, api_key: 'k'.repeat(10_000) } }, 400, 'INVALID_ARGUMENT'],
      ['body over 1 MiB', { json: { ...full, padding: 'x'.repeat(1_100_000) } }, 413, ''],
    ];
    for (const [name, init, status, reason] of cases) {
      const r = await call(s.server, 'POST', '/verify', init);
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(typeof r.body.message, 'string', name);
      assert.ok(!('authorized' in r.body), `${name}: an error, not an answer`);
      if (reason) assert.equal(r.body.error_code, reason, `${name}: ${JSON.stringify(r.body)}`);
    }
    const [{ n: throttlesAfter }] = await s.server.app.database.dataSource.query('SELECT count(*)::int AS n FROM login_throttles');
    assert.equal(throttlesAfter, throttlesBefore, 'refused requests counted no attempt');
    assert.equal(ok(await verify(s.server, 'jdoe', 'secretpassword', s.app.api_key)).authorized, true, 'the server is fine');
  });

  test('every outcome is an audit event', async () => {
    const events = ok(await call(s.server, 'GET', '/api/sso/v1/audit-events?limit=100', { token: s.admin })).items.filter(
      (e: any) => e.type === 'verify',
    );
    const reasons = new Set(events.map((e: any) => `${e.outcome}:${e.reason}`));
    for (const expected of [
      'success:',
      'failure:INVALID_CREDENTIALS',
      'failure:USER_INACTIVE',
      'failure:APP_NOT_ASSIGNED',
      'failure:INVALID_API_KEY',
    ]) {
      assert.ok(reasons.has(expected), `${expected} in ${[...reasons].join(', ')}`);
    }
    const success = events.find((e: any) => e.outcome === 'success');
    assert.equal(success.actor_id, jdoe.id);
    assert.equal(success.identifier, 'jdoe');
    const unknown = events.find((e: any) => e.identifier === 'testuser');
    assert.equal(unknown.actor_id, '', 'an unknown user has no actor');
  });

  for (const protocol of ['connect', 'grpc'] as Protocol[]) {
    test(`AppRegistryService.Verify over ${protocol}, with no caller credentials`, async () => {
      const apps = server().client(AppRegistryService, { protocol });
      const yes = await apps.verify({ username: 'jdoe', password: 'secretpassword', apiKey: s.app.api_key });
      assert.equal(yes.authorized, true);
      assert.equal(yes.message, 'Authorized');
      assert.equal(yes.user?.username, 'jdoe');
      assert.equal(yes.user?.id, jdoe.number);
      const outcomes: [string, string, string, string][] = [
        ['jdoe', 'wrong', s.app.api_key, MESSAGES.invalid],
        ['testuser', 'password123', s.app.api_key, MESSAGES.invalid],
        ['sleepy', 'SleepyPassword1', s.app.api_key, MESSAGES.inactive],
        ['outsider', 'OutsiderPassword1', s.app.api_key, MESSAGES.notAssigned],
        ['jdoe', 'secretpassword', 'abc123xyz', MESSAGES.badKey],
      ];
      for (const [username, password, apiKey, message] of outcomes) {
        const no = await apps.verify({ username, password, apiKey });
        assert.equal(no.authorized, false);
        assert.equal(no.message, message);
        assert.equal(no.user, undefined);
      }
      await assert.rejects(
        apps.verify({ username: 'jdoe', password: '', apiKey: s.app.api_key }),
        (e: unknown) => e instanceof ConnectError && e.code === Code.InvalidArgument,
      );
    });
  }

  function server(): TestServer {
    return s.server;
  }
});

describe('POST /verify and login protection', () => {
  let s: Setup;

  before(async () => {
    s = await setUp({ loginMaxFailures: 3, loginMaxFailuresPerIp: 1000, loginLockBase: 30 });
    await register(s, 'locky', 'LockyPassword1', s.app.id);
    await register(s, 'keyless', 'KeylessPassword1', s.app.id);
  });
  after(async () => {
    await s?.server.stop();
  });

  test('bad API keys count no attempt: nobody without a key can lock a user out', async () => {
    for (let i = 0; i < 6; i++) await expectRefusal(s.server, 'keyless', 'guess' + i, 'abc123xyz', MESSAGES.badKey);
    assert.equal(ok(await verify(s.server, 'keyless', 'KeylessPassword1', s.app.api_key)).authorized, true);
  });

  test('repeated wrong passwords lock the identifier: 429 with Retry-After, even for the right password', async () => {
    for (let i = 0; i < 3; i++) await expectRefusal(s.server, 'locky', 'wrong' + i, s.app.api_key, MESSAGES.invalid);
    for (const password of ['wrong-again', 'LockyPassword1']) {
      const r = await verify(s.server, 'locky', password, s.app.api_key);
      assert.equal(r.status, 429, JSON.stringify(r.body));
      assert.equal(r.body.error_code, 'TOO_MANY_ATTEMPTS');
      assert.equal(r.body.code, 'resource_exhausted');
      assert.ok(Number(r.headers.get('retry-after')) >= 1, `Retry-After: ${r.headers.get('retry-after')}`);
    }
    // The lock is the identifier's, whatever door: the USSO login is locked too; others are not.
    const viaLogin = await call(s.server, 'POST', '/api/sso/v1/auth/login', { json: { identifier: 'locky', secret: 'LockyPassword1' } });
    assert.equal(viaLogin.status, 429);
    assert.equal(ok(await verify(s.server, 'keyless', 'KeylessPassword1', s.app.api_key)).authorized, true);
    const [locked] = await s.server.app.database.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE type = 'verify' AND outcome = 'locked' AND identifier = 'locky'`,
    );
    assert.ok(locked.n >= 2);
  });

  test('over gRPC the lock is RESOURCE_EXHAUSTED', async () => {
    const apps = s.server.client(AppRegistryService, { protocol: 'grpc' });
    await assert.rejects(
      apps.verify({ username: 'locky', password: 'LockyPassword1', apiKey: s.app.api_key }),
      (e: unknown) => e instanceof ConnectError && e.code === Code.ResourceExhausted,
    );
  });
});
