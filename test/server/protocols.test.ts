import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { standingCacheOf } from '../../src/domain/auth/standing-cache.js';
import { startTestServer, type TestServer } from '../support/server.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const identifier = 'platform-admin@example.com';
const secret = 'correct horse battery';

let server: TestServer;
let token: string;
let userId: string;

before(async () => {
  server = await startTestServer();
  // The first user registered becomes the administrator; its token is used by every protocol below.
  const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier, secret, register: true } });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as { access_token: string; user: { id: string } };
  token = body.access_token;
  userId = body.user.id;
});

after(async () => {
  await server?.stop();
});

/** One HTTP/2 (h2c, prior knowledge) request with node's own client. */
async function h2Request(
  headers: http2.OutgoingHttpHeaders,
  body?: string,
): Promise<{ status: number; headers: http2.IncomingHttpHeaders; text: string }> {
  const session = http2.connect(server.url);
  try {
    return await new Promise((resolve, reject) => {
      session.on('error', reject);
      const stream = session.request(headers);
      let responseHeaders: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (responseHeaders = h));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () =>
        resolve({ status: Number(responseHeaders[':status']), headers: responseHeaders, text: Buffer.concat(chunks).toString() }),
      );
      stream.on('error', reject);
      stream.end(body);
    });
  } finally {
    session.close();
  }
}

describe('one port, every protocol', () => {
  test('Connect JSON over HTTP/1.1 (plain fetch): Login', async () => {
    const res = await fetch(`${server.url}/sso.auth.v1.AuthService/Login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier, secret }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as { accessToken: string; tokenType: string; expiresIn: number; user: { id: string } };
    assert.match(body.accessToken, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(body.tokenType, 'Bearer');
    assert.equal(body.expiresIn, 900);
    assert.equal(body.user.id, userId);
  });

  test('Connect over HTTP/1.1 (generated client): GetMe', async () => {
    const me = await server.client(AuthService, { protocol: 'connect', token }).getMe({});
    assert.equal(me.user?.id, userId);
    assert.equal(me.user?.isAdmin, true);
  });

  test('Connect over HTTP/2 (h2c): Login and GetMe', async () => {
    const transport = createConnectTransport({ baseUrl: server.url, httpVersion: '2' });
    const client = createClient(AuthService, transport);
    const login = await client.login({ identifier, secret });
    assert.equal(login.user?.id, userId);
    const me = await client.getMe({}, { headers: { authorization: `Bearer ${login.accessToken}` } });
    assert.equal(me.user?.id, userId);
  });

  test('gRPC over HTTP/2 cleartext (connect-node gRPC transport): Login and GetMe', async () => {
    const client = createClient(AuthService, createGrpcTransport({ baseUrl: server.url }));
    const login = await client.login({ identifier, secret });
    assert.equal(login.user?.id, userId);
    const me = await client.getMe({}, { headers: { authorization: `Bearer ${login.accessToken}` } });
    assert.equal(me.user?.id, userId);
  });

  test('gRPC-Web over HTTP/1.1: Login and GetMe', async () => {
    const client = createClient(AuthService, createGrpcWebTransport({ baseUrl: server.url, httpVersion: '1.1' }));
    const login = await client.login({ identifier, secret });
    assert.equal(login.user?.id, userId);
    const me = await client.getMe({}, { headers: { authorization: `Bearer ${login.accessToken}` } });
    assert.equal(me.user?.id, userId);
  });

  test('gRPC-Web over HTTP/2', async () => {
    const client = createClient(AuthService, createGrpcWebTransport({ baseUrl: server.url, httpVersion: '2' }));
    const me = await client.getMe({}, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.user?.id, userId);
  });

  test('errors carry the reason on every RPC protocol', async () => {
    for (const transport of [
      createConnectTransport({ baseUrl: server.url, httpVersion: '1.1' }),
      createConnectTransport({ baseUrl: server.url, httpVersion: '2' }),
      createGrpcTransport({ baseUrl: server.url }),
      createGrpcWebTransport({ baseUrl: server.url, httpVersion: '1.1' }),
    ]) {
      const err = await createClient(AuthService, transport)
        .getMe({})
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err instanceof ConnectError, String(err));
      assert.equal(err.code, Code.Unauthenticated);
      assert.deepEqual(
        err.findDetails(ErrorInfoSchema).map((d) => d.reason),
        ['UNAUTHENTICATED'],
      );
    }
  });

  test('REST over HTTP/1.1: GET /api/sso/v1/me returns the bare user', async () => {
    const res = await server.rest('/api/sso/v1/me', { token });
    assert.equal(res.status, 200);
    const user = (await res.json()) as Record<string, unknown>;
    assert.equal(user.id, userId);
    assert.equal(user.is_admin, true);
    assert.equal(user.is_active, true);
  });

  test('REST over HTTP/2: GET /api/sso/v1/me and POST /api/sso/v1/auth/login', async () => {
    const me = await h2Request({ ':method': 'GET', ':path': '/api/sso/v1/me', authorization: `Bearer ${token}` });
    assert.equal(me.status, 200, me.text);
    assert.equal(JSON.parse(me.text).id, userId);
    const login = await h2Request(
      { ':method': 'POST', ':path': '/api/sso/v1/auth/login', 'content-type': 'application/json' },
      JSON.stringify({ identifier, secret }),
    );
    assert.equal(login.status, 200, login.text);
    assert.equal(JSON.parse(login.text).user.id, userId);
  });

  test('@grpc/grpc-js with the .proto files: Login, then GetMe with a bearer token in metadata', async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const definition = await protoLoader.load('sso/auth/v1/auth_service.proto', {
      includeDirs: [`${root}proto`, `${root}third_party`],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      sso: {
        auth: { v1: { AuthService: new (address: string, creds: grpc.ChannelCredentials) => grpc.Client & Record<string, Function> } };
      };
    };
    const client = new loaded.sso.auth.v1.AuthService(`127.0.0.1:${server.app.port}`, grpc.credentials.createInsecure());
    try {
      const unary = <T>(method: string, request: object, metadata = new grpc.Metadata()) =>
        new Promise<{ response?: T; error?: grpc.ServiceError; headers?: grpc.Metadata }>((resolve) => {
          let headers: grpc.Metadata | undefined;
          const call = client[method]!(request, metadata, (error: grpc.ServiceError | null, response: T) =>
            resolve(error ? { error, headers } : { response, headers }),
          ) as grpc.ClientUnaryCall;
          call.on('metadata', (m: grpc.Metadata) => (headers = m));
        });

      const login = await unary<{ access_token: string; token_type: string; user: { id: string; is_admin: boolean } }>('Login', {
        identifier,
        secret,
      });
      assert.equal(login.error, undefined, login.error?.message);
      assert.equal(login.response!.token_type, 'Bearer');
      assert.equal(login.response!.user.id, userId);

      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${login.response!.access_token}`);
      metadata.set('x-request-id', 'grpc-js-call-1');
      const me = await unary<{ user: { id: string; is_admin: boolean; identifiers: { identifier: string }[] } }>('GetMe', {}, metadata);
      assert.equal(me.error, undefined, me.error?.message);
      assert.equal(me.response!.user.id, userId);
      assert.equal(me.response!.user.is_admin, true);
      assert.equal(me.response!.user.identifiers[0]!.identifier, identifier);
      assert.deepEqual(me.headers?.get('x-request-id'), ['grpc-js-call-1']);

      const anonymous = await unary('GetMe', {});
      assert.equal(anonymous.error?.code, grpc.status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
  });
});

describe('plain routes and errors', () => {
  test('unknown route: 404 JSON with ROUTE_NOT_FOUND, over HTTP/1.1 and HTTP/2', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/api/sso/v1/nope'],
      ['POST', '/sso.auth.v1.AuthService/NoSuchMethod'],
      ['GET', '/.well-known/nothing'],
    ]) {
      const res = await fetch(server.url + path, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const body = (await res.json()) as Record<string, string>;
      assert.equal(body.code, 'not_found');
      assert.equal(body.error_code, 'ROUTE_NOT_FOUND');
      assert.equal(typeof body.message, 'string');
      assert.equal(body.detail, body.message);
    }
    const h2 = await h2Request({ ':method': 'GET', ':path': '/nope' });
    assert.equal(h2.status, 404);
    assert.equal(JSON.parse(h2.text).error_code, 'ROUTE_NOT_FOUND');
  });

  test('health and readiness: 200, also over HTTP/2 and with a query string', async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${server.url}/readyz?verbose=1`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
    const h2 = await h2Request({ ':method': 'GET', ':path': '/readyz' });
    assert.equal(h2.status, 200);
  });

  test('an HTTP/1.1 request whose first bytes arrive one at a time is still HTTP/1.1', async () => {
    // "P" alone is also how the HTTP/2 preface ("PRI * HTTP/2.0") begins: the listener must wait.
    const response = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.app.port, '127.0.0.1');
      socket.setNoDelay(true);
      const chunks: Buffer[] = [];
      socket.on('data', (c) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
      socket.on('error', reject);
      socket.on('connect', async () => {
        const request = 'PUT /healthz-nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
        socket.write(request.slice(0, 1));
        await new Promise((r) => setTimeout(r, 50));
        socket.write(request.slice(1, 2));
        await new Promise((r) => setTimeout(r, 50));
        socket.end(request.slice(2));
      });
    });
    assert.match(response, /^HTTP\/1\.1 404 /);
    assert.match(response, /ROUTE_NOT_FOUND/);
  });

  test('an HTTP/2 preface that arrives in pieces is still HTTP/2', async () => {
    const firstFrame = await new Promise<Buffer>((resolve, reject) => {
      const socket = net.connect(server.app.port, '127.0.0.1');
      socket.setNoDelay(true);
      socket.once('data', (frame) => {
        socket.destroy();
        resolve(frame);
      });
      socket.on('error', reject);
      socket.on('connect', async () => {
        const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
        const emptySettings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
        for (const part of [preface.subarray(0, 1), preface.subarray(1, 3), preface.subarray(3, 9)]) {
          socket.write(part);
          await new Promise((r) => setTimeout(r, 30));
        }
        socket.write(Buffer.concat([preface.subarray(9), emptySettings]));
      });
    });
    // Frame header: 3 bytes length, 1 byte type; the server's first frame is its SETTINGS (type 4).
    assert.equal(firstFrame[3], 4, `not an HTTP/2 SETTINGS frame: ${firstFrame.subarray(0, 40).toString()}`);
  });

  test('junk on the wire is refused per connection and never takes the server down', async () => {
    const send = (bytes: Buffer | string) =>
      new Promise<string>((resolve) => {
        const socket = net.connect(server.app.port, '127.0.0.1', () => socket.end(bytes));
        let text = '';
        socket.on('data', (c) => (text += c.toString('latin1')));
        socket.on('close', () => resolve(text));
        socket.on('error', () => resolve(text));
      });
    assert.match(await send('HELLO\r\n\r\n'), /^HTTP\/1\.1 400 /);
    assert.match(await send(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431 /);
    await send(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x00])); // a TLS ClientHello on the cleartext port
    await send('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x04\x08garbage-frame');
    await send(Buffer.alloc(64 * 1024, 0xff));
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal((await server.rest('/api/sso/v1/me', { token })).status, 200);
  });

  test('a 500 never shows internals', async () => {
    // Break the database under a running server: every call that reads users fails unforeseen.
    const ds = server.app.database.dataSource;
    await ds.query('ALTER TABLE users RENAME TO users_hidden_for_test');
    // A renamed table announces nothing, and the revocation cache would answer GET /me from memory
    // (the session and the user view, read by earlier tests): empty it, so the calls read.
    standingCacheOf(ds)?.invalidate('*');
    try {
      const rest = await server.rest('/api/sso/v1/me', { token });
      assert.equal(rest.status, 500);
      const body = (await rest.json()) as Record<string, string>;
      assert.deepEqual(Object.keys(body).sort(), ['code', 'detail', 'error_code', 'message']);
      assert.equal(body.code, 'internal');
      assert.equal(body.error_code, 'INTERNAL');
      const err = await server
        .client(AuthService, { token })
        .getMe({})
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.Internal);
      const grpcErr = await server
        .client(AuthService, { token, protocol: 'grpc' })
        .getMe({})
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(grpcErr instanceof ConnectError);
      assert.equal(grpcErr.code, Code.Internal);
      for (const text of [JSON.stringify(body), err.rawMessage, grpcErr.rawMessage]) {
        assert.doesNotMatch(text, /users_hidden|relation|column|select|query|postgres|typeorm|stack|\.ts\b|at \w+ \(/i, text);
      }
    } finally {
      await ds.query('ALTER TABLE users_hidden_for_test RENAME TO users');
    }
    assert.equal((await server.rest('/api/sso/v1/me', { token })).status, 200);
  });
});

describe('request ids', () => {
  test('every RPC and REST response carries x-request-id (a fresh UUID when none is sent)', async () => {
    const connect = await fetch(`${server.url}/sso.auth.v1.AuthService/GetMe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{}',
    });
    assert.equal(connect.status, 200);
    assert.match(connect.headers.get('x-request-id') ?? '', uuidPattern);
    const rest = await server.rest('/api/sso/v1/me', { token });
    assert.match(rest.headers.get('x-request-id') ?? '', uuidPattern);
    const restError = await server.rest('/api/sso/v1/me');
    assert.equal(restError.status, 401);
    assert.match(restError.headers.get('x-request-id') ?? '', uuidPattern);
    const a = rest.headers.get('x-request-id');
    const b = (await server.rest('/api/sso/v1/me', { token })).headers.get('x-request-id');
    assert.notEqual(a, b);
  });

  test('non-RPC routes carry x-request-id too', async () => {
    for (const path of ['/healthz', '/readyz', '/.well-known/jwks.json', '/nope']) {
      const res = await fetch(server.url + path);
      assert.match(res.headers.get('x-request-id') ?? '', uuidPattern, path);
      const echoed = await fetch(server.url + path, { headers: { 'x-request-id': 'plain-route-7' } });
      assert.equal(echoed.headers.get('x-request-id'), 'plain-route-7', path);
    }
  });

  test('a sane incoming x-request-id is echoed, on REST, Connect and gRPC', async () => {
    const rest = await server.rest('/api/sso/v1/me', { token, headers: { 'x-request-id': 'abc-123.DEF_456' } });
    assert.equal(rest.headers.get('x-request-id'), 'abc-123.DEF_456');
    const restError = await server.rest('/api/sso/v1/me', { headers: { 'x-request-id': 'err-req-1' } });
    assert.equal(restError.status, 401);
    assert.equal(restError.headers.get('x-request-id'), 'err-req-1');

    let seen: string | null = null;
    await server
      .client(AuthService, { token })
      .getMe({}, { headers: { 'x-request-id': 'connect-req-1' }, onHeader: (h) => (seen = h.get('x-request-id')) });
    assert.equal(seen, 'connect-req-1');
    seen = null;
    await server
      .client(AuthService, { token, protocol: 'grpc' })
      .getMe({}, { headers: { 'x-request-id': 'grpc-req-1' }, onHeader: (h) => (seen = h.get('x-request-id')) });
    assert.equal(seen, 'grpc-req-1');
  });

  test('an insane incoming x-request-id is replaced, not echoed', async () => {
    for (const sent of ['has spaces in it', 'x'.repeat(129), 'semi;colon', '<script>']) {
      const res = await server.rest('/api/sso/v1/me', { token, headers: { 'x-request-id': sent } });
      assert.equal(res.status, 200);
      const got = res.headers.get('x-request-id') ?? '';
      assert.notEqual(got, sent);
      assert.match(got, uuidPattern, sent);
    }
  });
});
