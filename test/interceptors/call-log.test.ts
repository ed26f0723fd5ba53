import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError, createClient, type ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter, createConnectTransport } from '@connectrpc/connect-node';
import { Health } from '../../gen/grpc/health/v1/health_pb.js';
import { createErrorInterceptor } from '../../src/interceptors/errors.js';
import { createLoggingInterceptor } from '../../src/interceptors/logging.js';
import { createLogger } from '../../src/logger.js';

/**
 * The logging interceptor writes one line per call with the call's request id, RPC and protocol,
 * and an unforeseen error's line carries the same three (they are not in a per-call child
 * logger any more, so this is checked here), over a real socket.
 */
describe('call log lines', () => {
  const lines: Record<string, unknown>[] = [];
  let server: http.Server;
  let client: ReturnType<typeof createClient<typeof Health>>;

  before(async () => {
    const log = createLogger(
      'info',
      new Writable({
        write(chunk, _enc, done) {
          for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
          done();
        },
      }),
    );
    const routes = (router: ConnectRouter) =>
      router.service(Health, {
        check: (req) => {
          if (req.service === 'boom') throw new Error('a cause only the log may see');
          return { status: 1 };
        },
      });
    const handler = connectNodeAdapter({ routes, interceptors: [createLoggingInterceptor(log), createErrorInterceptor(log)] });
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const transport = createConnectTransport({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, httpVersion: '1.1' });
    client = createClient(Health, transport);
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('a call is logged once, with its request id, RPC, protocol and code', async () => {
    await client.check({ service: '' }, { headers: { 'x-request-id': 'probe-ok-1' } });
    const mine = lines.filter((l) => l.requestId === 'probe-ok-1');
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.msg, 'call');
    assert.equal(mine[0]!.rpc, 'Health.Check');
    assert.equal(mine[0]!.protocol, 'connect');
    assert.equal(mine[0]!.code, 'ok');
    assert.equal(typeof mine[0]!.ms, 'number');
  });

  test("an unforeseen error's line carries the call's request id, RPC and protocol; the caller sees none of it", async () => {
    const err = await client.check({ service: 'boom' }, { headers: { 'x-request-id': 'probe-boom-1' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConnectError);
    assert.equal(err.code, Code.Internal);
    assert.doesNotMatch(err.rawMessage, /a cause only the log may see/);
    const mine = lines.filter((l) => l.requestId === 'probe-boom-1');
    const unforeseen = mine.find((l) => l.msg === 'unforeseen error');
    assert.ok(unforeseen, JSON.stringify(mine));
    assert.equal(unforeseen.rpc, 'Health.Check');
    assert.equal(unforeseen.protocol, 'connect');
    assert.match(JSON.stringify(unforeseen.err), /a cause only the log may see/);
    const call = mine.find((l) => l.msg === 'call');
    assert.equal(call?.code, 'Internal');
  });
});
