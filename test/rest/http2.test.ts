import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createConnectRouter } from '@connectrpc/connect';
import { AppRegistryService } from '../../gen/sso/appregistry/v1/app_registry_service_pb.js';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { createRestTranscoder } from '../../src/rest/transcoder.js';
import { writeRestError } from '../../src/rest/errors.js';
import { recordImplementations } from '../../src/rest/implementations.js';

let server: http2.Http2Server;
let client: http2.ClientHttp2Session;
const seenHeaders: Headers[] = [];

before(async () => {
  const { router, implementations } = recordImplementations(createConnectRouter());
  router.service(AuthService, {
    getMe(_req, ctx) {
      seenHeaders.push(ctx.requestHeader);
      return { user: { id: 'h2-user' } };
    },
  });
  router.service(AppRegistryService, {
    verify(req) {
      return { authorized: req.username === 'jdoe', message: 'Authorized' };
    },
  });
  const transcoder = createRestTranscoder({ services: [AuthService, AppRegistryService], implementations });
  server = http2.createServer((req, res) => {
    void transcoder.handle(req, res).then((handled) => {
      if (!handled) writeRestError(res, 404, 'not_found', 'ROUTE_NOT_FOUND', 'no route');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

after(async () => {
  // destroy, not close: Node's own HTTP/2 client keeps a stream whose upload was
  // cut short by the server's RST_STREAM(NO_ERROR) (the 413 below) open forever.
  client.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function request(headers: http2.OutgoingHttpHeaders, body?: string | Buffer): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const stream = client.request(headers);
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ status, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    stream.on('error', reject);
    stream.end(body);
  });
}

test('REST over HTTP/2: GET with response_body, headers forwarded (no pseudo-headers)', async () => {
  const r = await request({ ':method': 'GET', ':path': '/api/sso/v1/me', authorization: 'Bearer t' });
  assert.equal(r.status, 200);
  assert.equal(r.json.id, 'h2-user');
  const h = seenHeaders.at(-1)!;
  assert.equal(h.get('authorization'), 'Bearer t');
  assert.equal(h.get('content-type'), 'application/proto');
  assert.ok(![...h.keys()].some((k) => k.startsWith(':')));
});

test('REST over HTTP/2: POST JSON body, 413, 404', async () => {
  const ok = await request(
    { ':method': 'POST', ':path': '/verify', 'content-type': 'application/json' },
    JSON.stringify({ username: 'jdoe', password: 'x', api_key: 'k' }),
  );
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json, { authorized: true, message: 'Authorized' });
  const big = await request(
    { ':method': 'POST', ':path': '/verify', 'content-type': 'application/json' },
    Buffer.alloc(2 * 1024 * 1024, 32),
  );
  assert.equal(big.status, 413);
  assert.equal(big.json.error_code, 'BODY_TOO_LARGE');
  const missing = await request({ ':method': 'GET', ':path': '/nope' });
  assert.equal(missing.status, 404);
  // The session is still usable.
  assert.equal((await request({ ':method': 'GET', ':path': '/api/sso/v1/me' })).status, 200);
});
