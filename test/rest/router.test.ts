import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DescService } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { matchTemplate, parseTemplate } from '../../src/rest/path-template.js';
import { collectRoutes, type CompiledRoute } from '../../src/rest/routes.js';
import { createRouter } from '../../src/rest/router.js';

// The precompiled router must accept exactly what trying every template accepts, in the same
// order, with the same bindings: it is an index, not a second matching rule.

const genSso = fileURLToPath(new URL('../../gen/sso/', import.meta.url));

async function allServices(): Promise<DescService[]> {
  const services: DescService[] = [];
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('_service_pb.ts') ? [join(dir, e.name)] : [],
    );
  for (const file of walk(genSso)) {
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const value of Object.values(mod)) {
      if (value && typeof value === 'object' && (value as { kind?: string }).kind === 'service') services.push(value as DescService);
    }
  }
  assert.ok(services.length >= 5, relative(process.cwd(), genSso));
  return services;
}

function bruteForce(routes: CompiledRoute[], pathname: string) {
  return routes.flatMap((route) => {
    const match = matchTemplate(route.path, pathname);
    return match ? [{ route, match }] : [];
  });
}

function assertSame(routes: CompiledRoute[], find: ReturnType<typeof createRouter>, pathname: string) {
  const expected = bruteForce(routes, pathname);
  const actual = find(pathname);
  assert.deepEqual(
    actual.map((m) => m.route),
    expected.map((m) => m.route),
    pathname,
  );
  assert.deepEqual(
    actual.map((m) => m.match),
    expected.map((m) => m.match),
    pathname,
  );
}

test("the router finds exactly the templates that match, for every route's own shapes", async () => {
  const routes = collectRoutes(await allServices());
  const find = createRouter(routes);
  const values = ['x', '123', 'a%2Fb', '%zz', '', 'caf%C3%A9', '..', 'u:v'];
  for (const route of routes) {
    for (const value of values) {
      const filled = route.template.replace(/\{[^}]*\}/g, value);
      for (const path of [filled, filled + '/', filled.replace(/\/$/, ''), filled + '/extra', filled.toUpperCase()]) {
        assertSame(routes, find, path);
      }
    }
  }
  assertSame(routes, find, '/');
  assertSame(routes, find, '');
  assertSame(routes, find, 'nope');
});

test('the router agrees with trying each template on arbitrary paths, verbs and ** included', () => {
  const templates = [
    '/a/{x}',
    '/a/b',
    '/a/{x}/c',
    '/{x}/b',
    '/a/**',
    '/v/{name=things/*}',
    '/v/{name=**}:get',
    '/a:verb',
    '/a/',
    '/{x}:act',
    '/*/*',
  ];
  const routes = templates.map((t) => ({ path: parseTemplate(t), template: t }) as unknown as CompiledRoute);
  const find = createRouter(routes);
  const segment = fc.constantFrom('a', 'b', 'c', 'v', 'things', 'x', '', '%61', '%zz', 'a:verb', 'x:act', 'q:get');
  fc.assert(
    fc.property(fc.array(segment, { minLength: 0, maxLength: 5 }), (segs) => {
      assertSame(routes, find, '/' + segs.join('/'));
    }),
    { numRuns: 2000 },
  );
});
