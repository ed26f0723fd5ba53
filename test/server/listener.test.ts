import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createListener, type Listener } from '../../src/server/listener.js';

/**
 * The listener on its own (the whole server is covered by protocols.test.ts and shutdown.test.ts):
 * short timeouts here make the slow-client defences testable in milliseconds.
 */
let listener: Listener;
let port: number;
const url = () => `http://127.0.0.1:${port}`;

before(async () => {
  listener = createListener(
    (req, res) => {
      const version = 'stream' in req ? '2' : '1.1';
      const delay = req.url === '/slow' ? 400 : 0;
      setTimeout(() => {
        res.setHeader('content-type', 'text/plain');
        res.end(`HTTP/${version} ${req.method} ${req.url}`);
      }, delay);
    },
    undefined,
    { headersTimeoutMs: 300, firstBytesTimeoutMs: 300 },
  );
  await new Promise<void>((resolve) => listener.server.listen(0, '127.0.0.1', resolve));
  port = (listener.server.address() as AddressInfo).port;
});

after(async () => {
  await listener.close(0);
});

function raw(write: (socket: net.Socket) => void): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1', () => write(socket));
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('close', () => resolve({ text: Buffer.concat(chunks).toString(), ms: Date.now() - started }));
    socket.on('error', reject);
    setTimeout(() => {
      socket.destroy();
      reject(new Error('the server kept a stalled connection open'));
    }, 5000).unref();
  });
}

test('HTTP/1.1 and HTTP/2 on the same port', async () => {
  const h1 = await (await fetch(`${url()}/a`)).text();
  assert.equal(h1, 'HTTP/1.1 GET /a');
  const session = http2.connect(url());
  try {
    const h2 = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ':path': '/b' });
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (text += c));
      stream.on('end', () => resolve(text));
      stream.on('error', reject);
    });
    assert.equal(h2, 'HTTP/2 GET /b');
  } finally {
    session.close();
  }
});

test('a connection that never sends a byte is closed', async () => {
  const { text, ms } = await raw(() => {});
  assert.equal(text, '');
  assert.ok(ms >= 250, `closed after ${ms} ms`);
});

test('a client that stalls inside its headers (slowloris) gets 408 and is closed', async () => {
  const { text, ms } = await raw((socket) => socket.write('GET /a HTTP/1.1\r\nHost: x\r\nX-Slow: '));
  assert.match(text, /^HTTP\/1\.1 408 /);
  assert.ok(ms >= 250, `closed after ${ms} ms`);
});

test('a stalled "P" (start of both the HTTP/2 preface and PUT/POST) is closed too', async () => {
  const { ms } = await raw((socket) => socket.write('P'));
  assert.ok(ms >= 250, `closed after ${ms} ms`);
});

test('a prompt client is not cut by the first-bytes timeout', async () => {
  const agent = new http.Agent({ keepAlive: true });
  try {
    const get = () =>
      new Promise<string>((resolve, reject) => {
        http
          .get(`${url()}/k`, { agent }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
    assert.equal(await get(), 'HTTP/1.1 GET /k');
    // Idle between requests for longer than the first-bytes timeout: keep-alive (5 s) rules now.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await get(), 'HTTP/1.1 GET /k');
  } finally {
    agent.destroy();
  }
});

test('close(): idle keep-alive connections go at once, in-flight calls finish', async () => {
  // A second listener, so closing it does not disturb the other tests.
  const own = createListener((req, res) => {
    setTimeout(() => res.end(`done ${req.url}`), req.url === '/slow' ? 400 : 0);
  });
  await new Promise<void>((resolve) => own.server.listen(0, '127.0.0.1', resolve));
  const ownPort = (own.server.address() as AddressInfo).port;

  const idle = net.connect(ownPort, '127.0.0.1');
  await new Promise<void>((resolve) => idle.once('connect', () => resolve()));
  idle.write('GET /quick HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise<void>((resolve) => idle.once('data', () => resolve()));
  let idleClosedAt = 0;
  idle.on('close', () => (idleClosedAt = Date.now()));
  idle.on('error', () => {});

  const slow = new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
    http
      .get(`http://127.0.0.1:${ownPort}/slow`, { agent: new http.Agent({ keepAlive: true }) }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
      })
      .on('error', reject);
  });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(own.inFlight(), 1);
  const closing = own.close(5000);
  const answer = await slow;
  const slowDoneAt = Date.now();
  assert.deepEqual(answer, { status: 200, connection: 'close', body: 'done /slow' });
  await closing;
  assert.ok(idleClosedAt > 0, 'the idle connection was closed');
  assert.ok(idleClosedAt < slowDoneAt, 'the idle connection did not wait for the in-flight call');
});

test('close(grace): a call that outlasts the grace period is cut', async () => {
  const own = createListener(() => {
    /* never answers */
  });
  await new Promise<void>((resolve) => own.server.listen(0, '127.0.0.1', resolve));
  const ownPort = (own.server.address() as AddressInfo).port;
  const hanging = fetch(`http://127.0.0.1:${ownPort}/hang`).then(
    () => 'answered',
    () => 'cut',
  );
  await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  await own.close(200);
  const took = Date.now() - started;
  assert.ok(took >= 150 && took < 2000, `close took ${took} ms`);
  assert.equal(await hanging, 'cut');
});
