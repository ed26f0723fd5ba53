// Two server instances on one database, each with its revocation cache on: whatever instance A
// (or plain SQL) revokes, instance B refuses at once, although B had the credential's standing
// cached. On PostgreSQL B uses the same schema; on the embedded database B reaches A's PGlite over
// its socket, as a worker process of SSO_WORKERS does. Also: while B's listening connection is
// down, B reads the database for every call; and the time from a commit to B hearing of it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PgNotificationListener } from '../../src/db/pg-notification-listener.js';
import { type StandingCache, standingCacheOf } from '../../src/domain/auth/standing-cache.js';
import type { TestDatabase } from '../support/database.js';
import type { TestServer } from '../support/server.js';
import { startTwoInstances } from '../support/two-instances.js';

let db: TestDatabase;
let stop: (() => Promise<void>) | undefined;
let a: TestServer;
let b: TestServer;
let admin: string;

/**
 * How long B may take to refuse what A revoked, counted to the end of B's answer. The notification
 * itself takes well under a millisecond (see "the window"); the rest is room for a loaded CI
 * machine. What matters more is asserted too: the first call after the commit is refused.
 */
const BOUND_MS = 1000;

const cacheOf = (s: TestServer): StandingCache => standingCacheOf(s.app.database.dataSource)!;
const sql = (text: string, params: unknown[] = []): Promise<any[]> => a.app.database.dataSource.query(text, params);

async function json(res: Response): Promise<any> {
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

async function login(identifier: string): Promise<{ token: string; id: string; session: string }> {
  const body = await json(
    await a.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier, secret: 'Password123!x', register: true } }),
  );
  return { token: body.access_token, id: body.user.id, session: body.session_id };
}

const meWithToken = (s: TestServer, token: string) => s.rest('/api/sso/v1/me', { token });
const meWithKey = (s: TestServer, key: string) => s.rest('/api/sso/v1/me', { headers: { 'x-api-key': key } });
const verifyKey = (s: TestServer, key: string) => s.rest('/api/sso/v1/apikeys/verify', { method: 'POST', json: { api_key: key } });
const verifyToken = (s: TestServer, token: string) => s.rest('/api/sso/v1/auth/verify-token', { method: 'POST', json: { token } });

/** Calls `call` until it is refused (401, or 403 for an inactive user) or the bound passes; returns the delay and the calls it took. */
async function refusedWithin(call: () => Promise<Response>): Promise<{ ms: number; calls: number }> {
  const started = performance.now();
  for (let calls = 1; ; calls++) {
    const res = await call();
    const ms = performance.now() - started;
    if (res.status === 401 || res.status === 403) return { ms, calls };
    assert.equal(res.status, 200, await res.text());
    assert.ok(ms < BOUND_MS, `still accepted after ${ms.toFixed(1)} ms`);
  }
}

/** B answers 200 twice (the second from its cache), and holds the standing. */
async function warm(calls: (() => Promise<Response>)[]): Promise<void> {
  const before = cacheOf(b).size;
  for (const call of calls) {
    for (let i = 0; i < 2; i++) assert.equal((await call()).status, 200);
  }
  assert.ok(cacheOf(b).size > before, 'B keeps what it read');
}

/** The delay must be within the bound; with the barrier, the very first call after the commit refuses. */
function assertPrompt(r: { ms: number; calls: number }, what: string): void {
  assert.ok(r.ms < BOUND_MS, `${what}: ${r.ms.toFixed(1)} ms`);
  assert.equal(r.calls, 1, `${what}: refused only after ${r.calls} calls`);
}

async function newUserWithKey(identifier: string): Promise<{ token: string; id: string; session: string; key: string; keyId: string }> {
  const user = await login(identifier);
  await sql('UPDATE users SET scopes = $2 WHERE id = $1', [user.id, ['read:users']]);
  const created = await json(await a.rest('/api/sso/v1/apikeys', { method: 'POST', token: user.token, json: { name: 'k' } }));
  return { ...user, key: created.key, keyId: created.id };
}

async function newAgentWithKey(): Promise<{ id: string; key: string; keyId: string; token: string }> {
  const agent = await json(
    await a.rest('/api/sso/v1/agents', { method: 'POST', token: admin, json: { name: 'Agent', scopes: ['read:users'] } }),
  );
  const created = await json(
    await a.rest('/api/sso/v1/apikeys', { method: 'POST', token: admin, json: { agent_id: agent.id, name: 'sdk' } }),
  );
  const grant = await json(
    await a.rest('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: agent.id, client_secret: created.key }).toString(),
    }),
  );
  return { id: agent.id, key: created.key, keyId: created.id, token: grant.access_token };
}

before(async () => {
  ({ db, a, b, stop } = await startTwoInstances({ issuer: 'http://sso.test' }));
  admin = (await login('admin@example.com')).token;
  assert.ok(cacheOf(a).notifications.up && cacheOf(b).notifications.up, 'both instances listen');
});

after(async () => {
  await stop?.();
});

describe('what instance A revokes, instance B refuses at once', () => {
  test('logout on A: B refuses the access token (GET /me and verify-token)', async () => {
    const user = await login('logout@example.com');
    await warm([() => meWithToken(b, user.token), () => verifyToken(b, user.token)]);
    assert.equal((await a.rest('/api/sso/v1/auth/logout', { method: 'POST', token: user.token, json: {} })).status, 200);
    assertPrompt(await refusedWithin(() => meWithToken(b, user.token)), 'logout');
    const verified = await verifyToken(b, user.token);
    assert.equal(verified.status, 401);
  });

  test('DeleteSession on A: B refuses that session, keeps serving another', async () => {
    const first = await login('two-sessions@example.com');
    const second = await login('two-sessions@example.com');
    await warm([() => meWithToken(b, first.token), () => meWithToken(b, second.token)]);
    assert.equal((await a.rest(`/api/sso/v1/sessions/${first.session}`, { method: 'DELETE', token: admin })).status, 200);
    assertPrompt(await refusedWithin(() => meWithToken(b, first.token)), 'DeleteSession');
    assert.equal((await meWithToken(b, second.token)).status, 200);
  });

  test('an API key deleted on A: B refuses it (GET /me and POST /apikeys/verify)', async () => {
    const user = await newUserWithKey('key-owner@example.com');
    await warm([() => meWithKey(b, user.key), () => verifyKey(b, user.key)]);
    assert.equal((await a.rest(`/api/sso/v1/apikeys/${user.keyId}`, { method: 'DELETE', token: admin })).status, 200);
    assertPrompt(await refusedWithin(() => meWithKey(b, user.key)), 'API key delete');
    assert.equal((await verifyKey(b, user.key)).status, 401);
    assert.equal((await meWithToken(b, user.token)).status, 200, 'the owner is still signed in');
  });

  test('a user deactivated on A: B refuses their token and their key', async () => {
    const user = await newUserWithKey('deactivated@example.com');
    await warm([() => meWithToken(b, user.token), () => meWithKey(b, user.key)]);
    await json(await a.rest(`/api/sso/v1/users/${user.id}`, { method: 'PATCH', token: admin, json: { is_active: false } }));
    assertPrompt(await refusedWithin(() => meWithToken(b, user.token)), 'deactivation (token)');
    assertPrompt(await refusedWithin(() => meWithKey(b, user.key)), 'deactivation (key)');
  });

  test('plain SQL straight to the database: revoked session, revoked key, expired key, deactivated agent, lost scope', async () => {
    const user = await newUserWithKey('plain-sql@example.com');
    const agent = await newAgentWithKey();
    await warm([
      () => meWithToken(b, user.token),
      () => meWithKey(b, user.key),
      () => verifyKey(b, agent.key),
      () => verifyToken(b, agent.token),
    ]);

    await sql(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'operator' WHERE id = $1`, [user.session]);
    assertPrompt(await refusedWithin(() => meWithToken(b, user.token)), 'SQL: session');

    const users = () => b.rest('/api/sso/v1/users', { headers: { 'x-api-key': user.key } });
    assert.equal((await users()).status, 200);
    await sql('UPDATE users SET scopes = $2 WHERE id = $1', [user.id, []]);
    assert.equal((await users()).status, 403, 'a lost scope holds at once');

    await sql(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [user.keyId]);
    assertPrompt(await refusedWithin(() => meWithKey(b, user.key)), 'SQL: key expiry');

    await sql('UPDATE agents SET is_active = false WHERE id = $1', [agent.id]);
    assertPrompt(await refusedWithin(() => verifyKey(b, agent.key)), 'SQL: agent (key)');
    assertPrompt(await refusedWithin(() => verifyToken(b, agent.token)), 'SQL: agent (token)');
  });

  test('an agent key revoked by SQL: B refuses the key and the tokens issued against it', async () => {
    const agent = await newAgentWithKey();
    await warm([() => verifyKey(b, agent.key), () => verifyToken(b, agent.token)]);
    await sql('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [agent.keyId]);
    assertPrompt(await refusedWithin(() => verifyKey(b, agent.key)), 'SQL: agent key');
    assertPrompt(await refusedWithin(() => verifyToken(b, agent.token)), 'SQL: token of the agent key');
  });

  test('a refresh (session rotation) on A drops nothing on B', async () => {
    const other = await login('bystander@example.com');
    const body = await json(
      await a.rest('/api/sso/v1/auth/login', {
        method: 'POST',
        json: { identifier: 'refresher@example.com', secret: 'Password123!x', register: true },
      }),
    );
    await warm([() => meWithToken(b, other.token), () => meWithToken(b, body.access_token)]);
    const size = cacheOf(b).size;
    await json(await a.rest('/api/sso/v1/auth/refresh', { method: 'POST', json: { refresh_token: body.refresh_token } }));
    await sql('SELECT 1');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(cacheOf(b).size, size, 'an extended expiry is not announced');
  });
});

describe("while B's listening connection is down", () => {
  test('B reads the database for every call, and starts caching again once it listens', async () => {
    const user = await newUserWithKey('listener-down@example.com');
    const spare = await newUserWithKey('listener-down-2@example.com');
    await warm([() => meWithKey(b, user.key), () => meWithKey(b, spare.key)]);
    const cache = cacheOf(b);

    await (cache.notifications as PgNotificationListener).connection!.end();
    assert.equal(cache.notifications.up, false);
    assert.equal(cache.size, 0, 'cleared when it went down');
    // Nothing is heard now: only reading the database can refuse the key.
    await sql('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [user.keyId]);
    assert.equal((await meWithKey(b, user.key)).status, 401);
    assert.equal((await meWithKey(b, spare.key)).status, 200);
    assert.equal(cache.notifications.up, false, 'still down: the refusal came from the database');
    assert.equal(cache.size, 0, 'nothing is kept while down');

    const deadline = Date.now() + 5000;
    while (!cache.notifications.up && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(cache.notifications.up, 'reconnected');
    assert.equal((await meWithKey(b, user.key)).status, 401);
    await warm([() => meWithKey(b, spare.key)]);
    await sql('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [spare.keyId]);
    assertPrompt(await refusedWithin(() => meWithKey(b, spare.key)), 'after reconnecting');
  });
});

describe('the window', () => {
  test('from a commit returning on A to B hearing of it', async (t) => {
    const user = await newUserWithKey('window@example.com');
    const cache = cacheOf(b);
    const heard = new Map<string, number>();
    const invalidate = cache.invalidate.bind(cache);
    cache.invalidate = (tag: string) => {
      heard.set(tag, performance.now());
      invalidate(tag);
    };
    const delays: number[] = [];
    try {
      for (let i = 0; i < 50; i++) {
        await sql('UPDATE users SET is_active = $2 WHERE id = $1', [user.id, i % 2 === 1]);
        const committed = performance.now();
        const deadline = committed + 1000;
        while (!heard.has(`u:${user.id}`) && performance.now() < deadline) await new Promise((r) => setImmediate(r));
        const at = heard.get(`u:${user.id}`);
        assert.ok(at !== undefined, 'heard');
        delays.push(Math.max(0, at - committed));
        heard.clear();
      }
    } finally {
      cache.invalidate = invalidate;
    }
    delays.sort((x, y) => x - y);
    const p = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))]!.toFixed(2);
    t.diagnostic(
      `${db.kind}: commit returned → B heard it: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${p(1)} ms (0 = before the commit returned)`,
    );
    assert.ok(delays[Math.floor(delays.length / 2)]! < 200, 'median under 200 ms');
  });
});
