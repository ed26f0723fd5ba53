import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { services } from '../../src/server/routes.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * `buf curl` is a real client we did not write. With no `--schema` it learns every message from
 * the server's reflection service, so each call below also proves reflection serves that schema.
 */
const buf = fileURLToPath(new URL('../../node_modules/.bin/buf', import.meta.url));

const protocols = {
  grpc: ['--protocol', 'grpc', '--http2-prior-knowledge'],
  grpcweb: ['--protocol', 'grpcweb'],
  connect: ['--protocol', 'connect'],
} as const;
type Protocol = keyof typeof protocols;

const identifier = 'buf-admin@example.com';
const secret = 'buf-curl-password-1';

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

function bufCurl(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(buf, ['curl', '--connect-timeout', '20', ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      const exitCode = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ exitCode, stdout, stderr });
    });
  });
}

/** Calls `package.Service/Method` with a JSON request; resolves the JSON answer (exit 0 required). */
async function call(protocol: Protocol, rpc: string, request: unknown = {}, headers: string[] = []): Promise<Record<string, unknown>> {
  const out = await bufCurl([
    ...protocols[protocol],
    ...headers.flatMap((h) => ['-H', h]),
    '-d',
    JSON.stringify(request),
    `${server.url}/${rpc}`,
  ]);
  assert.equal(out.exitCode, 0, `${protocol} ${rpc}: ${out.stderr}${out.stdout}`);
  return JSON.parse(out.stdout) as Record<string, unknown>;
}

const sso = services.map((s) => s.typeName);

describe('buf curl with server reflection, no --schema', () => {
  let accessToken: string;

  test('--list-services lists the five sso services, health and reflection, on every protocol', async () => {
    for (const protocol of Object.keys(protocols) as Protocol[]) {
      const out = await bufCurl([...protocols[protocol], '--list-services', server.url]);
      assert.equal(out.exitCode, 0, out.stderr);
      assert.deepEqual(
        out.stdout.trim().split('\n').sort(),
        [...sso, 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection'].sort(),
        protocol,
      );
    }
  });

  test('--list-methods lists every method of every service', async () => {
    const out = await bufCurl([...protocols.grpc, '--list-methods', server.url]);
    assert.equal(out.exitCode, 0, out.stderr);
    const listed = new Set(out.stdout.trim().split('\n'));
    for (const s of services) for (const m of s.methods) assert.ok(listed.has(`${s.typeName}/${m.name}`), `${s.typeName}/${m.name}`);
  });

  test('AuthService/Login registers over gRPC (HTTP/2 prior knowledge)', async () => {
    const res = await call('grpc', 'sso.auth.v1.AuthService/Login', { identifier, secret, register: true });
    assert.equal(typeof res['accessToken'], 'string');
    assert.equal(res['tokenType'], 'Bearer');
    const user = res['user'] as { identifiers: { identifier: string }[]; isAdmin: boolean };
    assert.equal(user.identifiers[0]!.identifier, identifier);
    assert.equal(user.isAdmin, true);
    accessToken = res['accessToken'] as string;
  });

  for (const protocol of ['grpcweb', 'connect'] as const) {
    test(`AuthService/Login over ${protocol}`, async () => {
      const res = await call(protocol, 'sso.auth.v1.AuthService/Login', { identifier, secret });
      assert.equal(typeof res['accessToken'], 'string');
      assert.equal(typeof res['refreshToken'], 'string');
      assert.equal((res['user'] as { identifiers: { identifier: string }[] }).identifiers[0]!.identifier, identifier);
    });
  }

  test('GetMe with -H "Authorization: Bearer ..." on every protocol', async () => {
    for (const protocol of Object.keys(protocols) as Protocol[]) {
      const res = await call(protocol, 'sso.auth.v1.AuthService/GetMe', {}, [`Authorization: Bearer ${accessToken}`]);
      assert.equal((res['user'] as { identifiers: { identifier: string }[] }).identifiers[0]!.identifier, identifier, protocol);
    }
  });

  test('an error comes back as the Connect code with its ErrorInfo reason', async () => {
    const out = await bufCurl([...protocols.grpc, '-d', '{}', `${server.url}/sso.auth.v1.AuthService/GetMe`]);
    assert.notEqual(out.exitCode, 0);
    const error = JSON.parse(out.stderr) as { code: string; details: { type: string }[] };
    assert.equal(error.code, 'unauthenticated');
    assert.ok(error.details.some((d) => d.type === 'google.rpc.ErrorInfo'));
  });

  test('every other service is callable through reflection (admin token)', async () => {
    const auth = [`Authorization: Bearer ${accessToken}`];
    const users = await call('grpc', 'sso.directory.v1.DirectoryService/ListUsers', { limit: 5 }, auth);
    assert.ok((users['items'] as { identifiers: { identifier: string }[] }[]).some((u) => u.identifiers[0]!.identifier === identifier));
    // Create with one protocol, list with another: reflection serves each service's messages.
    const agent = await call('connect', 'sso.agent.v1.AgentService/CreateAgent', { name: 'buf-agent', scopes: ['read:users'] }, auth);
    const agentId = (agent['agent'] as { id: string }).id;
    const agents = await call('grpc', 'sso.agent.v1.AgentService/ListAgents', {}, auth);
    assert.deepEqual(
      (agents['items'] as { id: string }[]).map((a) => a.id),
      [agentId],
    );

    const key = await call('grpcweb', 'sso.apikey.v1.ApiKeyService/CreateApiKey', { name: 'buf-key', agentId }, auth);
    assert.equal(typeof key['apiKey'], 'string');
    const keys = await call('connect', 'sso.apikey.v1.ApiKeyService/ListApiKeys', { agentId }, auth);
    assert.deepEqual(
      (keys['items'] as { id: string }[]).map((k) => k.id),
      [key['id']],
    );

    const app = await call(
      'grpc',
      'sso.appregistry.v1.AppRegistryService/CreateApp',
      { name: 'buf-app', url: 'https://app.example.com' },
      auth,
    );
    const apps = await call('grpcweb', 'sso.appregistry.v1.AppRegistryService/ListApps', {}, auth);
    assert.deepEqual(
      (apps['items'] as { id: string }[]).map((a) => a.id),
      [(app['app'] as { id: string }).id],
    );
  });
});

describe('gRPC health through buf curl', () => {
  test('Health/Check answers SERVING for the server and for each service', async () => {
    assert.deepEqual(await call('grpc', 'grpc.health.v1.Health/Check'), { status: 'SERVING' });
    for (const service of sso) {
      assert.deepEqual(await call('connect', 'grpc.health.v1.Health/Check', { service }), { status: 'SERVING' }, service);
    }
  });

  test('Health/Check of an unknown service is not_found', async () => {
    const out = await bufCurl([...protocols.grpc, '-d', '{"service":"nope.v1.Nope"}', `${server.url}/grpc.health.v1.Health/Check`]);
    assert.notEqual(out.exitCode, 0);
    assert.equal((JSON.parse(out.stderr) as { code: string }).code, 'not_found');
  });

  test('Health/List names every service', async () => {
    const res = await call('grpc', 'grpc.health.v1.Health/List');
    const statuses = res['statuses'] as Record<string, { status: string }>;
    for (const service of ['', ...sso]) assert.equal(statuses[service]?.status, 'SERVING', service || '(server)');
  });
});
