// @grpc/grpc-js with @grpc/proto-loader, loading proto/ directly (no generated code of ours), calls
// every service over HTTP/2 cleartext: with a bearer access token, and with an API key (as
// `x-api-key` and as `Authorization: Bearer <key>`).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fromBinary } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { anyUnpack, AnySchema } from '@bufbuild/protobuf/wkt';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const protoDir = join(root, 'proto');

/** Every `*.proto` under proto/, as paths relative to it: what a grpc-js user would load. */
function protoFiles(dir = protoDir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? protoFiles(join(dir, e.name)) : e.name.endsWith('.proto') ? [relative(protoDir, join(dir, e.name))] : [],
  );
}

type Callback = (err: grpc.ServiceError | null, res?: any) => void;
type UnaryFn = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback) => void;

/** One unary call, as a promise. */
function call(client: grpc.Client, method: string, request: object, metadata = new grpc.Metadata()): Promise<any> {
  const fn = (client as unknown as Record<string, UnaryFn | undefined>)[method];
  if (typeof fn !== 'function') throw new assert.AssertionError({ message: `no method ${method}` });
  return new Promise((resolve, reject) => {
    fn.call(client, request, metadata, { deadline: Date.now() + 15_000 }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

function metadata(entries: Record<string, string>): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(entries)) md.set(k, v);
  return md;
}

/** The `google.rpc.ErrorInfo` reason in the standard `grpc-status-details-bin` trailer (a `google.rpc.Status`). */
function reasonOf(err: grpc.ServiceError): string | undefined {
  const bin = err.metadata?.get('grpc-status-details-bin')[0];
  if (!(bin instanceof Uint8Array)) return undefined;
  const reader = new BinaryReader(bin);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field !== 3 || wireType !== WireType.LengthDelimited) {
      reader.skip(wireType);
      continue;
    }
    const info = anyUnpack(fromBinary(AnySchema, reader.bytes()), ErrorInfoSchema);
    if (info) return info.reason;
  }
  return undefined;
}

async function rejectsWith(promise: Promise<unknown>, code: grpc.status, reason: string) {
  await assert.rejects(promise, (err: grpc.ServiceError) => {
    assert.equal(err.code, code, `${grpc.status[err.code]}: ${err.details}`);
    assert.equal(reasonOf(err), reason);
    return true;
  });
}

/** The read call each service answers for a caller holding its read scope, and what a good answer has. */
const readCalls: { service: string; method: string; request: object; check(res: any, adminId: string): void }[] = [
  {
    service: 'AuthService',
    method: 'GetMe',
    request: {},
    check: (res, adminId) => {
      assert.equal(res.user.id, adminId);
      assert.equal(res.user.identifiers[0].identifier, 'user@example.com');
    },
  },
  {
    service: 'DirectoryService',
    method: 'ListUsers',
    request: {},
    check: (res, adminId) => {
      assert.ok(
        res.items.some((u: any) => u.id === adminId),
        'the administrator is listed',
      );
      assert.equal(typeof res.total, 'number');
      assert.ok(res.total >= 1);
    },
  },
  {
    service: 'AgentService',
    method: 'ListAgents',
    request: {},
    check: (res) => {
      assert.ok(Array.isArray(res.items));
      assert.equal(res.total, res.items.length);
    },
  },
  {
    service: 'ApiKeyService',
    method: 'ListApiKeys',
    request: {},
    check: (res) => {
      assert.ok(Array.isArray(res.items));
      assert.equal(typeof res.total, 'number');
    },
  },
  {
    service: 'AppRegistryService',
    method: 'ListApps',
    request: {},
    check: (res) => {
      assert.ok(Array.isArray(res.items));
      assert.equal(res.total, res.items.length);
    },
  },
];

describe('@grpc/grpc-js + @grpc/proto-loader from proto/', () => {
  let server: TestServer;
  const clients = new Map<string, grpc.Client>();
  const client = (service: string) => clients.get(service)!;
  let token = '';
  let adminId = '';
  let apiKey = '';

  before(async () => {
    server = await startTestServer();
    const definition = protoLoader.loadSync(protoFiles(), {
      includeDirs: [protoDir, join(root, 'third_party')],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const loaded = grpc.loadPackageDefinition(definition) as any;
    const target = `127.0.0.1:${server.app.port}`;
    for (const [pkg, service] of [
      ['auth', 'AuthService'],
      ['directory', 'DirectoryService'],
      ['agent', 'AgentService'],
      ['apikey', 'ApiKeyService'],
      ['appregistry', 'AppRegistryService'],
    ] as const) {
      const Ctor = loaded.sso[pkg].v1[service] as typeof grpc.Client | undefined;
      assert.ok(Ctor, `proto/ defines sso.${pkg}.v1.${service}`);
      clients.set(service, new Ctor(target, grpc.credentials.createInsecure()));
    }
  });
  after(async () => {
    for (const c of clients.values()) c.close();
    await server?.stop();
  });

  test('AuthService.Login (public, no credential) registers the first user', async () => {
    const res = await call(client('AuthService'), 'Login', {
      identifier: 'user@example.com',
      secret: 'SecurePassword123!',
      register: true,
    });
    assert.equal(res.token_type, 'Bearer');
    assert.equal(res.access_token.split('.').length, 3);
    assert.equal(res.tokens.access, res.access_token);
    assert.equal(res.expires_in, 900);
    assert.equal(res.user.is_admin, true);
    assert.equal(res.user.identifiers[0].identifier, 'user@example.com');
    token = res.access_token;
    adminId = res.user.id;
  });

  for (const c of readCalls) {
    test(`bearer token: ${c.service}.${c.method}`, async () => {
      assert.ok(token, 'logged in');
      c.check(await call(client(c.service), c.method, c.request, metadata({ authorization: `Bearer ${token}` })), adminId);
    });
  }

  test('no credential, a tampered token, an unknown API key: UNAUTHENTICATED with the reason in ErrorInfo', async () => {
    await rejectsWith(call(client('AuthService'), 'GetMe', {}), grpc.status.UNAUTHENTICATED, 'UNAUTHENTICATED');
    const [h, p, s] = token.split('.');
    const tampered = `${h}.${p}.${s!.slice(0, -4)}${s!.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    await rejectsWith(
      call(client('AuthService'), 'GetMe', {}, metadata({ authorization: `Bearer ${tampered}` })),
      grpc.status.UNAUTHENTICATED,
      'INVALID_TOKEN',
    );
    await rejectsWith(
      call(client('DirectoryService'), 'ListUsers', {}, metadata({ 'x-api-key': 'not-a-real-key' })),
      grpc.status.UNAUTHENTICATED,
      'INVALID_API_KEY',
    );
  });

  test('a user without the permission: PERMISSION_DENIED', async () => {
    const other = await call(client('AuthService'), 'Login', {
      identifier: 'plain@example.com',
      secret: 'PlainPassword123!',
      register: true,
    });
    assert.equal(other.user.is_admin, false);
    await rejectsWith(
      call(client('AuthService'), 'ListSigningKeys', {}, metadata({ authorization: `Bearer ${other.access_token}` })),
      grpc.status.PERMISSION_DENIED,
      'PERMISSION_DENIED',
    );
  });

  test('ApiKeyService.CreateApiKey over grpc-js: the plaintext key, once', async () => {
    assert.ok(token, 'logged in');
    const res = await call(
      client('ApiKeyService'),
      'CreateApiKey',
      {
        name: 'grpc-js reader',
        scopes: ['read:users', 'read:agents', 'read:apikeys', 'read:apps'],
      },
      metadata({ authorization: `Bearer ${token}` }),
    );
    assert.equal(typeof res.key, 'string');
    assert.ok(res.key.length >= 20);
    assert.equal(res.api_key, res.key);
    assert.equal(res.user_id, adminId);
    assert.deepEqual([...res.scopes].sort(), ['read:agents', 'read:apikeys', 'read:apps', 'read:users']);
    apiKey = res.key;
  });

  for (const c of readCalls) {
    test(`API key (x-api-key): ${c.service}.${c.method}`, async () => {
      assert.ok(apiKey, 'an API key was created');
      c.check(await call(client(c.service), c.method, c.request, metadata({ 'x-api-key': apiKey })), adminId);
    });
  }

  test('API key as `Authorization: Bearer <key>` works the same', async () => {
    assert.ok(apiKey, 'an API key was created');
    for (const c of readCalls) {
      c.check(await call(client(c.service), c.method, c.request, metadata({ authorization: `Bearer ${apiKey}` })), adminId);
    }
  });

  test("an API key holds only its scopes, not its owner's administrator rights", async () => {
    assert.ok(apiKey, 'an API key was created');
    await rejectsWith(
      call(client('AuthService'), 'ListSigningKeys', {}, metadata({ 'x-api-key': apiKey })),
      grpc.status.PERMISSION_DENIED,
      'PERMISSION_DENIED',
    );
  });
});
