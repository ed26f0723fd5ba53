import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

const user = { identifier: 'shutdown@example.com', secret: 'shutdown-password' };
let server: TestServer;

before(async () => {
  // bcrypt cost 12 makes a login take a few hundred milliseconds: long enough to close mid-call.
  server = await startTestServer({ bcryptCost: 12, shutdownGrace: 20 });
  const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { ...user, register: true } });
  assert.equal(res.status, 200);
});

after(async () => {
  // Also drops the test database; app.close() inside it is idempotent.
  await server?.stop();
});

/** An HTTP/1.1 keep-alive request on an agent of its own, so its socket can be left idle afterwards. */
function h1Get(agent: http.Agent, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(server.url + path, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

test('close() lets in-flight calls finish, then refuses new connections', async () => {
  const port = server.app.port;

  // Idle connections that must not hold the shutdown up: an HTTP/1.1 keep-alive socket and an HTTP/2 session.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  assert.equal(await h1Get(agent, '/healthz'), 200);
  const idleSession = http2.connect(server.url);
  await new Promise<void>((resolve, reject) => idleSession.once('connect', () => resolve()).once('error', reject));
  const idleSessionClosed = new Promise<void>((resolve) => idleSession.once('close', () => resolve()));
  idleSession.on('error', () => {});

  // Slow calls in flight over HTTP/1.1 (REST), HTTP/2 (gRPC) and a Connect call.
  const started = Date.now();
  const restLogin = server.rest('/api/sso/v1/auth/login', { method: 'POST', json: user });
  const grpcLogin = createClient(AuthService, createGrpcTransport({ baseUrl: server.url })).login(user);
  const connectLogin = server.client(AuthService).login(user);
  // Close only once all three are being answered (each then spends a few hundred ms hashing).
  const deadline = Date.now() + 10_000;
  while (server.app.inFlight() < 3) {
    assert.ok(Date.now() < deadline, `only ${server.app.inFlight()} calls reached the server`);
    await new Promise((r) => setTimeout(r, 5));
  }

  const closing = server.app.close();
  let closed = false;
  void closing.then(() => (closed = true));

  const rest = await restLogin;
  const restDone = Date.now();
  assert.equal(rest.status, 200, await rest.clone().text());
  // It really was in flight when close() was called, and its keep-alive connection is told to go.
  assert.ok(restDone - started > 100, `the login took only ${restDone - started} ms`);
  assert.equal(rest.headers.get('connection'), 'close');
  const body = (await rest.json()) as { access_token: string; user: { id: string } };
  assert.match(body.access_token, /^eyJ/);
  const grpc = await grpcLogin;
  assert.equal(grpc.user?.id, body.user.id);
  const connect = await connectLogin;
  assert.equal(connect.user?.id, body.user.id);
  const callsDone = Date.now();

  await closing;
  assert.ok(closed);
  // It waited for the calls, but not for the idle connections' keep-alive timeouts.
  assert.ok(Date.now() - callsDone < 3000, `close took ${Date.now() - callsDone} ms after the last call`);
  await idleSessionClosed;
  agent.destroy();

  // New connections are refused.
  const refused = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e));
  });
  assert.equal(refused?.code, 'ECONNREFUSED');
  await assert.rejects(fetch(`${server.url}/healthz`));

  // close() is idempotent.
  await server.app.close();
});
