// Issue 12: TOTP and recovery codes, and the two-step login they bring, over real sockets on
// REST, Connect and gRPC (embedded database, or PostgreSQL with TEST_DATABASE_URL).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { FactorService } from '../../gen/sso/auth/v1/factor_service_pb.js';
import { createSsoClients } from '../../src/client/index.js';
import { totpCode } from '../../src/auth/totp.js';
import { startTestServer, type Protocol, type TestServer } from '../support/server.js';

const ADMIN = { identifier: 'admin@example.com', secret: 'AdminPassword123!' };
const PASSWORD = 'Password-123-abc';

interface Answer {
  status: number;
  body: any;
}

let server: TestServer;
let admin: string;

async function post(path: string, json: unknown, token?: string): Promise<Answer> {
  const res = await server.rest(path, { method: 'POST', json, token });
  return { status: res.status, body: await res.json() };
}

async function createUser(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const made = await post(
    '/api/sso/v1/users',
    { identifiers: [{ identifier: `${name}@example.com` }], password: PASSWORD, ...extra },
    admin,
  );
  assert.equal(made.status, 200, JSON.stringify(made.body));
  return made.body.id;
}

async function login(name: string): Promise<Answer> {
  return post('/api/sso/v1/auth/login', { identifier: `${name}@example.com`, secret: PASSWORD });
}

/** A code for the step `offset` steps from now (±1 is accepted: drift). */
function code(secret: string, offset = 0): Promise<string> {
  return totpCode(secret, Math.floor(Date.now() / 1000) + offset * 30);
}

/** A user with a confirmed TOTP: its secret, recovery codes and a plain-login access token. */
async function enrolled(name: string): Promise<{ id: string; secret: string; recoveryCodes: string[] }> {
  const id = await createUser(name);
  const first = await login(name);
  assert.equal(first.status, 200);
  assert.equal(first.body.status, undefined, 'no second factor yet: a plain login');
  const token = first.body.access_token;
  const started = await post('/api/sso/v1/me/factors/totp', {}, token);
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const uri = new URL(started.body.otpauth_uri);
  assert.equal(uri.protocol, 'otpauth:');
  const secret = uri.searchParams.get('secret')!;
  assert.match(secret, /^[A-Z2-7]{32}$/);
  // Not yet a factor: logins stay plain until a first code confirms it.
  assert.equal((await login(name)).body.status, undefined);
  const confirmed = await post('/api/sso/v1/me/factors/totp/confirm', { code: await code(secret, -1) }, token);
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  assert.equal(confirmed.body.recovery_codes.length, 10);
  return { id, secret, recoveryCodes: confirmed.body.recovery_codes };
}

function reasonOf(e: unknown): string {
  assert.ok(e instanceof ConnectError, String(e));
  return `${Code[e.code]}:${e.findDetails(ErrorInfoSchema)[0]?.reason}`;
}

before(async () => {
  server = await startTestServer();
  const res = await post('/api/sso/v1/auth/login', { ...ADMIN, register: true });
  admin = res.body.access_token;
});
after(async () => {
  await server?.stop();
});

describe('TOTP enrolment and the two-step login', () => {
  test('REST: mfa_required without tokens, then CompleteLogin with a code gives tokens with amr otp/mfa', async () => {
    const { id, secret } = await enrolled('rest');
    const first = await login('rest');
    assert.equal(first.status, 200);
    assert.equal(first.body.status, 'mfa_required');
    assert.match(first.body.mfa_token, /^mfa_/);
    assert.deepEqual(first.body.second_step.factors, ['totp', 'recovery_code']);
    assert.ok(first.body.second_step.expires_in <= 300 && first.body.second_step.expires_in > 0);
    assert.equal(first.body.access_token, '');
    assert.equal(first.body.refresh_token, '');
    assert.equal(first.body.user, undefined);

    const done = await post('/api/sso/v1/auth/mfa', { mfa_token: first.body.mfa_token, totp_code: await code(secret) });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.user.id, id);
    const claims = JSON.parse(Buffer.from(done.body.access_token.split('.')[1], 'base64url').toString());
    assert.deepEqual(claims.amr, ['password', 'pwd', 'otp', 'mfa']);
    const me = await server.rest('/api/sso/v1/me', { token: done.body.access_token });
    assert.equal(me.status, 200);
    const [session] = await server.app.database.dataSource.query('SELECT amr FROM sessions WHERE id = $1', [done.body.session_id]);
    assert.deepEqual(session.amr, ['password', 'pwd', 'otp', 'mfa']);
    // The refreshed token says the same.
    const refreshed = await post('/api/sso/v1/auth/refresh', { refresh_token: done.body.refresh_token });
    assert.deepEqual(JSON.parse(Buffer.from(refreshed.body.access_token.split('.')[1], 'base64url').toString()).amr, [
      'password',
      'pwd',
      'otp',
      'mfa',
    ]);
  });

  for (const protocol of ['connect', 'grpc'] as Protocol[]) {
    test(`${protocol}: Login answers mfa_required, CompleteLogin completes it`, async () => {
      const { id, secret } = await enrolled(`rpc-${protocol}`);
      const auth = server.client(AuthService, { protocol });
      const first = await auth.login({ identifier: `rpc-${protocol}@example.com`, secret: PASSWORD });
      assert.equal(first.status, 'mfa_required');
      assert.equal(first.accessToken, '');
      assert.deepEqual(first.secondStep?.factors, ['totp', 'recovery_code']);
      const done = await auth.completeLogin({ mfaToken: first.mfaToken!, totpCode: await code(secret) });
      assert.equal(done.user?.id, id);
      assert.ok(done.accessToken);
      const me = await server.client(AuthService, { protocol, token: done.accessToken }).getMe({});
      assert.equal(me.user?.id, id);
    });
  }

  test('sso/client: createSsoClients has a factors client (FactorService) next to auth', async () => {
    await createUser('client');
    const sso = createSsoClients({ baseUrl: server.url, transport: 'connect' });
    sso.setToken((await sso.auth.login({ identifier: 'client@example.com', secret: PASSWORD })).accessToken);
    const { otpauthUri } = await sso.factors.createTotp({});
    const secret = new URL(otpauthUri).searchParams.get('secret')!;
    const { recoveryCodes } = await sso.factors.confirmTotp({ code: await code(secret) });
    assert.equal(recoveryCodes.length, 10);
    const listed = await sso.factors.listFactors({});
    assert.equal(listed.totp, true);
    sso.setToken(undefined);
    assert.equal((await sso.auth.login({ identifier: 'client@example.com', secret: PASSWORD })).status, 'mfa_required');
  });

  test('a code is accepted once: the replayed code is refused, also with a new mfa_token', async () => {
    const { secret } = await enrolled('replay');
    const c = await code(secret);
    const first = await login('replay');
    assert.equal((await post('/api/sso/v1/auth/mfa', { mfa_token: first.body.mfa_token, totp_code: c })).status, 200);
    const second = await login('replay');
    const replayed = await post('/api/sso/v1/auth/mfa', { mfa_token: second.body.mfa_token, totp_code: c });
    assert.equal(replayed.status, 401);
    assert.equal(replayed.body.error_code, 'INVALID_SECOND_FACTOR');
    // An earlier step's code, after a later one was taken, is refused too.
    const older = await post('/api/sso/v1/auth/mfa', { mfa_token: second.body.mfa_token, totp_code: await code(secret, -1) });
    assert.equal(older.status, 401);
    const [event] = await server.app.database.dataSource.query(
      `SELECT detail->>'reason' AS reason FROM audit_events WHERE type = 'mfa.totp' AND outcome = 'failure' ORDER BY occurred_at DESC LIMIT 1`,
    );
    assert.equal(event.reason, 'TOTP_REPLAYED');
  });

  test('a recovery code works once', async () => {
    const { recoveryCodes } = await enrolled('recovery');
    const first = await login('recovery');
    const done = await post('/api/sso/v1/auth/mfa', { mfa_token: first.body.mfa_token, recovery_code: recoveryCodes[0]!.toLowerCase() });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(JSON.parse(Buffer.from(done.body.access_token.split('.')[1], 'base64url').toString()).amr, ['password', 'pwd', 'mfa']);
    const again = await login('recovery');
    const reused = await post('/api/sso/v1/auth/mfa', { mfa_token: again.body.mfa_token, recovery_code: recoveryCodes[0] });
    assert.equal(reused.status, 401);
    assert.equal(reused.body.error_code, 'INVALID_SECOND_FACTOR');
    const listed = await server.rest('/api/sso/v1/me/factors', { token: done.body.access_token });
    assert.equal((await listed.json()).recovery_codes_left, 9);
    // Stored hashed: no code appears in the table.
    const stored = await server.app.database.dataSource.query('SELECT code_hash FROM recovery_codes');
    for (const c of recoveryCodes) assert.ok(!stored.some((r: any) => r.code_hash.includes(c.replace(/-/g, ''))));
  });

  test('the TOTP secret is stored encrypted', async () => {
    const { id, secret } = await enrolled('sealed');
    const [row] = await server.app.database.dataSource.query('SELECT secret_encrypted FROM totp_factors WHERE user_id = $1', [id]);
    assert.match(row.secret_encrypted, /^v1\./);
    assert.ok(!row.secret_encrypted.includes(secret));
  });

  test('an expired or used mfa_token is refused', async () => {
    const { secret } = await enrolled('tokens');
    const first = await login('tokens');
    assert.equal((await post('/api/sso/v1/auth/mfa', { mfa_token: first.body.mfa_token, totp_code: await code(secret) })).status, 200);
    const reused = await post('/api/sso/v1/auth/mfa', { mfa_token: first.body.mfa_token, totp_code: await code(secret, 1) });
    assert.equal(reused.status, 401);
    assert.equal(reused.body.error_code, 'INVALID_MFA_TOKEN');
    const second = await login('tokens');
    await server.app.database.dataSource.query(`UPDATE mfa_tokens SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`);
    const expired = await post('/api/sso/v1/auth/mfa', { mfa_token: second.body.mfa_token, totp_code: await code(secret, 1) });
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error_code, 'INVALID_MFA_TOKEN');
    const forged = await post('/api/sso/v1/auth/mfa', { mfa_token: 'mfa_forged', totp_code: await code(secret, 1) });
    assert.equal(forged.body.error_code, 'INVALID_MFA_TOKEN');
  });

  test('wrong codes count toward the account lockout; a right password does not reset that count', async () => {
    const { id, secret } = await enrolled('lockout');
    // Held before the guessing starts: after the lock, even a right code is refused with it.
    const early = await login('lockout');
    let wrongCodes = 0;
    for (let i = 0; i < 5; i++) {
      // A fresh login each time: its right password must not lift the count of wrong codes (a
      // held login's password attempt stays counted until its second step succeeds).
      const held = await login('lockout');
      if (held.status !== 200) break;
      assert.equal(held.body.status, 'mfa_required');
      const wrong = await post('/api/sso/v1/auth/mfa', { mfa_token: held.body.mfa_token, totp_code: '000000' });
      assert.ok([401, 429].includes(wrong.status), `attempt ${i}: ${wrong.status}`);
      if (wrong.status === 401) wrongCodes++;
    }
    assert.ok(wrongCodes >= 1 && wrongCodes <= 5, `${wrongCodes} wrong codes checked`);
    const [row] = await server.app.database.dataSource.query(`SELECT locked_until > now() AS locked FROM login_throttles WHERE key = $1`, [
      `user:${id}`,
    ]);
    assert.equal(row.locked, true, 'the account is locked');
    const refused = await login('lockout');
    assert.ok([401, 429].includes(refused.status), `login while locked: ${refused.status}`);
    const right = await post('/api/sso/v1/auth/mfa', { mfa_token: early.body.mfa_token, totp_code: await code(secret) });
    assert.equal(right.status, 429);
    assert.equal(right.body.error_code, 'TOO_MANY_ATTEMPTS');
    const [audited] = await server.app.database.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE actor_id = $1 AND type = 'mfa.totp' AND outcome = 'failure'`,
      [id],
    );
    assert.equal(audited.n, wrongCodes);
  });

  test('POST /token refuses a password alone (MFA_REQUIRED); POST /verify answers not authorized', async () => {
    const { id } = await enrolled('legacy');
    await post('/api/sso/v1/auth/login', { identifier: 'admin@example.com', secret: ADMIN.secret });
    const app = await post('/apps/', { name: 'Legacy MFA', url: 'https://legacy.example.com' }, admin);
    const legacyId = (await (await server.rest(`/api/sso/v1/users/${id}`, { token: admin })).json()).legacy_id;
    assert.equal((await post(`/users/${legacyId}/assign/${app.body.id}`, {}, admin)).status, 200);
    const verify = await post('/verify', { username: 'legacy@example.com', password: PASSWORD, api_key: app.body.api_key });
    assert.deepEqual(verify, { status: 200, body: { authorized: false, message: 'User not authorized for this application' } });
    // The legacy admin token: an administrator with a second factor gets none for a password.
    const adminWithTotp = await createUser('legacy-admin', { is_admin: true });
    const adminLogin = await login('legacy-admin');
    const uri = new URL((await post('/api/sso/v1/me/factors/totp', {}, adminLogin.body.access_token)).body.otpauth_uri);
    await post('/api/sso/v1/me/factors/totp/confirm', { code: await code(uri.searchParams.get('secret')!) }, adminLogin.body.access_token);
    const res = await server.rest('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'legacy-admin@example.com', password: PASSWORD }).toString(),
    });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error_code, 'MFA_REQUIRED');
    void adminWithTotp;
  });

  test('removing TOTP needs a current factor; without a factor left, recovery codes go too', async () => {
    const { secret, recoveryCodes } = await enrolled('remove');
    const held = await login('remove');
    const token = (await post('/api/sso/v1/auth/mfa', { mfa_token: held.body.mfa_token, recovery_code: recoveryCodes[1] })).body
      .access_token;
    assert.equal((await post('/api/sso/v1/me/factors/totp/delete', { proof: {} }, token)).body.error_code, 'FACTOR_PROOF_REQUIRED');
    const wrong = await post('/api/sso/v1/me/factors/totp/delete', { proof: { password: 'not-the-password' } }, token);
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error_code, 'FACTOR_PROOF_INCORRECT');
    const removed = await post('/api/sso/v1/me/factors/totp/delete', { proof: { totp_code: await code(secret) } }, token);
    assert.deepEqual(removed, { status: 200, body: { success: true } });
    const factors = await (await server.rest('/api/sso/v1/me/factors', { token })).json();
    assert.deepEqual({ totp: factors.totp, left: factors.recovery_codes_left }, { totp: false, left: 0 });
    assert.equal((await login('remove')).body.status, undefined);
  });

  test('regenerating recovery codes needs proof and replaces the old ones', async () => {
    const { secret, recoveryCodes } = await enrolled('regen');
    const held = await login('regen');
    const token = (await post('/api/sso/v1/auth/mfa', { mfa_token: held.body.mfa_token, totp_code: await code(secret) })).body.access_token;
    const fresh = await post('/api/sso/v1/me/factors/recovery-codes', { proof: { password: PASSWORD } }, token);
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    assert.equal(fresh.body.recovery_codes.length, 10);
    const again = await login('regen');
    assert.equal((await post('/api/sso/v1/auth/mfa', { mfa_token: again.body.mfa_token, recovery_code: recoveryCodes[2] })).status, 401);
    assert.equal(
      (await post('/api/sso/v1/auth/mfa', { mfa_token: again.body.mfa_token, recovery_code: fresh.body.recovery_codes[0] })).status,
      200,
    );
  });

  test('an API key cannot manage factors', async () => {
    const key = await post('/api/sso/v1/apikeys', { name: 'admin key' }, admin);
    const res = await server.rest('/api/sso/v1/me/factors/totp', { method: 'POST', json: {}, headers: { 'x-api-key': key.body.key } });
    assert.equal(res.status, 403);
  });
});

describe('administrators: resets and the policy', () => {
  test('who may reset whose factors', async () => {
    const { id: target } = await enrolled('reset-target');
    const { id: strongId } = await enrolled('reset-strong');
    await server.app.database.dataSource.query(`UPDATE users SET scopes = '{delete:users}' WHERE id = $1`, [strongId]);
    const helperId = await createUser('reset-helper', { scopes: ['update:users'] });
    const plainId = await createUser('reset-plain');
    const helper = (await login('reset-helper')).body.access_token;
    const plain = (await login('reset-plain')).body.access_token;
    const [adminRow] = await server.app.database.dataSource.query(`SELECT id FROM users WHERE is_admin ORDER BY created_at LIMIT 1`);
    const reset = (userId: string, token: string) => post(`/api/sso/v1/users/${userId}/factors/reset`, {}, token);

    assert.equal((await reset(target, plain)).status, 403, 'no update:users');
    assert.equal((await reset(strongId, helper)).body.error_code, 'TARGET_EXCEEDS_CALLER');
    assert.equal((await reset(adminRow.id, helper)).body.error_code, 'ADMIN_REQUIRED');
    assert.equal((await reset(helperId, helper)).status, 403, "not one's own");
    assert.equal((await login('reset-target')).body.status, 'mfa_required');
    assert.deepEqual(await reset(target, helper), { status: 200, body: { success: true } });
    assert.equal((await login('reset-target')).body.status, undefined, 'a plain login again');
    assert.deepEqual(await reset(strongId, admin), { status: 200, body: { success: true } });
    const events = await server.app.database.dataSource.query(
      `SELECT actor_id AS "actorId" FROM audit_events WHERE type = 'mfa.reset' ORDER BY occurred_at`,
    );
    assert.deepEqual(
      events.map((e: any) => e.actorId),
      [target, strongId],
    );
    // Over Connect too.
    await assert.rejects(
      server.client(FactorService, { token: plain }).resetUserFactors({ userId: target }),
      (e) => reasonOf(e) === 'PermissionDenied:PERMISSION_DENIED',
    );
    void plainId;
  });

  test('a policy for everyone leads a user without a factor to enrol at login, then completes it', async () => {
    await createUser('policy');
    const put = await server.rest('/api/sso/v1/mfa-policy', { method: 'PUT', json: { required_for_all: true }, token: admin });
    assert.equal(put.status, 200, await put.clone().text());
    assert.equal((await put.json()).required_for_all, true);
    try {
      const held = await login('policy');
      assert.equal(held.body.status, 'mfa_enrollment_required');
      assert.deepEqual(held.body.second_step.factors, ['totp', 'passkey']);
      assert.equal(held.body.access_token, '');
      // The enrolment token is not a second factor's: it cannot complete a login without enrolling.
      const early = await post('/api/sso/v1/auth/mfa', { mfa_token: held.body.mfa_token, recovery_code: 'AAAA-AAAA-AAAA-AAAA' });
      assert.equal(early.status, 400);
      assert.equal(
        (await post('/api/sso/v1/auth/passkey/challenge', { mfa_token: held.body.mfa_token })).body.error_code,
        'INVALID_MFA_TOKEN',
      );
      const started = await post('/api/sso/v1/auth/mfa/enroll', { mfa_token: held.body.mfa_token, kind: 'totp' });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      const secret = new URL(started.body.otpauth_uri).searchParams.get('secret')!;
      const done = await post('/api/sso/v1/auth/mfa', { mfa_token: held.body.mfa_token, totp_code: await code(secret) });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.ok(done.body.access_token);
      assert.equal(done.body.recovery_codes.length, 10);
      assert.equal((await login('policy')).body.status, 'mfa_required');
      // An enrolment token of a new login cannot be used now the user has a factor.
      assert.equal(
        (await post('/api/sso/v1/auth/mfa/enroll', { mfa_token: held.body.mfa_token, kind: 'totp' })).body.error_code,
        'INVALID_MFA_TOKEN',
      );
    } finally {
      await server.rest('/api/sso/v1/mfa-policy', { method: 'PUT', json: { required_for_all: false }, token: admin });
    }
  });
});
