// Hostile input, property-based: every REST route and every RPC (Connect JSON, Connect binary,
// gRPC, gRPC-Web), as an anonymous caller and as an administrator, gets malformed, oversized,
// deep, NUL-bearing, invalid UTF-8, wrong-typed and boundary input. The server must refuse or
// serve each call (never a 5xx, never `internal`/`unknown`), must not crash, and a refused call
// must change nothing in the database. FUZZ_RUNS (cases per target, protocol and caller) and
// FUZZ_SEED make a longer or a repeated run: `npm run fuzz`.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, test } from 'node:test';
import type { DescMethod } from '@bufbuild/protobuf';
import fc from 'fast-check';
import type { CompiledRoute } from '../../src/rest/routes.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createFingerprint } from './db-fingerprint.js';
import { hostileBinary, hostileFormBody, hostileJsonBody, hostileQuery, hostileSegment } from './inputs.js';
import { endsOwnSession, restRoutes, routeName, rpcPath, rpcs } from './targets.js';
import { envelope, grpcCall, httpCall, isRefusal, isServerFailure, type Outcome } from './wire.js';

const runs = Number(process.env.FUZZ_RUNS ?? 2);
const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

type Caller = 'anonymous' | 'admin';
const callers: Caller[] = ['anonymous', 'admin'];

let server: TestServer;
let session: http2.ClientHttp2Session;
let adminToken: string;
let fingerprint: () => Promise<string>;
let last: string;
const crashes: unknown[] = [];
const onCrash = (e: unknown) => crashes.push(e);

const stats = { cases: 0, refused: 0, served: 0, serverFailures: 0, changedByRefusal: 0, byProtocol: {} as Record<string, number> };
const problems: string[] = [];

function authHeaders(caller: Caller): Record<string, string> {
  return caller === 'admin' ? { authorization: `Bearer ${adminToken}` } : {};
}

/** Counts the outcome, and checks it: no server failure, and a refusal left the database as it was. */
async function judge(protocol: string, label: string, outcome: Outcome): Promise<void> {
  stats.cases++;
  stats.byProtocol[protocol] = (stats.byProtocol[protocol] ?? 0) + 1;
  const now = await fingerprint();
  if (isServerFailure(outcome)) {
    stats.serverFailures++;
    problems.push(`${protocol} ${label}: ${outcome.status} ${outcome.code} ${outcome.excerpt}`);
  }
  if (isRefusal(outcome)) {
    stats.refused++;
    if (now !== last) {
      stats.changedByRefusal++;
      problems.push(`${protocol} ${label}: refused (${outcome.status} ${outcome.code}) yet the database changed`);
    }
  } else {
    stats.served++;
  }
  last = now;
}

const jsonTypes = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
];

function restCase(route: CompiledRoute) {
  const path = fc.array(hostileSegment, { minLength: route.path.variables.length, maxLength: route.path.variables.length });
  const body =
    route.bodyField === ''
      ? fc.constant(undefined)
      : fc.oneof(
          fc.tuple(fc.constantFrom(...jsonTypes), hostileJsonBody(route.method.input)),
          fc.tuple(
            fc.constant('application/x-www-form-urlencoded'),
            hostileFormBody(route.method.input).map((s) => new Uint8Array(Buffer.from(s))),
          ),
        );
  return fc.record({ path, query: hostileQuery(route.method.input), body });
}

function restUrl(route: CompiledRoute, segments: string[], query: string): string {
  let i = 0;
  const path = route.template.replace(/\{[^}]*\}/g, () => segments[i++] ?? 'x');
  return `${server.url}${path}${query ? `?${query}` : ''}`;
}

async function fuzzRoute(route: CompiledRoute, caller: Caller): Promise<void> {
  await fc.assert(
    fc.asyncProperty(restCase(route), async (c) => {
      const headers: Record<string, string> = { ...authHeaders(caller) };
      if (c.body && c.body[0]) headers['content-type'] = c.body[0];
      const outcome = await httpCall(restUrl(route, c.path, c.query), { method: route.httpMethod, headers, body: c.body?.[1] });
      await judge('rest', `${caller} ${routeName(route)}`, outcome);
    }),
    { numRuns: runs, seed },
  );
}

type RpcProtocol = 'connect-json' | 'connect-proto' | 'grpc' | 'grpc-web';
const rpcProtocols: RpcProtocol[] = ['connect-json', 'connect-proto', 'grpc', 'grpc-web'];

async function fuzzRpc(method: DescMethod, protocol: RpcProtocol, caller: Caller): Promise<void> {
  const label = `${caller} ${method.parent.name}.${method.name}`;
  const url = `${server.url}${rpcPath(method)}`;
  const headers = authHeaders(caller);
  let property;
  if (protocol === 'connect-json') {
    property = fc.asyncProperty(hostileJsonBody(method.input), async (body) => {
      await judge(
        protocol,
        label,
        await httpCall(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body }),
      );
    });
  } else if (protocol === 'connect-proto') {
    property = fc.asyncProperty(hostileBinary(method.input), async (body) => {
      await judge(
        protocol,
        label,
        await httpCall(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/proto' }, body }),
      );
    });
  } else {
    // Enveloped, or misframed: a cut envelope, a compressed flag with no compression, two messages.
    const framed = fc
      .tuple(hostileBinary(method.input), fc.constantFrom('one', 'one', 'one', 'cut', 'compressed-flag', 'two', 'bare'))
      .map(([message, how]) =>
        how === 'one'
          ? envelope(message)
          : how === 'cut'
            ? envelope(message).subarray(0, 3)
            : how === 'compressed-flag'
              ? envelope(message, 1)
              : how === 'two'
                ? Buffer.concat([envelope(message), envelope(message)])
                : message,
      );
    property = fc.asyncProperty(framed, async (body) => {
      const outcome =
        protocol === 'grpc'
          ? await grpcCall(session, rpcPath(method), headers, body)
          : await httpCall(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/grpc-web+proto' }, body });
      await judge(protocol, label, outcome);
    });
  }
  await fc.assert(property, { numRuns: runs, seed });
}

before(async () => {
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  server = await startTestServer();
  const res = await server.rest('/api/sso/v1/auth/login', {
    method: 'POST',
    json: { identifier: 'admin@example.com', secret: 'Password123!x', register: true },
  });
  assert.equal(res.status, 200);
  adminToken = ((await res.json()) as { access_token: string }).access_token;
  fingerprint = await createFingerprint(server.app.database.dataSource);
  last = await fingerprint();
  session = http2.connect(server.url);
});

after(async () => {
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
  session?.close();
  await server?.stop();
});

test(`every REST route and every RPC refuses hostile input without a 5xx or a change (${runs} cases per target, protocol and caller)`, async (t) => {
  const started = Date.now();
  assert.ok(restRoutes.length > 0 && rpcs.length > 0);
  for (const caller of callers) {
    for (const route of restRoutes) {
      if (caller === 'admin' && endsOwnSession(route.method)) continue;
      await fuzzRoute(route, caller);
    }
    for (const method of rpcs) {
      if (caller === 'admin' && endsOwnSession(method)) continue;
      for (const protocol of rpcProtocols) await fuzzRpc(method, protocol, caller);
    }
  }
  // Still standing, and still serving: the administrator's session outlived the run.
  const me = await server.rest('/api/sso/v1/me', { token: adminToken });
  assert.equal(me.status, 200, 'the server answers a plain call after the run');
  const figures =
    `fuzz: seed ${seed}, ${stats.cases} cases (${Object.entries(stats.byProtocol)
      .map(([p, n]) => `${p} ${n}`)
      .join(', ')}) ` +
    `over ${restRoutes.length} REST routes and ${rpcs.length} RPCs; ${stats.refused} refused, ${stats.served} served; ` +
    `5xx/internal: ${stats.serverFailures}; refusals that changed the database: ${stats.changedByRefusal}; crashes: ${crashes.length}; ` +
    `${((Date.now() - started) / 1000).toFixed(1)} s`;
  t.diagnostic(figures);
  console.log(figures);
  assert.deepEqual(crashes, [], 'no uncaught exception or unhandled rejection');
  assert.deepEqual(problems.slice(0, 30), [], `${problems.length} problems`);
});
