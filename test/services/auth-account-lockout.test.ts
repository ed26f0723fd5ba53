// Issue 9, finding 9: lockout counted per login name let one account with several names
// (e-mail, username, phone, phone without "+") take the limit once per name. Guesses spread over
// an account's names, at every door that checks a password (login over REST, Connect and gRPC,
// the legacy POST /token and POST /verify), now stop at the limit: after it no password of that
// account is checked, the right one included. The account's lock is not told: a name of a locked
// account answers exactly as an unknown name does (401, then 429 after the name's own limit), so
// the lock does not tell which names belong together. A success by any name lifts the count.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { startTestServer, type Protocol, type TestServer } from '../support/server.js';

const LIMIT = 5;
const ADMIN = { identifier: 'admin@example.com', secret: 'AdminPassword123!' };

interface Answer {
  status: number;
  body: any;
}

describe(`per-account lockout (loginMaxFailures ${LIMIT})`, () => {
  let server: TestServer;
  let admin: string;
  let apiKey: string;

  async function post(path: string, json: unknown, token?: string): Promise<Answer> {
    const res = await server.rest(path, { method: 'POST', json, token });
    return { status: res.status, body: await res.json() };
  }

  async function form(path: string, fields: Record<string, string>): Promise<Answer> {
    const res = await server.rest(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    return { status: res.status, body: await res.json() };
  }

  /** An account with an e-mail address, a username and a phone number, assigned to the legacy app. */
  async function account(
    name: string,
    phone: string,
  ): Promise<{ id: string; password: string; email: string; username: string; phone: string }> {
    const password = `${name}-Password-1`;
    const created = await post(
      '/api/sso/v1/users',
      {
        identifiers: [{ identifier: `${name}@example.com` }, { identifier: name }, { type: 'phone', identifier: phone }],
        password,
      },
      admin,
    );
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal((await post(`/users/${created.body.legacy_id}/assign/1`, {}, admin)).status, 200);
    const stored = created.body.identifiers.find((i: any) => i.type === 'phone').identifier;
    assert.match(stored, /^\+\d+$/);
    return { id: created.body.id, password, email: `${name}@example.com`, username: name, phone: stored };
  }

  const login = (identifier: string, secret: string) => post('/api/sso/v1/auth/login', { identifier, secret });
  const token = (username: string, password: string) => form('/token', { username, password });
  const verify = (username: string, password: string) => post('/verify', { username, password, api_key: apiKey });

  async function rpcLogin(protocol: Protocol, identifier: string, secret: string): Promise<string> {
    try {
      await server.client(AuthService, { protocol }).login({ identifier, secret });
      return 'OK';
    } catch (e) {
      assert.ok(e instanceof ConnectError, String(e));
      return `${Code[e.code]}:${e.findDetails(ErrorInfoSchema)[0]?.reason}`;
    }
  }

  /** The name keys' counts: none of them reached the limit, so a lock is the account's. */
  async function nameFailures(...names: string[]): Promise<number[]> {
    const rows = await server.app.database.dataSource.query('SELECT failures FROM login_throttles WHERE key = ANY($1::text[])', [
      names.map((n) => `id:${n}`),
    ]);
    return rows.map((r: any) => r.failures);
  }

  /** Passwords of the account actually checked (failures), and attempts refused by its lock. */
  async function audited(userId: string): Promise<{ checked: number; refused: number }> {
    const [r] = await server.app.database.dataSource.query(
      `SELECT count(*) FILTER (WHERE outcome = 'failure' AND detail->>'reason' = 'INVALID_CREDENTIALS')::int AS checked,
              count(*) FILTER (WHERE outcome = 'locked' AND detail->>'reason' = 'ACCOUNT_LOCKED')::int AS refused
         FROM audit_events WHERE actor_id = $1`,
      [userId],
    );
    return r;
  }

  before(async () => {
    // The per-address limit is out of the way: this is about one account, not one address.
    server = await startTestServer({ loginMaxFailures: LIMIT, loginMaxFailuresPerIp: 10_000, loginLockBase: 60 });
    admin = (await post('/api/sso/v1/auth/login', { ...ADMIN, register: true })).body.access_token;
    apiKey = (await post('/apps/', { name: 'Legacy', url: '' }, admin)).body.api_key;
    assert.ok(apiKey);
  });
  after(async () => {
    await server?.stop();
  });

  test('over REST: guesses spread over e-mail, username and phone at login, /token and /verify stop at the limit; then no password is checked at any name or door, the right one included', async () => {
    const a = await account('multi', '+1 (555) 123-4567');
    const phoneDigits = a.phone.slice(1); // the legacy doors read "15551234567" as a username first
    const guesses: Array<() => Promise<Answer>> = [
      () => login(a.email, 'Wrong-guess-1'),
      () => login(a.username.toUpperCase(), 'Wrong-guess-2'),
      () => login(a.phone, 'Wrong-guess-3'),
      () => token(phoneDigits, 'Wrong-guess-4'),
      () => verify(a.username, 'Wrong-guess-5'),
    ];
    for (const [i, guess] of guesses.entries()) {
      const r = await guess();
      if (i < 3) assert.deepEqual([r.status, r.body.error_code], [401, 'INVALID_CREDENTIALS'], `guess ${i + 1}`);
      else if (i === 3) assert.equal(r.status, 401, `guess ${i + 1}: ${JSON.stringify(r.body)}`);
      else assert.deepEqual([r.status, r.body.authorized], [200, false], `guess ${i + 1}`);
    }
    assert.deepEqual(await audited(a.id), { checked: LIMIT, refused: 0 });
    // The limit is reached: no door checks this account's password any more, the right one
    // included, and each answers as it does for a name nobody has.
    const refusals: Array<[string, () => Promise<Answer>, () => Promise<Answer>]> = [
      ['login e-mail', () => login(a.email, a.password), () => login('nobody@example.com', a.password)],
      ['login username', () => login(a.username, a.password), () => login('nobody', a.password)],
      ['login phone', () => login(a.phone, a.password), () => login('+15550009999', a.password)],
      ['login phone without +', () => login(phoneDigits, a.password), () => login('15550009998', a.password)],
      ['token e-mail', () => token(a.email, a.password), () => token('nobody@example.com', a.password)],
      ['token phone without +', () => token(phoneDigits, a.password), () => token('15550009997', a.password)],
      ['verify phone', () => verify(a.phone, a.password), () => verify('+15550009996', a.password)],
    ];
    for (const [name, attempt, unknown] of refusals) {
      const r = await attempt();
      const u = await unknown();
      assert.ok(r.status === 401 || (r.status === 200 && r.body.authorized === false), `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.status, u.status, name);
      assert.deepEqual(r.body, u.body, name);
    }
    assert.deepEqual(await audited(a.id), { checked: LIMIT, refused: refusals.length });
    assert.ok(
      (await nameFailures(a.email, a.username, a.phone, phoneDigits)).every((n) => n < LIMIT),
      'no single name reached the limit',
    );
    // Another account is not affected.
    assert.equal((await login(ADMIN.identifier, ADMIN.secret)).status, 200);
  });

  test('a name of a locked account answers as an unknown name: 401 until its own limit, then 429', async () => {
    const a = await account('twin', '+1 (555) 765-4321');
    for (let i = 0; i < LIMIT; i++) assert.equal((await login(i % 2 ? a.email : a.username, `Wrong-guess-${i}`)).status, 401);
    // The phone has seen no attempt: LIMIT attempts are 401s (none checked), the next is 429,
    // exactly as for a fresh unknown phone number.
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i <= LIMIT; i++) {
      known.push((await login(a.phone, a.password)).status);
      unknown.push((await login('+15550004444', a.password)).status);
    }
    assert.deepEqual(known, [...Array(LIMIT).fill(401), 429]);
    assert.deepEqual(unknown, known);
    assert.deepEqual(await audited(a.id), { checked: LIMIT, refused: LIMIT });
  });

  for (const protocol of ['grpc', 'connect'] as const) {
    test(`over ${protocol}: Login guesses spread over the names stop at the limit; then every name is refused, the right password too`, async () => {
      const name = `rpc${protocol.replace('-', '')}`;
      const a = await account(name, protocol === 'grpc' ? '+44 20 7946 0001' : '+44 20 7946 0002');
      const names = [a.email, a.username, a.phone, a.phone.slice(1), a.email.toUpperCase()];
      for (let i = 0; i < LIMIT; i++) {
        assert.equal(
          await rpcLogin(protocol, names[i % names.length]!, `Wrong-guess-${i}`),
          'Unauthenticated:INVALID_CREDENTIALS',
          `guess ${i + 1}`,
        );
      }
      // The right password on every name: refused as for an unknown name, without a check.
      for (const n of names) assert.equal(await rpcLogin(protocol, n, a.password), 'Unauthenticated:INVALID_CREDENTIALS', n);
      assert.deepEqual(await audited(a.id), { checked: LIMIT, refused: names.length });
      // The lock is the account's, whatever the protocol: REST refuses it too.
      assert.equal((await login(a.email, a.password)).status, 401);
    });
  }

  test('20 parallel guesses spread over 4 names, over REST and gRPC: at most 5 passwords are checked', async () => {
    const a = await account('racer', '+33 1 23 45 67 89');
    const names = [a.email, a.username, a.phone, a.phone.slice(1)];
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const identifier = names[i % names.length]!;
        if (i % 2) return rpcLogin('grpc', identifier, `Wrong-guess-${i}`);
        const r = await login(identifier, `Wrong-guess-${i}`);
        return r.status === 401
          ? 'Unauthenticated:INVALID_CREDENTIALS'
          : r.status === 429
            ? 'ResourceExhausted:TOO_MANY_ATTEMPTS'
            : `${r.status}`;
      }),
    );
    // Each name saw 5 attempts: some may be 429 by the name's own count, the rest 401.
    assert.ok(
      results.every((r) => r === 'Unauthenticated:INVALID_CREDENTIALS' || r === 'ResourceExhausted:TOO_MANY_ATTEMPTS'),
      results.join(','),
    );
    const { checked } = await audited(a.id);
    assert.ok(checked >= 1 && checked <= LIMIT, `${checked} passwords checked`);
    assert.notEqual((await login(a.username, a.password)).status, 200);
  });

  test("a success by any name lifts the account's count", async () => {
    const a = await account('steady', '+49 30 1234567');
    const names = [a.email, a.username, a.phone, a.phone.slice(1)];
    for (const n of names) assert.equal((await login(n, 'Wrong-guess')).status, 401, n);
    assert.equal((await login(a.phone, a.password)).status, 200);
    // LIMIT - 1 more failures spread over the names are plain 401s again; one more locks.
    for (let i = 0; i < LIMIT - 1; i++)
      assert.equal((await login(names[i % names.length]!, 'Wrong-again')).status, 401, `after success, failure ${i + 1}`);
    assert.equal((await login(a.email, 'Wrong-again')).status, 401);
    assert.equal((await login(a.username, a.password)).status, 401, 'the right password is not checked');
    assert.deepEqual(await audited(a.id), { checked: names.length + LIMIT, refused: 1 });
  });
});
