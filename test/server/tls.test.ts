import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

const dir = mkdtempSync(join(tmpdir(), 'sso-tls-'));
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');
// A self-signed P-256 certificate for localhost and 127.0.0.1, made for this run.
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-days',
    '1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ],
  { stdio: 'pipe' },
);
const ca = readFileSync(certFile);

const user = { identifier: 'tls@example.com', secret: 'tls-password-1' };
let server: TestServer;
let token: string;
let userId: string;

before(async () => {
  server = await startTestServer({ tlsCert: certFile, tlsKey: keyFile });
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const login = await createClient(
    AuthService,
    createConnectTransport({ baseUrl: server.url, httpVersion: '2', nodeOptions: { ca } }),
  ).login({ ...user, register: true });
  token = login.accessToken;
  userId = login.user!.id;
});

after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function httpsGet(
  path: string,
  headers: Record<string, string>,
  options: https.RequestOptions = {},
): Promise<{ status: number; body: string; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const req = https.request(server.url + path, { headers, agent: false, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, alpn: (res.socket as tls.TLSSocket).alpnProtocol }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('ALPN picks the HTTP version: h2 when offered, HTTP/1.1 otherwise', async () => {
  const negotiate = (ALPNProtocols: string[]) =>
    new Promise<string | false>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: server.app.port, ca, servername: 'localhost', ALPNProtocols }, () => {
        resolve(socket.alpnProtocol ?? false);
        socket.destroy();
      });
      socket.on('error', reject);
    });
  assert.equal(await negotiate(['h2', 'http/1.1']), 'h2');
  assert.equal(await negotiate(['http/1.1']), 'http/1.1');
});

test('REST over HTTPS/1.1 (certificate not checked, as a quick script would)', async () => {
  const res = await httpsGet('/api/sso/v1/me', { authorization: `Bearer ${token}` }, { rejectUnauthorized: false });
  assert.equal(res.status, 200, res.body);
  assert.equal(res.alpn, false, 'node https offers no ALPN: plain HTTP/1.1 over TLS');
  assert.equal(JSON.parse(res.body).id, userId);
});

test('REST over HTTPS/1.1 with the certificate verified', async () => {
  const res = await httpsGet('/api/sso/v1/me', { authorization: `Bearer ${token}` }, { ca });
  assert.equal(res.status, 200, res.body);
  const health = await httpsGet('/healthz', {}, { ca });
  assert.equal(health.status, 200);
});

test('REST over HTTP/2 with TLS', async () => {
  const session = http2.connect(server.url, { ca });
  try {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const stream = session.request({ ':method': 'GET', ':path': '/api/sso/v1/me', authorization: `Bearer ${token}` });
      let status = 0;
      let body = '';
      stream.setEncoding('utf8');
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.on('data', (c: string) => (body += c));
      stream.on('end', () => resolve({ status, body }));
      stream.on('error', reject);
    });
    assert.equal(status, 200, body);
    assert.equal(JSON.parse(body).id, userId);
  } finally {
    session.close();
  }
});

test('gRPC over TLS (HTTP/2): with rejectUnauthorized false and with the CA', async () => {
  for (const nodeOptions of [{ rejectUnauthorized: false }, { ca }]) {
    const client = createClient(AuthService, createGrpcTransport({ baseUrl: server.url, nodeOptions }));
    const me = await client.getMe({}, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.user?.id, userId);
  }
});

test('Connect over HTTPS/1.1 and gRPC-Web over HTTPS/1.1', async () => {
  for (const transport of [
    createConnectTransport({ baseUrl: server.url, httpVersion: '1.1', nodeOptions: { ca } }),
    createGrpcWebTransport({ baseUrl: server.url, httpVersion: '1.1', nodeOptions: { ca } }),
  ]) {
    const me = await createClient(AuthService, transport).getMe({}, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.user?.id, userId);
  }
});

test('@grpc/grpc-js over TLS', async () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const definition = await protoLoader.load('sso/auth/v1/auth_service.proto', {
    includeDirs: [`${root}proto`, `${root}third_party`],
    keepCase: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    sso: {
      auth: {
        v1: {
          AuthService: new (address: string, creds: grpc.ChannelCredentials, options?: object) => grpc.Client & Record<string, Function>;
        };
      };
    };
  };
  const client = new loaded.sso.auth.v1.AuthService(`localhost:${server.app.port}`, grpc.credentials.createSsl(ca));
  try {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    const me = await new Promise<{ user: { id: string } }>((resolve, reject) =>
      client.GetMe!({}, metadata, (err: grpc.ServiceError | null, res: { user: { id: string } }) => (err ? reject(err) : resolve(res))),
    );
    assert.equal(me.user.id, userId);
  } finally {
    client.close();
  }
});

test('cleartext is not served on a TLS port', async () => {
  const reply = await new Promise<string>((resolve) => {
    const socket = net.connect(server.app.port, '127.0.0.1', () => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
    let text = '';
    socket.on('data', (c) => (text += c.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', () => resolve(text));
  });
  assert.doesNotMatch(reply, /^HTTP\/1\.1 200/);
});
