// Sessions: refresh-token rotation with reuse detection (also under concurrent refreshes),
// logout, listing and revoking sessions, and who may see or end whose.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.js';

const ADMIN = { identifier: 'admin@example.com', secret: 'AdminPassword123!' };
const PLAIN = { identifier: 'plain@example.com', secret: 'PlainPassword123!' };

interface Tokens {
  access_token: string;
  refresh_token: string;
  session_id: string;
  user: { id: string };
}

describe('sessions', () => {
  let server: TestServer;
  let admin: Tokens;
  let plain: Tokens;

  async function login(who: typeof ADMIN, register = false): Promise<Tokens> {
    const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { ...who, register } });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    return body;
  }
  async function refresh(token: string): Promise<{ status: number; body: any }> {
    const res = await server.rest('/api/sso/v1/auth/refresh', { method: 'POST', json: { refresh_token: token } });
    return { status: res.status, body: await res.json() };
  }
  async function me(token: string): Promise<{ status: number; body: any }> {
    const res = await server.rest('/api/sso/v1/me', { token });
    return { status: res.status, body: await res.json() };
  }
  async function sessions(token: string, query = ''): Promise<{ status: number; body: any }> {
    const res = await server.rest(`/api/sso/v1/sessions${query}`, { token });
    return { status: res.status, body: await res.json() };
  }
  async function del(token: string, id: string): Promise<{ status: number; body: any }> {
    const res = await server.rest(`/api/sso/v1/sessions/${id}`, { method: 'DELETE', token });
    return { status: res.status, body: await res.json() };
  }
  /** Everything a revoked session's tokens must now fail at. */
  async function assertSessionDead(tokens: { access_token: string; refresh_token: string }[], what: string) {
    for (const t of tokens) {
      const m = await me(t.access_token);
      assert.equal(m.status, 401, `${what}: /me`);
      assert.equal(m.body.error_code, 'SESSION_REVOKED', `${what}: /me`);
      const r = await refresh(t.refresh_token);
      assert.equal(r.status, 401, `${what}: refresh`);
      assert.ok(['SESSION_REVOKED', 'REFRESH_TOKEN_REUSED'].includes(r.body.error_code), `${what}: refresh ${r.body.error_code}`);
      const v = await server.rest('/api/sso/v1/auth/verify-token', { method: 'POST', json: { token: t.access_token } });
      assert.equal(v.status, 401, `${what}: verify-token`);
    }
  }

  before(async () => {
    server = await startTestServer();
    admin = await login(ADMIN, true);
    plain = await login(PLAIN, true);
  });
  after(async () => {
    await server?.stop();
  });

  test('refresh rotates; the new refresh token works once; reusing a retired one revokes the whole session', async () => {
    const s0 = await login(PLAIN);
    const r1 = await refresh(s0.refresh_token);
    assert.equal(r1.status, 200);
    assert.equal(r1.body.session_id, s0.session_id);
    assert.notEqual(r1.body.refresh_token, s0.refresh_token);
    assert.notEqual(r1.body.access_token, s0.access_token);
    assert.equal((await me(r1.body.access_token)).status, 200);
    // The old access token stays valid until it expires (the session is live).
    assert.equal((await me(s0.access_token)).status, 200);

    const r2 = await refresh(r1.body.refresh_token);
    assert.equal(r2.status, 200, 'the new refresh token works');
    assert.equal(r2.body.session_id, s0.session_id);
    assert.equal((await me(r2.body.access_token)).status, 200);

    // r1's refresh token has been used once; the original one long ago. Presenting the original:
    const reuse = await refresh(s0.refresh_token);
    assert.equal(reuse.status, 401);
    assert.equal(reuse.body.code, 'unauthenticated');
    assert.equal(reuse.body.error_code, 'REFRESH_TOKEN_REUSED');

    // The whole session is gone, including the newest tokens.
    const newest = await refresh(r2.body.refresh_token);
    assert.equal(newest.status, 401);
    assert.equal(newest.body.error_code, 'SESSION_REVOKED');
    await assertSessionDead([s0, r1.body, r2.body], 'after reuse');
    const listed = await sessions(plain.access_token, '?limit=100');
    assert.ok(!listed.body.items.some((s: any) => s.id === s0.session_id), 'no longer listed');
    // Other sessions of the user are untouched.
    assert.equal((await me(plain.access_token)).status, 200);
  });

  test('a used refresh token presented again is reuse too (the one that was just rotated)', async () => {
    const s0 = await login(PLAIN);
    const r1 = await refresh(s0.refresh_token);
    assert.equal(r1.status, 200);
    const r2 = await refresh(r1.body.refresh_token);
    assert.equal(r2.status, 200);
    const again = await refresh(r1.body.refresh_token);
    assert.equal(again.status, 401);
    assert.equal(again.body.error_code, 'REFRESH_TOKEN_REUSED');
    await assertSessionDead([r2.body], 'after second use');
  });

  for (const n of [2, 5]) {
    test(`${n} concurrent refreshes with the same token: at most one succeeds, then the session is revoked`, async () => {
      const s0 = await login(PLAIN);
      const results = await Promise.all(Array.from({ length: n }, () => refresh(s0.refresh_token)));
      const wins = results.filter((r) => r.status === 200);
      const losses = results.filter((r) => r.status !== 200);
      assert.ok(wins.length <= 1, `${wins.length} of ${n} refreshes succeeded`);
      assert.ok(losses.length >= n - 1);
      for (const l of losses) {
        assert.equal(l.status, 401, JSON.stringify(l.body));
        assert.ok(['REFRESH_TOKEN_REUSED', 'SESSION_REVOKED'].includes(l.body.error_code), l.body.error_code);
      }
      assert.ok(
        losses.some((l) => l.body.error_code === 'REFRESH_TOKEN_REUSED'),
        'reuse was detected',
      );
      await assertSessionDead([s0, ...wins.map((w) => w.body)], `after ${n} racing refreshes`);
      const rows = await server.app.database.dataSource.query('SELECT revoked_at, revoked_reason FROM sessions WHERE id = $1', [
        s0.session_id,
      ]);
      assert.equal(rows.length, 1);
      assert.notEqual(rows[0].revoked_at, null);
      assert.equal(rows[0].revoked_reason, 'refresh_token_reuse');
    });
  }

  test('logout ends only that session', async () => {
    const a = await login(PLAIN);
    const b = await login(PLAIN);
    const out = await server.rest('/api/sso/v1/auth/logout', { method: 'POST', token: a.access_token });
    assert.equal(out.status, 200);
    assert.deepEqual(await out.json(), { success: true });
    await assertSessionDead([a], 'logged out');
    assert.equal((await me(b.access_token)).status, 200);
    const r = await refresh(b.refresh_token);
    assert.equal(r.status, 200);
    assert.equal((await me(r.body.access_token)).status, 200);
  });

  describe('listing', () => {
    let user: Tokens;
    const created: Tokens[] = [];

    before(async () => {
      // A user of its own, so the counts are known: 4 sessions, one of them then logged out.
      const res = await server.rest('/api/sso/v1/auth/login', {
        method: 'POST',
        json: { identifier: 'lister', secret: 'ListerPassword1', register: true },
      });
      assert.equal(res.status, 200);
      user = await res.json();
      created.push(user);
      for (let i = 0; i < 3; i++) {
        const r = await server.rest('/api/sso/v1/auth/login', {
          method: 'POST',
          json: { identifier: 'lister', secret: 'ListerPassword1' },
        });
        assert.equal(r.status, 200);
        created.push(await r.json());
      }
      const out = await server.rest('/api/sso/v1/auth/logout', { method: 'POST', token: created[1]!.access_token });
      assert.equal(out.status, 200);
    });

    test('live sessions, newest first, current marked; {items, total, offset, limit} with limit 10 by default', async () => {
      const { status, body } = await sessions(user.access_token);
      assert.equal(status, 200);
      assert.deepEqual(Object.keys(body).sort(), ['items', 'limit', 'offset', 'total']);
      assert.equal(body.offset, 0);
      assert.equal(body.limit, 10);
      assert.equal(body.total, 3);
      const live = [created[3]!, created[2]!, created[0]!].map((t) => t.session_id);
      assert.deepEqual(
        body.items.map((s: any) => s.id),
        live,
        'newest first, the logged-out one left out',
      );
      assert.deepEqual(
        body.items.map((s: any) => s.current),
        [false, false, true],
      );
      const times = body.items.map((s: any) => Date.parse(s.created_at));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
      );
      for (const s of body.items) {
        assert.equal(s.user_id, user.user.id);
        assert.equal(s.ip, '127.0.0.1');
        assert.equal(typeof s.user_agent, 'string');
        assert.ok(Date.parse(s.expires_at) > Date.now());
        assert.equal(s.audience, 'sso');
        assert.equal(s.workspace_id, '');
      }
      // The caller's own session is the current one from whichever token asks.
      const other = await sessions(created[3]!.access_token);
      assert.deepEqual(
        other.body.items.map((s: any) => s.current),
        [true, false, false],
      );
    });

    test('paging: ?limit=1&offset=1', async () => {
      const { status, body } = await sessions(user.access_token, '?limit=1&offset=1');
      assert.equal(status, 200);
      assert.equal(body.limit, 1);
      assert.equal(body.offset, 1);
      assert.equal(body.total, 3);
      assert.deepEqual(
        body.items.map((s: any) => s.id),
        [created[2]!.session_id],
      );
      const past = await sessions(user.access_token, '?offset=5');
      assert.equal(past.status, 200);
      assert.deepEqual(past.body.items, []);
      assert.equal(past.body.total, 3);
    });

    test('bad paging is 400', async () => {
      for (const q of ['?limit=500', '?limit=101', '?offset=-1', '?limit=abc']) {
        const { status, body } = await sessions(user.access_token, q);
        assert.equal(status, 400, q);
        assert.equal(body.code, 'invalid_argument', q);
      }
      const { body } = await sessions(user.access_token, '?limit=500');
      assert.equal(body.error_code, 'INVALID_PAGINATION');
      assert.equal((await sessions(user.access_token, '?limit=100')).status, 200);
    });

    test('?user_id=<other> is 403 for a plain user and allowed for the admin', async () => {
      const denied = await sessions(plain.access_token, `?user_id=${user.user.id}`);
      assert.equal(denied.status, 403);
      assert.equal(denied.body.code, 'permission_denied');
      assert.equal(denied.body.error_code, 'PERMISSION_DENIED');
      const allowed = await sessions(admin.access_token, `?user_id=${user.user.id}`);
      assert.equal(allowed.status, 200);
      assert.equal(allowed.body.total, 3);
      assert.ok(allowed.body.items.every((s: any) => s.user_id === user.user.id && s.current === false));
      // A plain user naming themselves is fine.
      const self = await sessions(plain.access_token, `?user_id=${plain.user.id}`);
      assert.equal(self.status, 200);
      assert.ok(self.body.items.some((s: any) => s.id === plain.session_id && s.current));
      const bad = await sessions(admin.access_token, '?user_id=not-a-uuid');
      assert.equal(bad.status, 400);
    });

    test('anonymous is 401', async () => {
      const res = await server.rest('/api/sso/v1/sessions');
      assert.equal(res.status, 401);
      assert.equal((await res.json()).error_code, 'UNAUTHENTICATED');
    });
  });

  describe('DELETE /api/sso/v1/sessions/{id}', () => {
    test("one's own session: revoked, its refresh then 401", async () => {
      const extra = await login(PLAIN);
      const res = await del(plain.access_token, extra.session_id);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { success: true });
      const r = await refresh(extra.refresh_token);
      assert.equal(r.status, 401);
      assert.equal(r.body.error_code, 'SESSION_REVOKED');
      await assertSessionDead([extra], 'deleted');
      assert.equal((await me(plain.access_token)).status, 200, "the caller's session lives on");
      // Deleting one's current session works too.
      const cur = await login(PLAIN);
      assert.equal((await del(cur.access_token, cur.session_id)).status, 200);
      assert.equal((await me(cur.access_token)).status, 401);
    });

    test("another user's session is 404 for a plain user (and stays live)", async () => {
      const res = await del(plain.access_token, admin.session_id);
      assert.equal(res.status, 404);
      assert.equal(res.body.code, 'not_found');
      assert.equal(res.body.error_code, 'SESSION_NOT_FOUND');
      assert.equal((await me(admin.access_token)).status, 200);
      // Indistinguishable from a session that does not exist.
      const none = await del(plain.access_token, '00000000-0000-4000-8000-000000000000');
      assert.equal(none.status, 404);
      assert.deepEqual(none.body, res.body);
    });

    test("the admin may end another user's session", async () => {
      const victim = await login(PLAIN);
      const res = await del(admin.access_token, victim.session_id);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { success: true });
      await assertSessionDead([victim], 'revoked by admin');
      const [row] = await server.app.database.dataSource.query('SELECT revoked_reason FROM sessions WHERE id = $1', [victim.session_id]);
      assert.equal(row.revoked_reason, 'revoked_by_admin');
    });

    test('a bad id is 400; anonymous is 401', async () => {
      const bad = await del(plain.access_token, 'not-a-uuid');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'invalid_argument');
      assert.equal(bad.body.error_code, 'INVALID_ID');
      const anon = await server.rest(`/api/sso/v1/sessions/${plain.session_id}`, { method: 'DELETE' });
      assert.equal(anon.status, 401);
      assert.equal((await me(plain.access_token)).status, 200);
    });
  });
});
