import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DescService } from '@bufbuild/protobuf';
import { createRestTranscoder } from '../../src/rest/transcoder.js';
import { collectRoutes } from '../../src/rest/routes.js';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';

const genSso = fileURLToPath(new URL('../../gen/sso/', import.meta.url));

/** Every DescService exported by the generated code under gen/sso/. */
async function allServices(): Promise<DescService[]> {
  const services: DescService[] = [];
  const files = (readdirSync(genSso, { recursive: true }) as string[]).filter((f) => f.endsWith('_pb.ts')).sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(genSso, file)).href)) as Record<string, unknown>;
    for (const value of Object.values(mod)) {
      if (typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'service') {
        services.push(value as DescService);
      }
    }
  }
  return services;
}

test('every method of every service in gen/sso has at least one REST route', async () => {
  const services = await allServices();
  assert.ok(services.length >= 5, `found services: ${services.map((s) => s.typeName).join(', ')} in ${relative(process.cwd(), genSso)}`);
  const { routes } = createRestTranscoder({ services, implementations: new Map() });
  const routed = new Set(routes.map((r) => `${r.method.parent.typeName}.${r.method.name}`));
  const missing = services.flatMap((s) => s.methods.map((m) => `${s.typeName}.${m.name}`)).filter((n) => !routed.has(n));
  assert.deepEqual(missing, []);
});

test('no two routes of the same HTTP method have the same template', async () => {
  const routes = collectRoutes(await allServices());
  const seen = new Map<string, string>();
  for (const r of routes) {
    const key = `${r.httpMethod} ${r.template}`;
    assert.equal(seen.get(key), undefined, `${key} is bound by ${seen.get(key)} and ${r.method.name}`);
    seen.set(key, r.method.name);
  }
});

test('additional_bindings become routes of their own', () => {
  const { routes } = createRestTranscoder({ services: [AuthService], implementations: new Map() });
  const getMe = routes.filter((r) => r.method.name === 'GetMe').map((r) => `${r.httpMethod} ${r.template} ${r.responseBodyField}`);
  assert.deepEqual(getMe, ['GET /api/sso/v1/me user', 'GET /api/sso/v1/auth/me user']);
  const login = routes.find((r) => r.method.name === 'Login')!;
  assert.deepEqual(
    { httpMethod: login.httpMethod, template: login.template, bodyField: login.bodyField, responseBodyField: login.responseBodyField },
    { httpMethod: 'POST', template: '/api/sso/v1/auth/login', bodyField: '*', responseBodyField: '' },
  );
});
