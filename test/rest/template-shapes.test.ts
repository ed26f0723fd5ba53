import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { toJson, type Message } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';
import { ProbeService, probeMethodNames } from './probe-service.js';
import { call, startRestServer, type RestTestServer } from './support.js';

let srv: RestTestServer;
let base: string;

before(async () => {
  srv = await startRestServer({
    services: [ProbeService],
    register: (router: ConnectRouter) => {
      const impl: Record<string, (req: Message) => unknown> = {};
      for (const method of ProbeService.methods) {
        impl[method.localName] = (req: any) => ({ rpc: method.name, probe: req, tags: req.tags });
      }
      router.service(ProbeService, impl as never);
    },
  });
  base = srv.url;
});

after(async () => {
  await srv.close();
  assert.deepEqual(srv.escaped, []);
});

/** Calls a route; returns which RPC answered and the request it received (proto-named JSON, set fields only). */
async function probe(path: string, init: RequestInit & { json?: unknown } = {}) {
  const r = await call(base + path, init);
  assert.equal(r.status, 200, `${init.method ?? 'GET'} ${path}: ${r.text}`);
  const probeJson = r.body.probe as Record<string, unknown>;
  // Only the fields that were set (the answer emits every field).
  const set = Object.fromEntries(
    Object.entries(probeJson).filter(
      ([, v]) => !(v === '' || v === 0 || v === '0' || v === false || v === 'COLOR_UNSPECIFIED' || (Array.isArray(v) && v.length === 0)),
    ),
  );
  return { rpc: r.body.rpc as string, req: set, body: r.body };
}

test('literal routes win over variable routes', async () => {
  const literal = await probe('/v1/items/special');
  assert.equal(literal.rpc, 'Literal');
  assert.deepEqual(literal.req, {});
  const byId = await probe('/v1/items/other');
  assert.equal(byId.rpc, 'ById');
  assert.deepEqual(byId.req, { name: 'other' });
});

test('a :verb suffix selects its route and is not part of the variable', async () => {
  const archive = await probe('/v1/items/x42:archive');
  assert.equal(archive.rpc, 'Archive');
  assert.deepEqual(archive.req, { name: 'x42' });
  const publish = await probe('/v1/things/t1:publish', { method: 'POST', json: { count: 3 } });
  assert.equal(publish.rpc, 'Publish');
  // Publish takes the whole body and its request has an update_mask: it lists the body's keys.
  assert.deepEqual(publish.req, { name: 'things/t1', count: 3, update_mask: 'count' });
  // Without the verb the Publish route does not match.
  const r = await call(base + '/v1/things/t1', { method: 'POST', json: {} });
  assert.equal(r.status, 404);
});

test('{var=**} binds the rest of the path, slashes included', async () => {
  const deep = await probe('/v1/files/a/b/c%20d.txt');
  assert.equal(deep.rpc, 'Deep');
  assert.deepEqual(deep.req, { path: 'a/b/c d.txt' });
  assert.deepEqual((await probe('/v1/files/one')).req, { path: 'one' });
  assert.equal((await call(base + '/v1/files/')).status, 404);
});

test('{var=segment/*} and nested field paths {a.b}', async () => {
  const nested = await probe('/v1/shelves/s1/books/b%2F2');
  assert.equal(nested.rpc, 'Nested');
  assert.deepEqual(nested.req, { name: 'shelves/s1', inner: { b: 'b/2', c: 0 } });
  assert.equal((await call(base + '/v1/racks/s1/books/b2')).status, 404);
});

test('anonymous * segments match one segment', async () => {
  const anon = await probe('/v1/anon/anything/x/7');
  assert.equal(anon.rpc, 'Anon');
  assert.deepEqual(anon.req, { count: 7 });
  assert.equal((await call(base + '/v1/anon/a/b/x/7')).status, 404);
});

test('the trailing slash is significant', async () => {
  assert.equal((await probe('/v1/list/')).rpc, 'ListSlash');
  const one = await probe('/v1/list/n1');
  assert.equal(one.rpc, 'GetSlash');
  assert.deepEqual(one.req, { name: 'n1' });
  assert.equal((await call(base + '/v1/list')).status, 404);
  assert.equal((await call(base + '/v1/list/n1/')).status, 404);
});

test('HEAD is answered by the GET route, without a body', async () => {
  const r = await fetch(base + '/v1/items/special', { method: 'HEAD' });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.equal(await r.text(), '');
});

test('custom HTTP methods', async () => {
  const purge = await probe('/v1/cache/c1', { method: 'PURGE' });
  assert.equal(purge.rpc, 'Purge');
  assert.deepEqual(purge.req, { name: 'c1' });
  const wrong = await call(base + '/v1/cache/c1', { method: 'DELETE' });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'PURGE');
});

test('body: "field" -> the JSON body is that field', async () => {
  const r = await probe('/v1/inner/n?count=4&inner.c=9', { method: 'POST', json: { b: 'from-body', c: 2, extra: true } });
  assert.equal(r.rpc, 'BodyField');
  // The query cannot set the body field (inner.c ignored) but fills the rest;
  // update_mask lists the body's keys, relative to the body field (as grpc-gateway does).
  assert.deepEqual(r.req, { name: 'n', inner: { b: 'from-body', c: 2 }, count: 4, update_mask: 'b,c' });
  const form = await probe('/v1/inner/n', { method: 'POST', body: new URLSearchParams({ b: 'f', c: '3' }) });
  assert.deepEqual(form.req, { name: 'n', inner: { b: 'f', c: 3 }, update_mask: 'b,c' });
  const bad = await call(base + '/v1/inner/n', { method: 'POST', json: ['not', 'a', 'message'] });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error_code, 'INVALID_BODY');
});

test('path variables are converted by type: int64, bool, enum; bad ones are 400', async () => {
  const r = await probe('/v1/types/-9007199254740993/true/COLOR_RED');
  assert.equal(r.rpc, 'Types');
  assert.deepEqual(r.req, { big: '-9007199254740993', flag: true, color: 'COLOR_RED' });
  // Enum names in any case, with or without the shared prefix, or numbers.
  assert.deepEqual((await probe('/v1/types/1/false/blue')).req, { big: '1', color: 'COLOR_BLUE' });
  assert.deepEqual((await probe('/v1/types/1/0/2')).req, { big: '1', color: 'COLOR_BLUE' });
  for (const path of ['/v1/types/x/true/1', '/v1/types/1/yes/1', '/v1/types/1/true/PURPLE', '/v1/types/99999999999999999999/true/1']) {
    const bad = await call(base + path);
    assert.equal(bad.status, 400, path);
    assert.equal(bad.body.error_code, 'INVALID_ARGUMENT');
  }
});

test('query parameters: every scalar kind, repeated keys, nested keys, well-known types', async () => {
  const q =
    '?small=4000000000&ratio=2.5&flag=true&color=COLOR_BLUE&nums=1&nums=-2&tags=a&tags=b' +
    '&inner.b=deep&inner.c=5&at=2026-01-25T12:00:00Z&colors=red&colors=2&updateMask=flag,inner.b&big=12&unknown=z';
  // response_body of a repeated scalar field: a bare array.
  const tags = await call(base + '/v1/tags' + q);
  assert.deepEqual(tags.body, ['a', 'b']);
  assert.deepEqual((await call(base + '/v1/tags')).body, []);
  const all = await probe('/v1/items/q' + q);
  assert.deepEqual(all.req, {
    name: 'q',
    inner: { b: 'deep', c: 5 },
    big: '12',
    small: 4000000000,
    ratio: 2.5,
    flag: true,
    color: 'COLOR_BLUE',
    nums: [1, -2],
    tags: ['a', 'b'],
    update_mask: 'flag,inner.b',
    at: '2026-01-25T12:00:00Z',
    colors: ['COLOR_RED', 'COLOR_BLUE'],
  });
  for (const bad of ['small=-1', 'small=4294967296', 'ratio=abc', 'nums=1&nums=x', 'at=yesterday', 'colors=green', 'count=2147483648']) {
    const r2 = await call(base + '/v1/items/q?' + bad);
    assert.equal(r2.status, 400, bad);
    assert.equal(r2.body.error_code, 'INVALID_ARGUMENT', bad);
  }
});

test('the path wins over a query parameter for the same field', async () => {
  assert.deepEqual((await probe('/v1/items/from-path?name=from-query')).req, { name: 'from-path' });
});

test('PATCH update_mask: from the JSON or form keys; a given mask is kept', async () => {
  const r = await call(base + '/v1/probes/p1', { method: 'PATCH', json: { flag: false, inner: { b: 'x' }, smallNumber: 1 } });
  assert.equal(r.status, 200, r.text);
  // response_body "probe": the bare message, every field emitted.
  assert.equal(r.body.name, 'p1');
  assert.equal(r.body.update_mask, 'flag,inner');
  assert.equal(r.body.flag, false);
  assert.deepEqual(r.body.nums, []);
  const form = await call(base + '/v1/probes/p1', {
    method: 'PATCH',
    body: new URLSearchParams([
      ['nums', '1'],
      ['tags', 't'],
    ]),
  });
  assert.equal(form.body.update_mask, 'nums,tags');
  const given = await call(base + '/v1/probes/p1', { method: 'PATCH', json: { flag: true, updateMask: 'is_x,flag' } });
  assert.equal(given.body.update_mask, 'isX,flag');
  const inQuery = await call(base + '/v1/probes/p1?update_mask=flag', { method: 'PATCH', json: { flag: true, count: 2 } });
  assert.equal(inQuery.body.update_mask, 'flag');
  const empty = await call(base + '/v1/probes/p1', { method: 'PATCH' });
  assert.equal(empty.body.update_mask, '');
});

test('every probe method has a route', () => {
  const names = new Set(srv.transcoder.routes.map((r) => r.method.name));
  assert.deepEqual([...names].sort(), [...probeMethodNames].sort());
});
