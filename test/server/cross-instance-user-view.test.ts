// GET /me's user view is kept by each instance's revocation cache. Two server instances on one
// database (B over A's embedded socket, as a worker of SSO_WORKERS would): B holds the caller's
// view, then plain SQL on A's connection changes something the view shows; B's very next GET /me
// (by access token and by API key) must show the change. On PostgreSQL and on the embedded database.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type StandingCache, standingCacheOf } from '../../src/domain/auth/standing-cache.js';
import { userViewKey } from '../../src/domain/users/current-user.js';
import type { TestServer } from '../support/server.js';
import { startTwoInstances } from '../support/two-instances.js';

let stop: (() => Promise<void>) | undefined;
let a: TestServer;
let b: TestServer;

const cacheOf = (s: TestServer): StandingCache => standingCacheOf(s.app.database.dataSource)!;
const sql = (text: string, params: unknown[] = []): Promise<any[]> => a.app.database.dataSource.query(text, params);

async function json(res: Response): Promise<any> {
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

interface Caller {
  id: string;
  token: string;
  key: string;
  /** The workspace the token selected. */
  workspaceId?: string;
}

async function newCaller(identifier: string, workspaceId?: string): Promise<Caller> {
  const login = (extra: object) =>
    a.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier, secret: 'Password123!x', register: true, ...extra } });
  const first = await json(await login({}));
  const created = await json(await a.rest('/api/sso/v1/apikeys', { method: 'POST', token: first.access_token, json: { name: 'k' } }));
  if (!workspaceId) return { id: first.user.id, token: first.access_token, key: created.key };
  await sql('INSERT INTO workspace_members (workspace_id, user_id) VALUES ($1, $2)', [workspaceId, first.user.id]);
  const inWorkspace = await json(await login({ workspace_id: workspaceId }));
  return { id: first.user.id, token: inWorkspace.access_token, key: created.key, workspaceId };
}

/** GET /me on B (its body is the user). */
const meOnB = async (c: Caller, by: 'token' | 'key') =>
  json(await b.rest('/api/sso/v1/me', by === 'token' ? { token: c.token } : { headers: { 'x-api-key': c.key } }));

/** B answers GET /me twice by each credential, and keeps the views it read (so a stale one would be served). */
async function warm(c: Caller): Promise<void> {
  for (const by of ['token', 'key'] as const) for (let i = 0; i < 2; i++) await meOnB(c, by);
  assert.ok(cacheOf(b).has(userViewKey(c.id, c.workspaceId)), "B keeps the token's view");
  assert.ok(cacheOf(b).has(userViewKey(c.id, undefined)), "B keeps the key's view");
}

/** After `change` commits on A, B's first GET /me by token and by key passes `check`; then B keeps the new view again. */
async function seenAtOnce(c: Caller, change: () => Promise<unknown>, check: (user: any) => void): Promise<void> {
  await warm(c);
  await change();
  check(await meOnB(c, 'token'));
  check(await meOnB(c, 'key'));
  check(await meOnB(c, 'token'));
}

before(async () => {
  ({ a, b, stop } = await startTwoInstances({ issuer: 'http://sso.test' }));
  // The first user is the administrator; the callers below are ordinary users.
  await json(
    await a.rest('/api/sso/v1/auth/login', {
      method: 'POST',
      json: { identifier: 'admin@example.com', secret: 'Password123!x', register: true },
    }),
  );
  assert.ok(cacheOf(a).notifications.up && cacheOf(b).notifications.up, 'both instances listen');
});

after(async () => {
  await stop?.();
});

describe("plain SQL on A changes what GET /me shows: B's next call shows it", () => {
  test('identifiers: verified, added, changed, removed', async () => {
    const c = await newCaller('ids@example.com');
    await seenAtOnce(
      c,
      () => sql('UPDATE user_identifiers SET verified = true WHERE user_id = $1', [c.id]),
      (u) => assert.equal(u.identifiers[0].verified, true),
    );
    await seenAtOnce(
      c,
      () => sql(`INSERT INTO user_identifiers (user_id, type, value, is_primary) VALUES ($1, 'username', 'ids-user', false)`, [c.id]),
      (u) => assert.deepEqual(u.identifiers.map((i: any) => i.identifier).sort(), ['ids-user', 'ids@example.com']),
    );
    await seenAtOnce(
      c,
      () => sql(`UPDATE user_identifiers SET value = 'ids-renamed' WHERE value = 'ids-user'`),
      (u) => assert.ok(u.identifiers.some((i: any) => i.identifier === 'ids-renamed')),
    );
    await seenAtOnce(
      c,
      () => sql(`DELETE FROM user_identifiers WHERE value = 'ids-renamed'`),
      (u) =>
        assert.deepEqual(
          u.identifiers.map((i: any) => i.identifier),
          ['ids@example.com'],
        ),
    );
  });

  test("the user's row: any column (updated_at alone too), direct scopes", async () => {
    const c = await newCaller('row@example.com');
    await seenAtOnce(
      c,
      () => sql(`UPDATE users SET updated_at = '2031-01-01T00:00:00Z' WHERE id = $1`, [c.id]),
      (u) => assert.equal(u.updated_at, '2031-01-01T00:00:00Z'),
    );
    await seenAtOnce(
      c,
      () => sql(`UPDATE users SET scopes = '{read:users,read:apps}' WHERE id = $1`, [c.id]),
      (u) => assert.deepEqual(u.direct_scopes, ['read:users', 'read:apps']),
    );
  });

  test("global roles: granted, a role's scopes changed, the role deleted", async () => {
    const c = await newCaller('roles@example.com');
    const [role] = await sql(`INSERT INTO roles (name, slug, scopes) VALUES ('Viewers', 'viewers', '{read:users}') RETURNING id`);
    await seenAtOnce(
      c,
      () => sql('INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)', [c.id, role.id]),
      (u) => assert.deepEqual([u.roles, u.scopes], [['viewers'], ['read:users']]),
    );
    await seenAtOnce(
      c,
      () => sql(`UPDATE roles SET scopes = '{read:apps}' WHERE id = $1`, [role.id]),
      (u) => assert.deepEqual(u.scopes, ['read:apps']),
    );
    await seenAtOnce(
      c,
      () => sql('DELETE FROM roles WHERE id = $1', [role.id]),
      (u) => assert.deepEqual([u.roles ?? [], u.scopes ?? []], [[], []]),
    );
  });

  test("workspaces: joined, left, deleted; the selected workspace's roles", async () => {
    const [home] = await sql(`INSERT INTO workspaces (name, slug) VALUES ('Home', 'home') RETURNING id`);
    const c = await newCaller('member@example.com', home.id);
    const [other] = await sql(`INSERT INTO workspaces (name, slug) VALUES ('Other', 'other') RETURNING id`);
    await seenAtOnce(
      c,
      () => sql('INSERT INTO workspace_members (workspace_id, user_id) VALUES ($1, $2)', [other.id, c.id]),
      (u) => assert.ok(u.workspace_ids.includes(other.id)),
    );
    await seenAtOnce(
      c,
      () => sql('DELETE FROM workspaces WHERE id = $1', [other.id]),
      (u) => assert.deepEqual(u.workspace_ids, [home.id]),
    );
    const [role] = await sql(
      `INSERT INTO roles (workspace_id, name, slug, scopes) VALUES ($1, 'Editors', 'editors', '{write:docs}') RETURNING id`,
      [home.id],
    );
    // Only the token selects the workspace (an API key holds global grants): check it alone.
    await warm(c);
    await sql('INSERT INTO workspace_member_roles (workspace_id, user_id, role_id) VALUES ($1, $2, $3)', [home.id, c.id, role.id]);
    assert.deepEqual((await meOnB(c, 'token')).roles, ['editors']);
    await sql('DELETE FROM workspace_member_roles WHERE role_id = $1', [role.id]);
    assert.deepEqual((await meOnB(c, 'token')).roles ?? [], []);
  });
});

describe("a refresh's tokens carry the same kept view: B's next refresh after plain SQL on A carries the change", () => {
  const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
  const refreshOnB = async (token: string) =>
    json(await b.rest('/api/sso/v1/auth/refresh', { method: 'POST', json: { refresh_token: token } }));

  test('direct scopes granted and taken away, and deactivation', async () => {
    const first = await json(
      await a.rest('/api/sso/v1/auth/login', {
        method: 'POST',
        json: { identifier: 'refresher@example.com', secret: 'Password123!x', register: true },
      }),
    );
    const id = first.user.id;
    // B refreshes twice and keeps the view its tokens were made from.
    let tokens = await refreshOnB((await refreshOnB(first.refresh_token)).refresh_token);
    assert.ok(cacheOf(b).has(userViewKey(id, undefined)), 'B keeps the view a refresh read');
    await sql(`UPDATE users SET scopes = '{read:users}' WHERE id = $1`, [id]);
    tokens = await refreshOnB(tokens.refresh_token);
    assert.deepEqual(claimsOf(tokens.access_token).scopes, ['read:users']);
    assert.deepEqual(tokens.user.direct_scopes, ['read:users']);
    await sql(`UPDATE users SET scopes = '{}' WHERE id = $1`, [id]);
    tokens = await refreshOnB(tokens.refresh_token);
    assert.deepEqual(claimsOf(tokens.access_token).scopes, []);
    await sql('UPDATE users SET is_active = false WHERE id = $1', [id]);
    const refused = await b.rest('/api/sso/v1/auth/refresh', { method: 'POST', json: { refresh_token: tokens.refresh_token } });
    assert.equal(refused.status, 403, await refused.clone().text());
  });
});
