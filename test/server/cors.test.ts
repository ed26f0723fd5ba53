import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A raw HTTP/1.1 request: fetch may not send an Origin of our choosing, node:http does. */
function request(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function list(header: string | string[] | undefined): string[] {
  return String(header ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

const getMe = '/sso.auth.v1.AuthService/GetMe';
const preflightHeaders = (origin: string, method = 'POST', requested = 'content-type,connect-protocol-version,authorization') => ({
  origin,
  'access-control-request-method': method,
  'access-control-request-headers': requested,
});

describe('CORS with a listed origin', () => {
  const app = 'http://app.example';
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer({ corsOrigins: [app] });
    const res = await server.rest('/api/sso/v1/auth/login', {
      method: 'POST',
      json: { identifier: 'cors@example.com', secret: 'cors-password-1', register: true },
    });
    assert.equal(res.status, 200);
    token = ((await res.json()) as { access_token: string }).access_token;
  });
  after(async () => {
    await server?.stop();
  });

  test('preflight from the listed origin: 204 with origin, credentials, methods and headers', async () => {
    const res = await request(server.url + getMe, 'OPTIONS', preflightHeaders(app));
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-origin'], app);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    const allowed = list(res.headers['access-control-allow-headers']);
    for (const h of [
      'content-type',
      'connect-protocol-version',
      'authorization',
      'x-api-key',
      'x-request-id',
      'connect-timeout-ms',
      'x-grpc-web',
      'x-user-agent',
    ]) {
      assert.ok(allowed.includes(h), `${h} not in ${allowed.join(', ')}`);
    }
    const methods = list(res.headers['access-control-allow-methods']);
    for (const m of ['get', 'post', 'put', 'patch', 'delete']) assert.ok(methods.includes(m), `${m} not in ${methods.join(', ')}`);
    assert.ok(list(res.headers.vary).includes('origin'));
    assert.ok(Number(res.headers['access-control-max-age']) > 0);
    assert.equal(res.text, '');
  });

  test('preflight for a REST route (DELETE /api/sso/v1/sessions/{id}) too', async () => {
    const res = await request(
      `${server.url}/api/sso/v1/sessions/00000000-0000-4000-8000-000000000000`,
      'OPTIONS',
      preflightHeaders(app, 'DELETE', 'authorization'),
    );
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-origin'], app);
  });

  test('a real Connect call from the listed origin carries allow-origin, credentials and expose-headers', async () => {
    const res = await request(
      server.url + getMe,
      'POST',
      {
        origin: app,
        'content-type': 'application/json',
        'connect-protocol-version': '1',
        authorization: `Bearer ${token}`,
      },
      '{}',
    );
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['access-control-allow-origin'], app);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    const exposed = list(res.headers['access-control-expose-headers']);
    for (const h of ['x-request-id', 'grpc-status', 'grpc-message', 'grpc-status-details-bin']) {
      assert.ok(exposed.includes(h), `${h} not in ${exposed.join(', ')}`);
    }
    assert.ok(list(res.headers.vary).includes('origin'));
  });

  test('a real REST call and its error from the listed origin carry CORS headers', async () => {
    const ok = await request(`${server.url}/api/sso/v1/me`, 'GET', { origin: app, authorization: `Bearer ${token}` });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['access-control-allow-origin'], app);
    const denied = await request(`${server.url}/api/sso/v1/me`, 'GET', { origin: app });
    assert.equal(denied.status, 401);
    // Without these the browser would hide the error body from the page.
    assert.equal(denied.headers['access-control-allow-origin'], app);
  });

  test('a browser cookie credential works from the listed origin', async () => {
    const res = await request(`${server.url}/api/sso/v1/me`, 'GET', { origin: app, cookie: `other=1; usso-access-token=${token}` });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
  });

  test('preflight from another origin: 403, no CORS headers', async () => {
    const res = await request(server.url + getMe, 'OPTIONS', preflightHeaders('http://evil.example'));
    assert.equal(res.status, 403);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
    assert.equal(res.headers['access-control-allow-headers'], undefined);
  });

  test('a real request from another origin gets no allow-origin', async () => {
    for (const origin of [
      'http://evil.example',
      'http://app.example.evil.example',
      'https://app.example',
      'http://app.example:8080',
      'null',
    ]) {
      const res = await request(
        server.url + getMe,
        'POST',
        {
          origin,
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
        },
        '{}',
      );
      assert.equal(res.headers['access-control-allow-origin'], undefined, origin);
      assert.equal(res.headers['access-control-allow-credentials'], undefined, origin);
      assert.equal(res.headers['access-control-expose-headers'], undefined, origin);
    }
  });

  test('a same-origin or non-browser request gets no CORS headers', async () => {
    const res = await request(server.url + getMe, 'POST', { 'content-type': 'application/json', authorization: `Bearer ${token}` }, '{}');
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });

  test('every answer says it varies by Origin, so a shared cache keeps origins apart', async () => {
    for (const headers of [{}, { origin: 'http://evil.example' }, { origin: app }] as Record<string, string>[]) {
      const res = await request(`${server.url}/.well-known/jwks.json`, 'GET', headers);
      assert.equal(res.status, 200);
      assert.ok(list(res.headers.vary).includes('origin'), `${JSON.stringify(headers)}: vary ${res.headers.vary}`);
    }
  });
});

describe('CORS with `*`', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ corsOrigins: ['*'] });
  });
  after(async () => {
    await server?.stop();
  });

  test('any origin may call, but never with credentials', async () => {
    for (const origin of ['http://one.example', 'https://two.example:8443']) {
      const preflight = await request(server.url + getMe, 'OPTIONS', preflightHeaders(origin));
      assert.equal(preflight.status, 204);
      assert.ok(
        [origin, '*'].includes(String(preflight.headers['access-control-allow-origin'])),
        String(preflight.headers['access-control-allow-origin']),
      );
      assert.equal(preflight.headers['access-control-allow-credentials'], undefined);
      assert.ok(list(preflight.headers['access-control-allow-headers']).includes('authorization'));

      const res = await request(
        `${server.url}/sso.auth.v1.AuthService/Login`,
        'POST',
        { origin, 'content-type': 'application/json' },
        JSON.stringify({ identifier: 'nobody@example.com', secret: 'wrong-password-1' }),
      );
      assert.equal(res.status, 401);
      assert.ok([origin, '*'].includes(String(res.headers['access-control-allow-origin'])));
      assert.equal(res.headers['access-control-allow-credentials'], undefined);
      assert.ok(list(res.headers['access-control-expose-headers']).includes('x-request-id'));
    }
  });
});
