// Finding 12: garbage binary protobuf used to get 500 / `internal` on every RPC, because Connect
// parses the body before any interceptor runs and calls a parse failure internal. Now every RPC
// answers invalid_argument (with the catalog's ErrorInfo) on Connect binary, gRPC and gRPC-Web,
// also for misframed envelopes, and nothing changes; REST refuses such bodies with a 4xx too.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { createFingerprint } from '../fuzz/db-fingerprint.js';
import { rpcPath, rpcs } from '../fuzz/targets.js';
import { envelope, grpcCall, httpCall, type Outcome } from '../fuzz/wire.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let admin: string;
let session: http2.ClientHttp2Session;
let fingerprint: () => Promise<string>;

// An illegal tag (field 0x7ffff, wire type 7), as in the report.
const garbage = new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02]);
const invalidArgument = { connect: 'invalid_argument', grpc: '3' };

before(async () => {
  server = await startTestServer();
  const res = await server.rest('/api/sso/v1/auth/login', {
    method: 'POST',
    json: { identifier: 'admin@example.com', secret: 'Password123!x', register: true },
  });
  admin = ((await res.json()) as { access_token: string }).access_token;
  fingerprint = await createFingerprint(server.app.database.dataSource);
  session = http2.connect(server.url);
});
after(async () => {
  session?.close();
  await server?.stop();
});

describe('garbage binary protobuf', () => {
  test(`every RPC (${rpcs.length}) answers invalid_argument on Connect binary, gRPC and gRPC-Web, and nothing changes`, async () => {
    const before = await fingerprint();
    const auth = { authorization: `Bearer ${admin}` };
    const wrong: string[] = [];
    const expect = (what: string, o: Outcome, code: string) => {
      if (o.code !== code || o.status >= 500) wrong.push(`${what}: ${o.status} ${o.code} ${o.excerpt}`);
    };
    for (const method of rpcs) {
      const url = server.url + rpcPath(method);
      expect(
        `connect ${method.name}`,
        await httpCall(url, { method: 'POST', headers: { ...auth, 'content-type': 'application/proto' }, body: garbage }),
        invalidArgument.connect,
      );
      expect(`grpc ${method.name}`, await grpcCall(session, rpcPath(method), auth, envelope(garbage)), invalidArgument.grpc);
      expect(
        `grpc-web ${method.name}`,
        await httpCall(url, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/grpc-web+proto' },
          body: envelope(garbage),
        }),
        invalidArgument.grpc,
      );
    }
    assert.deepEqual(wrong, []);
    assert.equal(await fingerprint(), before);
  });

  test('the refusal carries the catalog reason, also when the body is compressed or misframed', async () => {
    const url = `${server.url}/sso.auth.v1.AuthService/Login`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/proto', 'content-encoding': 'gzip' },
      body: gzipSync(garbage),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: string; details: { debug: { reason: string } }[] };
    assert.equal(body.code, 'invalid_argument');
    assert.equal(body.details[0]?.debug.reason, 'INVALID_ARGUMENT');
    // Invalid UTF-8 in a string field (field 1, identifier) of an otherwise well-formed message.
    expectCode(
      await httpCall(url, {
        method: 'POST',
        headers: { 'content-type': 'application/proto' },
        body: new Uint8Array([0x0a, 0x02, 0xc3, 0x28]),
      }),
      'invalid_argument',
    );
    // A cut envelope, a compressed flag with no compression named, and two messages for a unary call.
    for (const body of [
      envelope(garbage).subarray(0, 3),
      envelope(new Uint8Array(0), 1),
      Buffer.concat([envelope(new Uint8Array(0)), envelope(new Uint8Array(0))]),
    ]) {
      expectCode(await grpcCall(session, '/sso.auth.v1.AuthService/Login', {}, body), '3');
      expectCode(await httpCall(url, { method: 'POST', headers: { 'content-type': 'application/grpc-web+proto' }, body }), '3');
    }
  });

  test('REST: a protobuf body or invalid UTF-8 is a 4xx', async () => {
    const before = await fingerprint();
    const proto = await fetch(`${server.url}/api/sso/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: garbage,
    });
    assert.equal(proto.status, 415);
    const utf8 = await fetch(`${server.url}/api/sso/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: Buffer.concat([
        Buffer.from('{"identifier":"'),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from('@example.com","password":"Password123!x"}'),
      ]),
    });
    assert.equal(utf8.status, 400);
    assert.equal(await fingerprint(), before);
  });
});

function expectCode(o: Outcome, code: string): void {
  assert.equal(o.code, code, `${o.status} ${o.excerpt}`);
  assert.ok(o.status < 500, `${o.status} ${o.excerpt}`);
}
