import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { create, createFileRegistry, setExtension, type DescMethod, type DescMethodUnary, type DescService } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, MethodOptionsSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient, createConnectRouter, type ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter, createConnectTransport } from '@connectrpc/connect-node';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { access, AccessSchema } from '../../gen/sso/options/v1/options_pb.js';
import { isValidScope } from '../../src/domain/scopes.js';
import { accessRuleOf, createAuthorizationInterceptor } from '../../src/interceptors/authorization.js';
import { createErrorInterceptor } from '../../src/interceptors/errors.js';
import { createLogger } from '../../src/logger.js';
import { registerServices, services } from '../../src/server/routes.js';
import type { Implementations } from '../../src/services/index.js';

describe('every RPC the server answers declares its access', () => {
  const methods = services.flatMap((s) => s.methods);

  test('every method registered on the router (including health and reflection) has a rule', () => {
    const router = createConnectRouter();
    const empty = { auth: {}, directory: {}, agent: {}, apiKey: {}, appRegistry: {}, factor: {} };
    registerServices(router, empty as unknown as Implementations, async () => true);
    const undeclared = router.handlers.filter((h) => !accessRuleOf(h.method)).map((h) => `${h.service.typeName}.${h.method.name}`);
    assert.deepEqual(undeclared, []);
    const registered = new Set(router.handlers.map((h) => h.service.typeName));
    for (const s of services) assert.ok(registered.has(s.typeName), `${s.typeName} is not registered`);
  });

  test('the service list is not empty', () => {
    assert.ok(services.length >= 5, `only ${services.length} services`);
    assert.ok(methods.length > 10, `only ${methods.length} methods`);
  });

  for (const service of services) {
    for (const method of service.methods) {
      test(`${service.typeName}.${method.name} declares (sso.options.v1.access)`, () => {
        const rule = accessRuleOf(method);
        assert.ok(rule, `${service.typeName}.${method.name} has no access declaration: add option (sso.options.v1.access)`);
        if (rule.permission !== '') {
          assert.ok(isValidScope(rule.permission), `permission ${JSON.stringify(rule.permission)} is not an action:resource scope`);
          assert.match(rule.permission, /^[a-z]+:[a-z_.-]+$/, 'a permission names one action on one resource');
        }
        if (rule.selfField !== '') {
          assert.ok(rule.permission !== '', 'self_field only makes sense with a permission');
          const field = method.input.fields.find((f) => f.name === rule.selfField);
          assert.ok(field, `self_field ${rule.selfField} is not a field of ${method.input.typeName}`);
          assert.equal(field.fieldKind, 'scalar');
        }
        // A public RPC must not also claim to need something: the interceptor would ignore it.
        if (rule.public) {
          assert.equal(rule.permission, '', 'public with a permission');
          assert.equal(rule.admin, false, 'public and admin');
          assert.equal(rule.self, false, 'public and self');
        }
      });
    }
  }
});

/**
 * A tiny service built in the test from a descriptor: one method with no access option, one with
 * an empty one (declares nothing), one public method as the control that proves the harness lets
 * declared calls through.
 */
function probeService(): DescService {
  const opts = (rule?: Parameters<typeof create<typeof AccessSchema>>[1]) => {
    const options = create(MethodOptionsSchema);
    if (rule) setExtension(options, access, create(AccessSchema, rule));
    return options;
  };
  const file = create(FileDescriptorProtoSchema, {
    name: 'probe/v1/access_probe.proto',
    package: 'probe.v1',
    syntax: 'proto3',
    messageType: [{ name: 'Empty' }],
    service: [
      {
        name: 'AccessProbeService',
        method: [
          { name: 'Undeclared', inputType: '.probe.v1.Empty', outputType: '.probe.v1.Empty' },
          { name: 'EmptyRule', inputType: '.probe.v1.Empty', outputType: '.probe.v1.Empty', options: opts({}) },
          { name: 'Open', inputType: '.probe.v1.Empty', outputType: '.probe.v1.Empty', options: opts({ public: true }) },
        ],
      },
    ],
  });
  const registry = createFileRegistry(file, () => undefined);
  const service = registry.getService('probe.v1.AccessProbeService');
  assert.ok(service);
  return service;
}

describe('an RPC without an access declaration is denied', () => {
  const service = probeService();
  const method = (name: string): DescMethod => service.methods.find((m) => m.name === name)!;
  const reached: string[] = [];
  let server: http.Server;
  let baseUrl: string;

  before(async () => {
    const routes = (router: ConnectRouter) => {
      for (const m of service.methods) {
        router.rpc(m as DescMethodUnary, () => {
          reached.push(m.name);
          return {};
        });
      }
    };
    // Same interceptors as the server, in the same order relative to each other.
    const handler = connectNodeAdapter({
      routes,
      interceptors: [createErrorInterceptor(createLogger('silent')), createAuthorizationInterceptor()],
    });
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('the probe descriptors are what the test means', () => {
    assert.equal(accessRuleOf(method('Undeclared')), undefined);
    assert.equal(accessRuleOf(method('EmptyRule')), undefined);
    assert.equal(accessRuleOf(method('Open'))?.public, true);
  });

  async function call(name: string, protocol: 'connect-json' | 'connect-binary') {
    const transport = createConnectTransport({ baseUrl, httpVersion: '1.1', useBinaryFormat: protocol === 'connect-binary' });
    const client = createClient(service, transport) as unknown as Record<string, (req: object) => Promise<unknown>>;
    return client[method(name).localName]!({});
  }

  test('control: a declared public method is reached', async () => {
    reached.length = 0;
    await call('Open', 'connect-json');
    assert.deepEqual(reached, ['Open']);
  });

  for (const name of ['Undeclared', 'EmptyRule']) {
    for (const protocol of ['connect-json', 'connect-binary'] as const) {
      test(`${name} over ${protocol}: permission_denied ACCESS_NOT_DECLARED, handler never runs`, async () => {
        reached.length = 0;
        const err = await call(name, protocol).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof ConnectError, `expected a ConnectError, got ${String(err)}`);
        assert.equal(err.code, Code.PermissionDenied);
        const info = err.findDetails(ErrorInfoSchema);
        assert.deepEqual(
          info.map((i) => i.reason),
          ['ACCESS_NOT_DECLARED'],
        );
        assert.deepEqual(reached, []);
      });
    }
  }

  test('plain HTTP: the denial is a 403 JSON error with the reason', async () => {
    const res = await fetch(`${baseUrl}/probe.v1.AccessProbeService/Undeclared`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 403);
    const body = (await res.json()) as { code: string; details?: { type: string }[] };
    assert.equal(body.code, 'permission_denied');
    assert.ok(
      body.details?.some((d) => d.type === 'google.rpc.ErrorInfo'),
      JSON.stringify(body),
    );
  });
});
