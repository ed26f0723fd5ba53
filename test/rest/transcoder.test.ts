import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create, toJson, type DescMessage, type Message } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createContextKey, createContextValues, type HandlerContext } from '@connectrpc/connect';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { DirectoryService } from '../../gen/sso/directory/v1/directory_service_pb.js';
import { AppRegistryService } from '../../gen/sso/appregistry/v1/app_registry_service_pb.js';
import { UserSchema } from '../../gen/sso/directory/v1/user_pb.js';
import { call, sleep, startRestServer, type RestTestServer } from './support.js';

/** What the handlers received, by RPC name: the request as proto-named JSON, and the context. */
const received = new Map<string, { json: unknown; message: Message; ctx: HandlerContext }>();
function record(name: string, schema: DescMessage, message: Message, ctx: HandlerContext) {
  received.set(name, { json: toJson(schema, message, { useProtoFieldName: true }), message, ctx });
}
function got(name: string) {
  const r = received.get(name);
  assert.ok(r, `handler ${name} was not called`);
  return r;
}

const remoteKey = createContextKey<string>('unset', { description: 'remote address' });
const intercepted: string[] = [];
const aborted: string[] = [];
const lateRead: boolean[] = [];
let lateReadGo = false;

let srv: RestTestServer;
let base: string;

before(async () => {
  srv = await startRestServer({
    services: [AuthService, DirectoryService, AppRegistryService],
    interceptors: [
      (next) => async (req) => {
        intercepted.push(req.method.name);
        const res = await next(req);
        res.header.set('x-intercepted', req.method.name);
        return res;
      },
    ],
    transcoder: {
      contextValues: (req) => createContextValues().set(remoteKey, req.socket.remoteAddress ?? '?'),
    },
    register: (router) => {
      router.service(AuthService, {
        login(req, ctx) {
          record('Login', AuthService.method.login.input, req, ctx);
          return {
            accessToken: 'at',
            refreshToken: 'rt',
            tokenType: 'Bearer',
            expiresIn: 900,
            sessionId: 's1',
            user: { id: 'u1', identifiers: [{ type: 'email', identifier: req.identifier, primary: true }] },
            tokens: { access: 'at', refresh: 'rt' },
          };
        },
        logout(req, ctx) {
          record('Logout', AuthService.method.logout.input, req, ctx);
          return { success: false };
        },
        getMe(req, ctx) {
          record('GetMe', AuthService.method.getMe.input, req, ctx);
          ctx.responseHeader.append('set-cookie', 'a=1; Path=/');
          ctx.responseHeader.append('set-cookie', 'b=2; Path=/');
          ctx.responseHeader.set('x-request-id', ctx.requestHeader.get('x-request-id') ?? 'none');
          return {
            user: {
              id: ctx.values.get(remoteKey),
              identifiers: [{ type: 'email', identifier: 'user@example.com', verified: true, primary: true }],
              createdAt: timestampFromMs(Date.UTC(2026, 0, 25, 12)),
            },
          };
        },
        createToken(req, ctx) {
          record('CreateToken', AuthService.method.createToken.input, req, ctx);
          return { accessToken: `tok-${req.username}`, tokenType: 'bearer' };
        },
        verifyToken(req, ctx) {
          record('VerifyToken', AuthService.method.verifyToken.input, req, ctx);
          return { claims: { sub: 'u1', iat: 1, scopes: ['read:users'] } };
        },
        async listSessions(req, ctx) {
          record('ListSessions', AuthService.method.listSessions.input, req, ctx);
          // Waits for the client to go away.
          await new Promise<void>((resolve) => {
            if (ctx.signal.aborted) return resolve();
            const timer = setTimeout(resolve, 5000);
            ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
          });
          if (ctx.signal.aborted) aborted.push('ListSessions');
          return {};
        },
        async deleteSession(req, ctx) {
          record('DeleteSession', AuthService.method.deleteSession.input, req, ctx);
          // Looks at its signal only after the client has gone (the signal is made when first read).
          while (!lateReadGo) await sleep(10);
          lateRead.push(ctx.signal.aborted);
          return {};
        },
      });
      router.service(DirectoryService, {
        listUsers(req, ctx) {
          record('ListUsers', DirectoryService.method.listUsers.input, req, ctx);
          return { items: [], total: 0, offset: req.offset, limit: req.limit };
        },
        getUser(req, ctx) {
          record('GetUser', DirectoryService.method.getUser.input, req, ctx);
          switch (req.id) {
            case 'missing':
              throw new ConnectError('user missing not found', Code.NotFound, undefined, [
                { desc: ErrorInfoSchema, value: { reason: 'USER_NOT_FOUND', domain: 'sso' } },
              ]);
            case 'limited':
              throw new ConnectError('slow down', Code.ResourceExhausted, { 'retry-after': '30' });
            case 'denied':
              throw new ConnectError('no', Code.PermissionDenied);
            case 'boom':
              throw new Error('secret database detail');
          }
          ctx.responseHeader.set('retry-after', '5');
          return { user: { id: req.id } };
        },
        createUser(req, ctx) {
          record('CreateUser', DirectoryService.method.createUser.input, req, ctx);
          return { user: { id: 'new', roles: req.roles, isActive: req.isActive ?? true } };
        },
        updateUser(req, ctx) {
          record('UpdateUser', DirectoryService.method.updateUser.input, req, ctx);
          return { user: { id: req.id, roles: req.roles } };
        },
        deleteUser(req, ctx) {
          record('DeleteUser', DirectoryService.method.deleteUser.input, req, ctx);
          return { success: true };
        },
        listLegacyUsers(req, ctx) {
          record('ListLegacyUsers', DirectoryService.method.listLegacyUsers.input, req, ctx);
          return {
            users: [
              { username: 'a', id: 1, isActive: true },
              { username: 'b', email: 'b@example.com', id: 2 },
            ],
          };
        },
        createLegacyUser(req, ctx) {
          record('CreateLegacyUser', DirectoryService.method.createLegacyUser.input, req, ctx);
          return { user: { username: req.username, email: req.email, isAdmin: req.isAdmin, id: 7 } };
        },
        updateLegacyUser(req, ctx) {
          record('UpdateLegacyUser', DirectoryService.method.updateLegacyUser.input, req, ctx);
          return { user: { id: req.userId, email: req.email ?? '', isActive: req.isActive ?? true } };
        },
        createRole(req, ctx) {
          record('CreateRole', DirectoryService.method.createRole.input, req, ctx);
          return { role: { name: req.name, slug: req.slug, scopes: req.scopes } };
        },
        updateRole(req, ctx) {
          record('UpdateRole', DirectoryService.method.updateRole.input, req, ctx);
          return { role: { id: req.id } };
        },
      });
      router.service(AppRegistryService, {
        listLegacyApps() {
          return { apps: [] };
        },
        assignLegacyUser(req, ctx) {
          record('AssignLegacyUser', AppRegistryService.method.assignLegacyUser.input, req, ctx);
          return { message: `User ${req.userId} assigned to application ${req.appId}` };
        },
        verify(req, ctx) {
          record('Verify', AppRegistryService.method.verify.input, req, ctx);
          return { authorized: false, message: 'Invalid API key' };
        },
      });
    },
  });
  base = srv.url;
});

after(async () => {
  await srv.close();
  assert.deepEqual(srv.escaped, [], 'no error escaped the transcoder');
});

describe('routes and bindings', () => {
  test('GET /api/sso/v1/me and its additional binding /api/sso/v1/auth/me answer the bare user', async () => {
    for (const path of ['/api/sso/v1/me', '/api/sso/v1/auth/me']) {
      const r = await call(base + path, { headers: { authorization: 'Bearer abc' } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('content-type'), 'application/json');
      assert.deepEqual(r.body, {
        id: '127.0.0.1',
        identifiers: [{ type: 'email', identifier: 'user@example.com', verified: true, primary: true }],
        roles: [],
        scopes: [],
        is_active: false,
        is_admin: false,
        workspace_ids: [],
        created_at: '2026-01-25T12:00:00Z',
        legacy_id: 0,
        direct_scopes: [],
      });
    }
  });

  test('a response without response_body is the whole message, defaults emitted, snake_case', async () => {
    const r = await call(base + '/api/sso/v1/auth/login', {
      method: 'POST',
      json: { identifier: 'user@example.com', secret: 'pw', workspaceId: 'w1', register: true, slug: 'extra' },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, {
      access_token: 'at',
      refresh_token: 'rt',
      token_type: 'Bearer',
      expires_in: 900,
      session_id: 's1',
      user: {
        id: 'u1',
        identifiers: [{ type: 'email', identifier: 'user@example.com', verified: false, primary: true }],
        roles: [],
        scopes: [],
        is_active: false,
        is_admin: false,
        workspace_ids: [],
        legacy_id: 0,
        direct_scopes: [],
      },
      tokens: { access: 'at', refresh: 'rt' },
    });
    // camelCase input, unknown field ignored.
    assert.deepEqual(got('Login').json, {
      identifier: 'user@example.com',
      secret: 'pw',
      register: true,
      workspace_id: 'w1',
    });
  });

  test('POST with no body at all, and with an empty JSON body, is an empty message', async () => {
    const r1 = await call(base + '/api/sso/v1/auth/logout', { method: 'POST', headers: { authorization: 'Bearer x' } });
    assert.equal(r1.status, 200, r1.text);
    assert.deepEqual(r1.body, { success: false });
    assert.deepEqual(got('Logout').json, {});
    const r2 = await call(base + '/api/sso/v1/auth/logout', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '',
    });
    assert.equal(r2.status, 200, r2.text);
    const r3 = await call(base + '/api/sso/v1/auth/logout', { method: 'POST', json: {} });
    assert.equal(r3.status, 200, r3.text);
  });

  test('response_body of a repeated field is a bare array (GET /users/, GET /apps/)', async () => {
    const r = await call(base + '/users/');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, [
      { username: 'a', email: '', is_active: true, is_admin: false, id: 1 },
      { username: 'b', email: 'b@example.com', is_active: false, is_admin: false, id: 2 },
    ]);
    const apps = await call(base + '/apps/');
    assert.deepEqual(apps.body, []);
  });

  test('the trailing slash is significant: /users (no route) and /users/ differ', async () => {
    const r = await call(base + '/users');
    assert.equal(r.status, 404);
    assert.equal(r.body.error_code, 'ROUTE_NOT_FOUND');
  });

  test('form bodies: POST /token with application/x-www-form-urlencoded', async () => {
    const r = await call(base + '/token', {
      method: 'POST',
      body: new URLSearchParams({ username: 'admin', password: 'p w&x', grant_type: 'password' }),
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { access_token: 'tok-admin', token_type: 'bearer', expires_in: 0 });
    assert.deepEqual(got('CreateToken').json, { username: 'admin', password: 'p w&x' });
  });

  test('form bodies: multipart/form-data text fields are accepted too', async () => {
    const form = new FormData();
    form.set('username', 'root');
    form.set('password', 'secret');
    const r = await call(base + '/token', { method: 'POST', body: form });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(got('CreateToken').json, { username: 'root', password: 'secret' });
  });

  test('int32 path variables: POST /users/{user_id}/assign/{app_id} with no body', async () => {
    const r = await call(base + '/users/12/assign/34', { method: 'POST' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { message: 'User 12 assigned to application 34' });
    assert.deepEqual(got('AssignLegacyUser').json, { user_id: 12, app_id: 34 });
  });

  test('a bad int32 path value is 400 INVALID_ARGUMENT', async () => {
    for (const path of ['/users/abc/assign/1', '/users/1/assign/99999999999', '/users/1.5/assign/1']) {
      const r = await call(base + path, { method: 'POST' });
      assert.equal(r.status, 400, path);
      assert.equal(r.body.code, 'invalid_argument');
      assert.equal(r.body.error_code, 'INVALID_ARGUMENT');
      assert.equal(r.body.detail, r.body.message);
    }
    const put = await call(base + '/users/abc', { method: 'PUT', json: { email: 'x@example.com' } });
    assert.equal(put.status, 400);
    assert.equal(put.body.error_code, 'INVALID_ARGUMENT');
  });

  test('PUT /users/{user_id}: path int32 plus body fields', async () => {
    const r = await call(base + '/users/5', { method: 'PUT', json: { email: 'new@example.com', is_active: false } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(got('UpdateLegacyUser').json, { user_id: 5, email: 'new@example.com', is_active: false });
    assert.equal(r.body.id, 5);
    assert.equal(r.body.is_active, false);
  });

  test('the path wins over the body for a path-bound field', async () => {
    await call(base + '/users/5', { method: 'PUT', json: { user_id: 9, email: 'e' } });
    assert.equal((got('UpdateLegacyUser').json as any).user_id, 5);
  });

  test('POST /verify always answers 200 with the message fields', async () => {
    const r = await call(base + '/verify', {
      method: 'POST',
      json: { username: 'jdoe', password: 'pw', api_key: 'k' },
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { authorized: false, message: 'Invalid API key' });
    assert.deepEqual(got('Verify').json, { username: 'jdoe', password: 'pw', api_key: 'k' });
  });

  test('percent-encoded path variables are decoded', async () => {
    const r = await call(base + '/api/sso/v1/users/a%2Fb%20c', { method: 'DELETE' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { success: true });
    assert.deepEqual(got('DeleteUser').json, { id: 'a/b c' });
    const bad = await call(base + '/api/sso/v1/users/%E0%A4%A', { method: 'DELETE' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'INVALID_ARGUMENT');
  });
});

describe('query parameters', () => {
  test('filters and paging: ?offset=5&limit=2&is_active=false (unknown ignored)', async () => {
    const r = await call(base + '/api/sso/v1/users?offset=5&limit=2&is_active=false&role=editor&unknown=1');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { items: [], total: 0, offset: 5, limit: 2 });
    const req = got('ListUsers');
    assert.deepEqual(req.json, { offset: 5, limit: 2, role: 'editor', is_active: false });
    assert.equal((req.message as any).isActive, false, 'optional bool explicitly false');
  });

  test('camelCase query keys work too; bad values are 400', async () => {
    await call(base + '/api/sso/v1/users?isActive=true');
    assert.deepEqual(got('ListUsers').json, { is_active: true });
    // An empty value for a non-text field is "not given".
    await call(base + '/api/sso/v1/users?limit=&is_active=&identifier=');
    assert.deepEqual(got('ListUsers').json, {});
    for (const q of ['limit=ten', 'is_active=maybe', 'offset=1e3']) {
      const r = await call(base + '/api/sso/v1/users?' + q);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.error_code, 'INVALID_ARGUMENT');
    }
  });

  test('repeated fields by repeated keys (query on a body route fills what the body does not)', async () => {
    const r = await call(base + '/api/sso/v1/roles?scopes=read:users&scopes=create:users&name=ignored', {
      method: 'POST',
      json: { name: 'Editor', slug: 'editor' },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(got('CreateRole').json, { name: 'Editor', slug: 'editor', scopes: ['read:users', 'create:users'] });
    assert.deepEqual(r.body.scopes, ['read:users', 'create:users']);
  });

  test('repeated fields by repeated keys in a form body', async () => {
    const body = new URLSearchParams([
      ['name', 'Ops'],
      ['slug', 'ops'],
      ['scopes', 'a:b'],
      ['scopes', 'c:d'],
    ]);
    const r = await call(base + '/api/sso/v1/roles', { method: 'POST', body });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(got('CreateRole').json, { name: 'Ops', slug: 'ops', scopes: ['a:b', 'c:d'] });
  });
});

describe('update_mask', () => {
  test('PATCH computes update_mask from the keys present in the body', async () => {
    const r = await call(base + '/api/sso/v1/users/u1', { method: 'PATCH', json: { roles: ['editor'] } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.roles, ['editor']);
    assert.deepEqual(got('UpdateUser').json, { id: 'u1', roles: ['editor'], update_mask: 'roles' });
    assert.deepEqual((got('UpdateUser').message as any).updateMask.paths, ['roles']);

    await call(base + '/api/sso/v1/users/u1', {
      method: 'PATCH',
      json: { isActive: false, roles: [], password: 'x', unknown: 1 },
    });
    assert.deepEqual((got('UpdateUser').message as any).updateMask.paths, ['is_active', 'roles', 'password']);
    assert.equal((got('UpdateUser').message as any).isActive, false);
  });

  test('an update_mask sent in the body is kept (proto or JSON names)', async () => {
    await call(base + '/api/sso/v1/users/u1', {
      method: 'PATCH',
      json: { roles: ['x'], is_admin: true, update_mask: 'roles,is_admin' },
    });
    assert.deepEqual((got('UpdateUser').message as any).updateMask.paths, ['roles', 'is_admin']);
  });

  test('form bodies compute update_mask too; an empty PATCH body gives an empty mask', async () => {
    await call(base + '/api/sso/v1/roles/r1', { method: 'PATCH', body: new URLSearchParams({ name: 'N' }) });
    assert.deepEqual((got('UpdateRole').message as any).updateMask.paths, ['name']);
    await call(base + '/api/sso/v1/roles/r1', { method: 'PATCH' });
    assert.deepEqual((got('UpdateRole').message as any).updateMask.paths, []);
  });
});

describe('bad input', () => {
  test('malformed JSON is 400 MALFORMED_JSON', async () => {
    const r = await call(base + '/api/sso/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"identifier": "x",',
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'invalid_argument');
    assert.equal(r.body.error_code, 'MALFORMED_JSON');
    assert.equal(typeof r.body.message, 'string');
    assert.equal(r.body.detail, r.body.message);
  });

  test('wrong types are 400 INVALID_BODY', async () => {
    for (const json of [{ register: 'yes' }, { identifier: 5 }, { register: 'true' }, { identifier: ['a'] }]) {
      const r = await call(base + '/api/sso/v1/auth/login', { method: 'POST', json });
      assert.equal(r.status, 400, JSON.stringify(json));
      assert.equal(r.body.error_code, 'INVALID_BODY');
    }
    const roles = await call(base + '/api/sso/v1/users/u1', { method: 'PATCH', json: { roles: 'editor' } });
    assert.equal(roles.status, 400);
    assert.equal(roles.body.error_code, 'INVALID_BODY');
  });

  test('a non-object top-level JSON body is 400', async () => {
    for (const body of ['[1,2]', '"text"', '42', 'true', 'null']) {
      const r = await call(base + '/api/sso/v1/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      assert.equal(r.status, 400, body);
      assert.equal(r.body.error_code, 'INVALID_BODY');
    }
  });

  test('bad form values are 400 INVALID_BODY', async () => {
    const r = await call(base + '/users/', {
      method: 'POST',
      body: new URLSearchParams({ username: 'u', password: 'p', is_admin: 'perhaps' }),
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error_code, 'INVALID_BODY');
  });

  test('a 2 MiB body is 413 BODY_TOO_LARGE (with and without Content-Length)', async () => {
    const big = JSON.stringify({ identifier: 'x'.repeat(2 * 1024 * 1024) });
    const r = await call(base + '/api/sso/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    assert.equal(r.status, 413);
    assert.equal(r.body.error_code, 'BODY_TOO_LARGE');

    // Chunked (no Content-Length): the limit applies while streaming, and the
    // server stops reading: a client offering 64 MiB does not get to send it all.
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    const offered = 64 * 1024 * 1024;
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= offered) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(base + '/api/sso/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error_code, 'BODY_TOO_LARGE');
    assert.ok(sent < offered, `the server stopped reading (client sent ${sent} bytes)`);
  });

  test('a body of other content types is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const r = await call(base + '/api/sso/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'identifier=x',
    });
    assert.equal(r.status, 415);
    assert.equal(r.body.error_code, 'UNSUPPORTED_MEDIA_TYPE');
    const xml = await call(base + '/verify', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
    assert.equal(xml.status, 415);
  });

  test('the wrong method on a known path is 405 METHOD_NOT_ALLOWED with Allow', async () => {
    const r = await call(base + '/verify', { method: 'GET' });
    assert.equal(r.status, 405);
    assert.equal(r.body.error_code, 'METHOD_NOT_ALLOWED');
    assert.equal(r.headers.get('allow'), 'POST');
    const users = await call(base + '/api/sso/v1/users/u1', { method: 'POST', json: {} });
    assert.equal(users.status, 405);
    assert.equal(users.headers.get('allow'), 'DELETE, GET, PATCH');
  });

  test('an unknown route is left to the caller (404 ROUTE_NOT_FOUND)', async () => {
    const r = await call(base + '/api/sso/v1/nothing-here');
    assert.equal(r.status, 404);
    assert.deepEqual(Object.keys(r.body).sort(), ['code', 'detail', 'error_code', 'message']);
    assert.equal(r.body.code, 'not_found');
    assert.equal(r.body.error_code, 'ROUTE_NOT_FOUND');
  });
});

describe('errors from the handler', () => {
  test('ConnectError with an ErrorInfo detail -> HTTP status by code, reason as error_code', async () => {
    const r = await call(base + '/api/sso/v1/users/missing');
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, {
      code: 'not_found',
      error_code: 'USER_NOT_FOUND',
      message: 'user missing not found',
      detail: 'user missing not found',
    });
    assert.equal(r.headers.get('content-type'), 'application/json');
  });

  test('without ErrorInfo the code is the reason; error metadata like retry-after is copied', async () => {
    const limited = await call(base + '/api/sso/v1/users/limited');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error_code, 'RESOURCE_EXHAUSTED');
    assert.equal(limited.headers.get('retry-after'), '30');
    const denied = await call(base + '/api/sso/v1/users/denied');
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.body, { code: 'permission_denied', error_code: 'PERMISSION_DENIED', message: 'no', detail: 'no' });
  });

  test('an unexpected error is a 500 that shows no internals', async () => {
    const r = await call(base + '/api/sso/v1/users/boom');
    assert.equal(r.status, 500);
    assert.equal(r.body.code, 'internal');
    assert.equal(r.body.error_code, 'INTERNAL');
    assert.doesNotMatch(r.text, /secret database detail/);
  });

  test('an RPC with no implementation is 501 unimplemented', async () => {
    const r = await call(base + '/api/sso/v1/keys');
    assert.equal(r.status, 501);
    assert.equal(r.body.code, 'unimplemented');
  });
});

describe('the same handler path as RPCs', () => {
  test('request headers are forwarded, with the Connect binary protocol headers', async () => {
    await call(base + '/api/sso/v1/me', {
      headers: {
        authorization: 'Bearer tok',
        cookie: 'usso-access-token=abc',
        'x-api-key': 'key1',
        'user-agent': 'legacy-client/1.0',
        'x-forwarded-for': '203.0.113.9',
        'x-request-id': 'req-42',
        origin: 'https://app.example.com',
        'x-custom': 'yes',
        'accept-encoding': 'gzip, br',
        'connect-timeout-ms': '1',
      },
    });
    const h = got('GetMe').ctx.requestHeader;
    assert.equal(h.get('authorization'), 'Bearer tok');
    assert.equal(h.get('cookie'), 'usso-access-token=abc');
    assert.equal(h.get('x-api-key'), 'key1');
    assert.equal(h.get('user-agent'), 'legacy-client/1.0');
    assert.equal(h.get('x-forwarded-for'), '203.0.113.9');
    assert.equal(h.get('x-request-id'), 'req-42');
    assert.equal(h.get('origin'), 'https://app.example.com');
    assert.equal(h.get('x-custom'), 'yes');
    assert.equal(h.get('content-type'), 'application/proto');
    assert.equal(h.get('connect-protocol-version'), '1');
    assert.equal(h.get('accept-encoding'), null);
    assert.equal(h.get('connect-timeout-ms'), null);
    assert.equal(h.get('connection'), null);
    assert.equal(got('GetMe').ctx.requestMethod, 'POST');
  });

  test('response headers set by the handler are copied (set-cookie, retry-after, x-request-id)', async () => {
    const me = await call(base + '/api/sso/v1/me', { headers: { 'x-request-id': 'r-1' } });
    assert.deepEqual(me.headers.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/']);
    assert.equal(me.headers.get('x-request-id'), 'r-1');
    const user = await call(base + '/api/sso/v1/users/u9');
    assert.equal(user.status, 200);
    assert.equal(user.headers.get('retry-after'), '5');
    assert.deepEqual(user.body.id, 'u9');
    assert.equal(user.headers.get('connect-content-encoding'), null);
  });

  test('router interceptors run for REST calls', async () => {
    intercepted.length = 0;
    const r = await call(base + '/api/sso/v1/users/u2');
    assert.deepEqual(intercepted, ['GetUser']);
    assert.equal(r.headers.get('x-intercepted'), 'GetUser');
  });

  test('context values from the options reach the handler', async () => {
    const r = await call(base + '/api/sso/v1/me');
    assert.equal(r.body.id, '127.0.0.1');
  });

  test("the handler's AbortSignal fires when the client goes away", async () => {
    const controller = new AbortController();
    const pending = fetch(base + '/api/sso/v1/sessions', { signal: controller.signal }).catch(() => 'aborted');
    for (let i = 0; i < 100 && !received.has('ListSessions'); i++) await sleep(10);
    controller.abort();
    assert.equal(await pending, 'aborted');
    for (let i = 0; i < 200 && aborted.length === 0; i++) await sleep(10);
    assert.deepEqual(aborted, ['ListSessions']);
    // The server is still fine.
    const r = await call(base + '/api/sso/v1/users/u3');
    assert.equal(r.status, 200);
  });

  test('a handler that first reads its AbortSignal after the client went away finds it aborted', async () => {
    const controller = new AbortController();
    const pending = fetch(base + '/api/sso/v1/sessions/s9', { method: 'DELETE', signal: controller.signal }).catch(() => 'aborted');
    for (let i = 0; i < 100 && !received.has('DeleteSession'); i++) await sleep(10);
    controller.abort();
    assert.equal(await pending, 'aborted');
    await sleep(100);
    lateReadGo = true;
    for (let i = 0; i < 200 && lateRead.length === 0; i++) await sleep(10);
    assert.deepEqual(lateRead, [true]);
  });

  test('a literal route answers alike by its exact path (one lookup) and by the full match (percent-encoded)', async () => {
    const init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=ann&password=pw' };
    const exact = await call(base + '/token', init);
    const matched = await call(base + '/%74oken', init);
    assert.equal(exact.status, 200, exact.text);
    assert.equal(matched.status, exact.status);
    assert.deepEqual(matched.body, exact.body);
    assert.equal(matched.headers.get('x-intercepted'), exact.headers.get('x-intercepted'));
    // And the wrong method on it still falls to the full match: 405 with Allow.
    const wrong = await call(base + '/token', { method: 'PUT' });
    assert.equal(wrong.status, 405);
  });

  test('an unset message field stays unset in the JSON answer', async () => {
    // GetMe's user has no updated_at: toJson with alwaysEmitImplicit leaves unset messages out.
    const r = await call(base + '/api/sso/v1/me');
    assert.equal('updated_at' in r.body, false);
    assert.ok(create(UserSchema)); // schema import used by other tests
  });

  test('the server survived every bad request', async () => {
    const r = await call(base + '/users/');
    assert.equal(r.status, 200);
    assert.deepEqual(srv.escaped, []);
    assert.deepEqual(srv.reported, []);
  });
});
