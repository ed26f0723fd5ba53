// Finding 11: a NUL (or an unpaired surrogate) in any text field used to reach PostgreSQL, which
// refuses it: a 500 on many routes and RPCs, a failed /oauth/token attempt missing from the audit
// log, and an error log line carrying the statement's parameters. Now such text is refused at the
// input boundary with 400 INVALID_ARGUMENT on every protocol, nothing changes, the refused token
// request is audited, and a value the database still refuses is a 400 logged without parameters.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError, createContextValues } from '@connectrpc/connect';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { DirectoryService } from '../../gen/sso/directory/v1/directory_service_pb.js';
import { createErrorInterceptor } from '../../src/interceptors/errors.js';
import { createLogger } from '../../src/logger.js';
import { createFingerprint } from '../fuzz/db-fingerprint.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let admin: string;
let fingerprint: () => Promise<string>;
const logLines: string[] = [];

function capturingLogger() {
  return createLogger(
    'info',
    new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );
}

async function auditEvents(): Promise<{ type: string; outcome: string; identifier: string; reason: string }[]> {
  const res = await server.rest('/api/sso/v1/audit-events?limit=100', { token: admin });
  assert.equal(res.status, 200);
  return ((await res.json()) as { items: { type: string; outcome: string; identifier: string; reason: string }[] }).items;
}

function assertInvalidArgument(e: unknown): true {
  assert.ok(e instanceof ConnectError, String(e));
  assert.equal(e.code, Code.InvalidArgument, e.message);
  return true;
}

before(async () => {
  server = await startTestServer({}, { log: capturingLogger() });
  const res = await server.rest('/api/sso/v1/auth/login', {
    method: 'POST',
    json: { identifier: 'admin@example.com', secret: 'Password123!x', register: true },
  });
  admin = ((await res.json()) as { access_token: string }).access_token;
  fingerprint = await createFingerprint(server.app.database.dataSource);
});
after(async () => {
  await server?.stop();
});

describe('NUL and unpaired surrogates in text', () => {
  test('REST: the reported login with "audience": "a\\u0000b" is a 400 and changes nothing', async () => {
    const before = await fingerprint();
    const res = await server.rest('/api/sso/v1/auth/login', {
      method: 'POST',
      json: { identifier: 'admin@example.com', secret: 'x', audience: 'a\u0000b' },
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: string; error_code: string; message: string };
    assert.equal(body.code, 'invalid_argument');
    assert.equal(body.error_code, 'INVALID_ARGUMENT');
    assert.match(body.message, /audience/);
    assert.equal(await fingerprint(), before);
  });

  test('REST: an unpaired surrogate (a JSON \\ud800 escape) and a NUL in a repeated nested field are refused', async () => {
    const before = await fingerprint();
    const surrogate = await server.rest('/api/sso/v1/users', {
      method: 'POST',
      token: admin,
      headers: { 'content-type': 'application/json' },
      body: '{"identifier":"new@example.com","password":"Password123!x","roles":["x\\ud800y"]}',
    });
    assert.equal(surrogate.status, 400, await surrogate.clone().text());
    const nested = await server.rest('/api/sso/v1/users', {
      method: 'POST',
      token: admin,
      json: { identifiers: [{ type: 'email', identifier: 'n\u0000ul@example.com' }], password: 'Password123!x' },
    });
    assert.equal(nested.status, 400, await nested.clone().text());
    assert.equal(await fingerprint(), before);
  });

  test('Connect and gRPC: Login and CreateUser with NUL are invalid_argument and change nothing', async () => {
    const before = await fingerprint();
    await assert.rejects(
      server.client(AuthService).login({ identifier: 'admin@example.com', secret: 'x', audience: 'a\u0000b' }),
      assertInvalidArgument,
    );
    await assert.rejects(
      server.client(AuthService, { protocol: 'grpc' }).login({ identifier: 'admin\u0000@example.com', secret: 'Password123!x' }),
      assertInvalidArgument,
    );
    await assert.rejects(
      server
        .client(DirectoryService, { protocol: 'grpc', token: admin })
        .createUser({ identifier: 'x@example.com', password: 'Password123!x', scopes: ['read:users', 'a\u0000b'] }),
      assertInvalidArgument,
    );
    await assert.rejects(
      server
        .client(DirectoryService, { protocol: 'grpc-web', token: admin })
        .createUser({ identifier: 'y@example.com', password: 'Password123!x\u0000' }),
      assertInvalidArgument,
    );
    assert.equal(await fingerprint(), before);
  });
});

describe('a refused /oauth/token attempt is audited', () => {
  test('REST: client_credentials with a NUL in client_id is 400 invalid_request and recorded as a failure', async () => {
    const res = await server.rest('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=probe%00one&client_secret=x',
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
    const event = (await auditEvents()).find((e) => e.type === 'client_credentials' && e.identifier.startsWith('probe'));
    assert.ok(event, 'the attempt is in the audit log');
    assert.equal(event.outcome, 'failure');
    assert.equal(event.reason, 'INVALID_ARGUMENT');
    assert.equal(event.identifier, 'probe\ufffdone', 'recorded as seen, NUL shown as U+FFFD');
  });

  test('gRPC: IssueToken with a NUL in client_id is invalid_argument and recorded as a failure', async () => {
    await assert.rejects(
      server
        .client(AuthService, { protocol: 'grpc' })
        .issueToken({ grantType: 'client_credentials', clientId: 'probe-two\u0000', clientSecret: 'x' }),
      assertInvalidArgument,
    );
    const event = (await auditEvents()).find((e) => e.type === 'client_credentials' && e.identifier.startsWith('probe-two'));
    assert.ok(event, 'the attempt is in the audit log');
    assert.equal(event.outcome, 'failure');
  });
});

describe('a value the database refuses', () => {
  test('is a 400, and the log line has neither the statement nor its parameters', async () => {
    const secret = 'hash-3f9a1c0de5b7-secret';
    const log = capturingLogger();
    // The real driver's refusal (SQLSTATE 22021) through the real error interceptor and logger.
    const failing = () =>
      server.app.database.dataSource.query('INSERT INTO audit_events (type, outcome, identifier, detail) VALUES ($1, $2, $3, $4)', [
        'probe',
        'failure',
        'a\u0000b',
        JSON.stringify({ key: secret }),
      ]);
    const interceptor = createErrorInterceptor(log)(async () => {
      await failing();
      throw new Error('unreachable');
    });
    const from = logLines.length;
    await assert.rejects(interceptor({ contextValues: createContextValues() } as never), assertInvalidArgument);
    const lines = logLines.slice(from).join('');
    assert.match(lines, /22021/, 'the SQLSTATE is logged');
    assert.doesNotMatch(lines, new RegExp(secret), 'no parameter value');
    assert.doesNotMatch(lines, /INSERT INTO|"parameters"|"query"|driverError/, 'no statement');
  });

  test('nothing the server logged during these calls carries SQL parameters or statements', () => {
    const all = logLines.join('');
    assert.ok(all.length > 0, 'the server logged');
    assert.doesNotMatch(all, /"parameters"|"query"|driverError|INSERT INTO|SELECT .* FROM/);
  });
});
