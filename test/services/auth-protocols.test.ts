// Every AuthService RPC over Connect, over gRPC (HTTP/2) and over its REST route: the same
// results and the same permission outcomes whichever way a caller comes in.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toJson, type DescMethod } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { codeToString } from '@connectrpc/connect/protocol-connect';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

const ADMIN = { identifier: 'admin@example.com', secret: 'AdminPassword123!' };
const PLAIN = { identifier: 'plain@example.com', secret: 'PlainPassword123!' };

type Rpc =
  | 'login'
  | 'refresh'
  | 'logout'
  | 'getMe'
  | 'verifyToken'
  | 'listSessions'
  | 'deleteSession'
  | 'createToken'
  | 'listSigningKeys'
  | 'rotateSigningKey'
  | 'listAuditEvents';

/** A call's outcome in one shape for every channel: the REST JSON (proto names, response_body applied), or the error. */
type Outcome = { ok: true; body: any } | { ok: false; code: string; reason: string; message: string };

interface Channel {
  name: string;
  call(rpc: Rpc, req: Record<string, unknown>, token?: string): Promise<Outcome>;
}

/** What the REST routes unwrap with `response_body`, so RPC answers can be compared to them. */
const responseBody: Partial<Record<Rpc, string>> = { getMe: 'user', verifyToken: 'claims' };

const statusOf: Record<string, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  already_exists: 409,
  resource_exhausted: 429,
  internal: 500,
};

function rpcChannel(server: TestServer, protocol: 'connect' | 'grpc'): Channel {
  return {
    name: protocol,
    async call(rpc, req, token) {
      const client = server.client(AuthService, { protocol, token }) as any;
      const method: DescMethod = AuthService.method[rpc]!;
      try {
        const res = await client[rpc](req);
        const json = toJson(method.output, res, { useProtoFieldName: true, alwaysEmitImplicit: true }) as any;
        const field = responseBody[rpc];
        return { ok: true, body: field ? json[field] : json };
      } catch (e) {
        assert.ok(e instanceof ConnectError, `${rpc} threw a non-ConnectError: ${String(e)}`);
        const infos = e.findDetails(ErrorInfoSchema);
        assert.equal(infos.length, 1, `${rpc} error carries one google.rpc.ErrorInfo (${e.message})`);
        assert.equal(infos[0]!.domain, 'sso');
        return { ok: false, code: codeToString(e.code), reason: infos[0]!.reason, message: e.rawMessage };
      }
    },
  };
}

function restChannel(server: TestServer): Channel {
  const q = (params: Record<string, unknown>) => {
    const s = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
    const text = s.toString();
    return text ? `?${text}` : '';
  };
  return {
    name: 'REST',
    async call(rpc, req, token) {
      let res: Response;
      switch (rpc) {
        case 'login':
          res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: req, token });
          break;
        case 'refresh':
          res = await server.rest('/api/sso/v1/auth/refresh', { method: 'POST', json: { refresh_token: req.refreshToken }, token });
          break;
        case 'logout':
          res = await server.rest('/api/sso/v1/auth/logout', { method: 'POST', token });
          break;
        case 'getMe':
          res = await server.rest('/api/sso/v1/me', { token });
          break;
        case 'verifyToken':
          res = await server.rest('/api/sso/v1/auth/verify-token', { method: 'POST', json: { token: req.token }, token });
          break;
        case 'listSessions':
          res = await server.rest(`/api/sso/v1/sessions${q({ user_id: req.userId, offset: req.offset, limit: req.limit })}`, { token });
          break;
        case 'deleteSession':
          res = await server.rest(`/api/sso/v1/sessions/${req.id}`, { method: 'DELETE', token });
          break;
        case 'createToken':
          res = await server.rest('/token', {
            method: 'POST',
            token,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ username: String(req.username), password: String(req.password) }).toString(),
          });
          break;
        case 'listSigningKeys':
          res = await server.rest('/api/sso/v1/keys', { token });
          break;
        case 'rotateSigningKey':
          res = await server.rest('/api/sso/v1/keys/rotate', { method: 'POST', token });
          break;
        case 'listAuditEvents':
          res = await server.rest(
            `/api/sso/v1/audit-events${q({ offset: req.offset, limit: req.limit, actor_id: req.actorId, outcome: req.outcome })}`,
            { token },
          );
          break;
      }
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const body = await res.json();
      if (res.status === 200) return { ok: true, body };
      assert.equal(res.status, statusOf[body.code], `HTTP status ${res.status} follows the code ${body.code}`);
      assert.equal(typeof body.error_code, 'string');
      assert.match(body.error_code, /^[A-Z][A-Z0-9_]*$/);
      assert.equal(body.detail, body.message);
      return { ok: false, code: body.code, reason: body.error_code, message: body.message };
    },
  };
}

function ok(o: Outcome, what: string): any {
  if (!o.ok) assert.fail(`${what}: expected success, got ${o.code} ${o.reason}: ${o.message}`);
  return o.body;
}

function refused(o: Outcome, code: string, reason: string, what: string): void {
  assert.equal(o.ok, false, `${what}: expected ${code} ${reason}, got success ${JSON.stringify((o as any).body)}`);
  const e = o as Extract<Outcome, { ok: false }>;
  assert.deepEqual({ code: e.code, reason: e.reason }, { code, reason }, `${what}: ${e.message}`);
}

describe('AuthService over every protocol', () => {
  let server: TestServer;
  let adminId: string;
  let plainId: string;

  before(async () => {
    server = await startTestServer();
    const a = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { ...ADMIN, register: true } });
    assert.equal(a.status, 200);
    adminId = (await a.json()).user.id;
    const p = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { ...PLAIN, register: true } });
    assert.equal(p.status, 200);
    const plain = await p.json();
    plainId = plain.user.id;
    assert.equal(plain.user.is_admin, false);
  });
  after(async () => {
    await server?.stop();
  });

  const channels: { name: string; make: (s: TestServer) => Channel }[] = [
    { name: 'Connect', make: (s) => rpcChannel(s, 'connect') },
    { name: 'gRPC (HTTP/2)', make: (s) => rpcChannel(s, 'grpc') },
    { name: 'REST', make: restChannel },
  ];
  for (const { name, make } of channels) {
    describe(`over ${name}`, () => {
      let ch: Channel;
      let admin: any;
      let plain: any;

      before(async () => {
        ch = make(server);
        admin = ok(await ch.call('login', { ...ADMIN }), 'admin login');
        plain = ok(await ch.call('login', { ...PLAIN }), 'plain login');
      });

      test('Login: tokens, session and the user', async () => {
        for (const [who, res, id, isAdmin] of [
          ['admin', admin, adminId, true],
          ['plain', plain, plainId, false],
        ] as const) {
          assert.equal(typeof res.access_token, 'string', who);
          assert.equal(res.access_token.split('.').length, 3, who);
          assert.equal(typeof res.refresh_token, 'string', who);
          assert.equal(res.token_type, 'Bearer', who);
          assert.equal(res.expires_in, 900, who);
          assert.match(res.session_id, /^[0-9a-f-]{36}$/, who);
          assert.deepEqual(res.tokens, { access: res.access_token, refresh: res.refresh_token }, who);
          assert.equal(res.user.id, id, who);
          assert.equal(res.user.is_admin, isAdmin, who);
          assert.equal(res.user.is_active, true, who);
        }
        refused(
          await ch.call('login', { identifier: ADMIN.identifier, secret: 'wrong-password' }),
          'unauthenticated',
          'INVALID_CREDENTIALS',
          'wrong password',
        );
        refused(await ch.call('login', { identifier: '', secret: 'x' }), 'invalid_argument', 'MISSING_FIELD', 'missing identifier');
        // A success resets the identifier's failure count.
        ok(await ch.call('login', { ...ADMIN }), 'admin login again');
      });

      test('GetMe: the caller; anonymous is 401', async () => {
        const me = ok(await ch.call('getMe', {}, admin.access_token), 'admin GetMe');
        assert.equal(me.id, adminId);
        assert.equal(me.is_admin, true);
        assert.equal(me.identifiers[0].identifier, ADMIN.identifier);
        assert.deepEqual(me.roles, []);
        const pm = ok(await ch.call('getMe', {}, plain.access_token), 'plain GetMe');
        assert.equal(pm.id, plainId);
        assert.equal(pm.is_admin, false);
        assert.equal(pm.identifiers[0].identifier, PLAIN.identifier);
        refused(await ch.call('getMe', {}), 'unauthenticated', 'UNAUTHENTICATED', 'anonymous GetMe');
        refused(await ch.call('getMe', {}, 'not-a-jwt-and-not-a-key'), 'unauthenticated', 'INVALID_API_KEY', 'garbage bearer');
      });

      test('VerifyToken: the claims of a good token; 401 for a bad one (no caller credential needed)', async () => {
        const claims = ok(await ch.call('verifyToken', { token: plain.access_token }), 'VerifyToken');
        assert.equal(claims.sub, plainId);
        assert.equal(claims.user_id, plainId);
        assert.equal(claims.token_type, 'access');
        assert.equal(claims.session_id, plain.session_id);
        assert.equal(claims.aud, 'sso');
        assert.equal(claims.iss, server.config.issuer);
        assert.equal(claims.is_admin, false);
        assert.equal(typeof claims.exp, 'number');
        assert.equal(claims.exp - claims.iat, 900);
        assert.deepEqual(claims.amr, ['password']);
        const adminClaims = ok(await ch.call('verifyToken', { token: admin.access_token }), 'VerifyToken admin');
        assert.equal(adminClaims.is_admin, true);
        refused(await ch.call('verifyToken', { token: 'garbage' }), 'unauthenticated', 'INVALID_TOKEN', 'garbage token');
        // A refresh token is not an access token.
        refused(await ch.call('verifyToken', { token: plain.refresh_token }), 'unauthenticated', 'INVALID_TOKEN', 'refresh token');
        refused(await ch.call('verifyToken', { token: '' }), 'invalid_argument', 'MISSING_FIELD', 'empty token');
      });

      test("ListSessions: own sessions; another user's only with permission", async () => {
        const own = ok(await ch.call('listSessions', {}, plain.access_token), 'own sessions');
        assert.ok(own.total >= 1);
        assert.equal(own.offset, 0);
        assert.equal(own.limit, 10);
        assert.ok(own.items.every((s: any) => s.user_id === plainId));
        const current = own.items.filter((s: any) => s.current);
        assert.deepEqual(
          current.map((s: any) => s.id),
          [plain.session_id],
        );
        // Naming oneself is the same as naming nobody.
        const self = ok(await ch.call('listSessions', { userId: plainId }, plain.access_token), 'own sessions by id');
        assert.equal(self.total, own.total);
        refused(
          await ch.call('listSessions', { userId: adminId }, plain.access_token),
          'permission_denied',
          'PERMISSION_DENIED',
          'plain lists admin sessions',
        );
        const others = ok(await ch.call('listSessions', { userId: plainId }, admin.access_token), 'admin lists plain sessions');
        assert.ok(others.items.some((s: any) => s.id === plain.session_id));
        assert.ok(others.items.every((s: any) => s.user_id === plainId && s.current === false));
        refused(await ch.call('listSessions', {}), 'unauthenticated', 'UNAUTHENTICATED', 'anonymous');
      });

      test("DeleteSession: own works, another's is not found for a plain user, the admin may", async () => {
        refused(
          await ch.call('deleteSession', { id: admin.session_id }, plain.access_token),
          'not_found',
          'SESSION_NOT_FOUND',
          'plain deletes admin session',
        );
        // The admin's session is untouched.
        ok(await ch.call('getMe', {}, admin.access_token), 'admin still signed in');

        const extra = ok(await ch.call('login', { ...PLAIN }), 'extra plain login');
        assert.deepEqual(ok(await ch.call('deleteSession', { id: extra.session_id }, plain.access_token), 'delete own'), { success: true });
        refused(await ch.call('getMe', {}, extra.access_token), 'unauthenticated', 'SESSION_REVOKED', 'deleted session token');
        // Already revoked: no longer live.
        assert.deepEqual(ok(await ch.call('deleteSession', { id: extra.session_id }, plain.access_token), 'delete twice'), {
          success: false,
        });

        const victim = ok(await ch.call('login', { ...PLAIN }), 'another plain login');
        assert.deepEqual(ok(await ch.call('deleteSession', { id: victim.session_id }, admin.access_token), 'admin deletes plain session'), {
          success: true,
        });
        refused(
          await ch.call('refresh', { refreshToken: victim.refresh_token }),
          'unauthenticated',
          'SESSION_REVOKED',
          'refresh of deleted session',
        );

        refused(await ch.call('deleteSession', { id: 'not-a-uuid' }, plain.access_token), 'invalid_argument', 'INVALID_ID', 'bad id');
        refused(await ch.call('deleteSession', { id: extra.session_id }), 'unauthenticated', 'UNAUTHENTICATED', 'anonymous');
      });

      test('Refresh: new tokens for the same session; a retired refresh token is refused', async () => {
        const s = ok(await ch.call('login', { ...PLAIN }), 'login');
        const r = ok(await ch.call('refresh', { refreshToken: s.refresh_token }), 'refresh');
        assert.equal(r.session_id, s.session_id);
        assert.equal(r.token_type, 'Bearer');
        assert.equal(r.expires_in, 900);
        assert.notEqual(r.refresh_token, s.refresh_token);
        assert.notEqual(r.access_token, s.access_token);
        assert.deepEqual(r.tokens, { access: r.access_token, refresh: r.refresh_token });
        assert.equal(r.user.id, plainId);
        assert.equal(ok(await ch.call('getMe', {}, r.access_token), 'new access token').id, plainId);
        refused(await ch.call('refresh', { refreshToken: s.refresh_token }), 'unauthenticated', 'REFRESH_TOKEN_REUSED', 'reuse');
        refused(await ch.call('refresh', { refreshToken: 'garbage' }), 'unauthenticated', 'INVALID_TOKEN', 'garbage');
        // An access token is not a refresh token.
        refused(await ch.call('refresh', { refreshToken: plain.access_token }), 'unauthenticated', 'INVALID_TOKEN', 'access as refresh');
        refused(await ch.call('refresh', {}), 'invalid_argument', 'MISSING_FIELD', 'missing');
      });

      test("Logout: ends the caller's session; anonymous is 401", async () => {
        const s = ok(await ch.call('login', { ...PLAIN }), 'login');
        assert.deepEqual(ok(await ch.call('logout', {}, s.access_token), 'logout'), { success: true });
        refused(await ch.call('getMe', {}, s.access_token), 'unauthenticated', 'SESSION_REVOKED', 'after logout');
        refused(await ch.call('logout', {}, s.access_token), 'unauthenticated', 'SESSION_REVOKED', 'logout twice');
        refused(await ch.call('verifyToken', { token: s.access_token }), 'unauthenticated', 'SESSION_REVOKED', 'verify after logout');
        refused(await ch.call('logout', {}), 'unauthenticated', 'UNAUTHENTICATED', 'anonymous');
        // Other sessions of the same user live on.
        ok(await ch.call('getMe', {}, plain.access_token), 'plain still signed in');
      });

      test('CreateToken: administrators only', async () => {
        const t = ok(await ch.call('createToken', { username: ADMIN.identifier, password: ADMIN.secret }), 'admin token');
        assert.equal(t.token_type, 'bearer');
        assert.equal(typeof t.access_token, 'string');
        assert.equal(t.expires_in, 900);
        assert.equal(ok(await ch.call('getMe', {}, t.access_token), 'token works').id, adminId);
        refused(
          await ch.call('createToken', { username: PLAIN.identifier, password: PLAIN.secret }),
          'permission_denied',
          'ADMIN_REQUIRED',
          'plain user',
        );
        refused(
          await ch.call('createToken', { username: ADMIN.identifier, password: 'wrong-password' }),
          'unauthenticated',
          'INVALID_CREDENTIALS',
          'wrong password',
        );
        refused(
          await ch.call('createToken', { username: 'nobody@example.com', password: 'whatever-password' }),
          'unauthenticated',
          'INVALID_CREDENTIALS',
          'unknown user',
        );
        ok(await ch.call('createToken', { username: ADMIN.identifier, password: ADMIN.secret }), 'admin token again');
      });

      test('ListSigningKeys: admin yes, plain user 403, anonymous 401', async () => {
        const keys = ok(await ch.call('listSigningKeys', {}, admin.access_token), 'admin');
        assert.ok(keys.items.length >= 1);
        for (const k of keys.items) {
          assert.equal(typeof k.kid, 'string');
          assert.equal(k.alg, 'ES256');
          assert.ok(['pending', 'active', 'retired'].includes(k.status), k.status);
          assert.equal(typeof k.created_at, 'string');
        }
        const kid = JSON.parse(Buffer.from(admin.access_token.split('.')[0], 'base64url').toString()).kid;
        assert.ok(
          keys.items.some((k: any) => k.kid === kid),
          'the key that signed the token is listed',
        );
        assert.equal(keys.items.filter((k: any) => k.status === 'active').length, 1);
        refused(await ch.call('listSigningKeys', {}, plain.access_token), 'permission_denied', 'PERMISSION_DENIED', 'plain');
        refused(await ch.call('listSigningKeys', {}), 'unauthenticated', 'UNAUTHENTICATED', 'anonymous');
      });

      test('RotateSigningKey: admin yes (old tokens keep working), plain user 403, anonymous 401', async () => {
        refused(await ch.call('rotateSigningKey', {}, plain.access_token), 'permission_denied', 'PERMISSION_DENIED', 'plain');
        refused(await ch.call('rotateSigningKey', {}), 'unauthenticated', 'UNAUTHENTICATED', 'anonymous');
        const before = ok(await ch.call('listSigningKeys', {}, admin.access_token), 'keys before');
        const { key } = ok(await ch.call('rotateSigningKey', {}, admin.access_token), 'rotate');
        assert.equal(key.alg, 'ES256');
        assert.ok(!before.items.some((k: any) => k.kid === key.kid), 'a new kid');
        // The test server publishes with no delay: the new key signs at once.
        assert.equal(key.status, 'active');
        const after = ok(await ch.call('listSigningKeys', {}, admin.access_token), 'keys after');
        assert.equal(after.items.length, before.items.length + 1);
        const old = after.items.find((k: any) => before.items.find((b: any) => b.status === 'active')?.kid === k.kid);
        assert.equal(old.status, 'retired');
        assert.equal(typeof old.unpublish_at, 'string');
        // Tokens signed by the retired key still verify; new ones carry the new kid.
        ok(await ch.call('getMe', {}, plain.access_token), 'old token');
        const fresh = ok(await ch.call('login', { ...PLAIN }), 'login after rotation');
        assert.equal(JSON.parse(Buffer.from(fresh.access_token.split('.')[0], 'base64url').toString()).kid, key.kid);
        ok(await ch.call('getMe', {}, fresh.access_token), 'new token');
        const jwks = await (await fetch(`${server.url}/.well-known/jwks.json`)).json();
        assert.ok(jwks.keys.some((k: any) => k.kid === key.kid));
        assert.ok(jwks.keys.some((k: any) => k.kid === old.kid));
      });

      test('ListAuditEvents: admin sees logins; plain user 403; anonymous 401', async () => {
        const events = ok(await ch.call('listAuditEvents', { limit: 100 }, admin.access_token), 'admin');
        assert.equal(events.limit, 100);
        assert.ok(events.total >= events.items.length && events.items.length > 0);
        const times = events.items.map((e: any) => Date.parse(e.occurred_at));
        assert.deepEqual(
          times,
          [...times].sort((a, b) => b - a),
          'newest first',
        );
        assert.ok(
          events.items.some(
            (e: any) =>
              e.type === 'login' &&
              e.outcome === 'success' &&
              e.identifier === PLAIN.identifier &&
              e.actor_id === plainId &&
              e.ip === '127.0.0.1',
          ),
        );
        assert.ok(events.items.some((e: any) => e.outcome === 'failure' && e.reason === 'INVALID_CREDENTIALS'));
        const failures = ok(await ch.call('listAuditEvents', { outcome: 'failure' }, admin.access_token), 'failures');
        assert.ok(failures.items.length > 0 && failures.items.every((e: any) => e.outcome === 'failure'));
        const mine = ok(await ch.call('listAuditEvents', { actorId: plainId }, admin.access_token), 'by actor');
        assert.ok(mine.items.length > 0 && mine.items.every((e: any) => e.actor_id === plainId));
        refused(await ch.call('listAuditEvents', {}, plain.access_token), 'permission_denied', 'PERMISSION_DENIED', 'plain');
        refused(await ch.call('listAuditEvents', {}), 'unauthenticated', 'UNAUTHENTICATED', 'anonymous');
      });
    });
  }

  describe('POST /token (legacy ASF form login)', () => {
    const form = (username: string, password: string) =>
      server.rest('/token', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `username=${encodeURIComponent(username)}&password=${encodeURIComponent(password)}`,
      });

    test('the admin gets {access_token, token_type: "bearer"} that works on /api/sso/v1/me', async () => {
      const res = await form(ADMIN.identifier, ADMIN.secret);
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.token_type, 'bearer');
      assert.equal(typeof body.access_token, 'string');
      const me = await fetch(`${server.url}/api/sso/v1/me`, { headers: { Authorization: `Bearer ${body.access_token}` } });
      assert.equal(me.status, 200);
      const user = await me.json();
      assert.equal(user.id, adminId);
      assert.equal(user.is_admin, true);
    });

    test('a non-admin gets 403', async () => {
      const res = await form(PLAIN.identifier, PLAIN.secret);
      assert.equal(res.status, 403);
      const body = await res.json();
      assert.equal(body.code, 'permission_denied');
      assert.equal(body.error_code, 'ADMIN_REQUIRED');
      assert.ok(!('access_token' in body));
    });

    test('a wrong password gets 401', async () => {
      const res = await form(ADMIN.identifier, 'not-the-password');
      assert.equal(res.status, 401);
      const body = await res.json();
      assert.equal(body.code, 'unauthenticated');
      assert.equal(body.error_code, 'INVALID_CREDENTIALS');
    });
  });

  test('gRPC errors carry the reason as an ErrorInfo detail (direct check)', async () => {
    const client = server.client(AuthService, { protocol: 'grpc' });
    await assert.rejects(client.getMe({}), (e: unknown) => {
      assert.ok(e instanceof ConnectError);
      assert.equal(e.code, Code.Unauthenticated);
      assert.equal(e.findDetails(ErrorInfoSchema)[0]?.reason, 'UNAUTHENTICATED');
      return true;
    });
    const connect = server.client(AuthService, { protocol: 'connect' });
    await assert.rejects(connect.login({ identifier: PLAIN.identifier, secret: 'wrong-password' }), (e: unknown) => {
      assert.ok(e instanceof ConnectError);
      assert.equal(e.code, Code.Unauthenticated);
      assert.equal(e.findDetails(ErrorInfoSchema)[0]?.reason, 'INVALID_CREDENTIALS');
      return true;
    });
    // Leave the plain identifier's failure count at zero.
    await connect.login({ ...PLAIN });
  });
});
