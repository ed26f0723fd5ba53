import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import {
  buildOpenApi,
  createOpenApiRoutes,
  openApiPath,
  protoSourceDir,
  type OpenApiDocument,
  type OpenApiOperation,
} from '../../src/rest/openapi.js';
import { readProtoComments } from '../../src/rest/proto-comments.js';
import { collectRoutes } from '../../src/rest/routes.js';
import { services } from '../../src/server/routes.js';
import { ProbeService } from '../rest/probe-service.js';
import { startTestServer, type TestServer } from '../support/server.js';

type Schema = { [key: string]: unknown };

let server: TestServer;
let doc: OpenApiDocument;
let adminToken: string;

before(async () => {
  server = await startTestServer();
  // The first user registered becomes the administrator.
  const res = await server.rest('/api/sso/v1/auth/login', {
    method: 'POST',
    json: { identifier: 'openapi-admin@example.com', secret: 'openapi-password-1', register: true },
  });
  assert.equal(res.status, 200, await res.clone().text());
  adminToken = ((await res.json()) as { access_token: string }).access_token;
  const served = await fetch(`${server.url}/openapi.json`);
  assert.equal(served.status, 200);
  assert.match(served.headers.get('content-type') ?? '', /^application\/json/);
  doc = (await served.json()) as OpenApiDocument;
});

after(async () => {
  await server?.stop();
});

/** Every operation of a document: method (upper case), path, operation. */
function operations(d: OpenApiDocument): { method: string; path: string; op: OpenApiOperation }[] {
  return Object.entries(d.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([key, op]) => ({ method: key.replace(/^x-/, '').toUpperCase(), path, op })),
  );
}

function deref(d: OpenApiDocument, schema: Schema): Schema {
  let s = schema;
  while (typeof s['$ref'] === 'string') {
    const [, kind, name] = /^#\/components\/(schemas|responses)\/(.+)$/.exec(s['$ref'])!;
    s = (d.components as Record<string, Record<string, Schema>>)[kind!]![name!]!;
  }
  return s;
}

/**
 * Checks a JSON value against a schema of the document, strictly: an object may hold only the
 * properties its schema names (so a camelCase key where the schema says snake_case is caught).
 * Covers what the generator writes: $ref, allOf, type, format, pattern, enum, items,
 * properties, required, additionalProperties, nullable.
 */
function conforms(d: OpenApiDocument, schema: Schema, value: unknown, at = '$'): string[] {
  const s = deref(d, schema);
  if (Array.isArray(s['allOf'])) return (s['allOf'] as Schema[]).flatMap((part) => conforms(d, part, value, at));
  if (value === null) return s['nullable'] === true ? [] : [`${at}: null is not allowed`];
  const problems: string[] = [];
  switch (s['type']) {
    case 'string':
      if (typeof value !== 'string') return [`${at}: expected a string, got ${JSON.stringify(value)}`];
      if (s['format'] === 'date-time' && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value))
        problems.push(`${at}: not RFC 3339: ${value}`);
      if (typeof s['pattern'] === 'string' && !new RegExp(s['pattern']).test(value)) problems.push(`${at}: does not match ${s['pattern']}`);
      if (Array.isArray(s['enum']) && !s['enum'].includes(value)) problems.push(`${at}: ${value} is not one of ${s['enum'].join(', ')}`);
      return problems;
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at}: expected an integer, got ${JSON.stringify(value)}`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: expected a number, got ${JSON.stringify(value)}`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: expected a boolean, got ${JSON.stringify(value)}`];
    case 'array':
      if (!Array.isArray(value)) return [`${at}: expected an array, got ${JSON.stringify(value)}`];
      return value.flatMap((item, i) => conforms(d, s['items'] as Schema, item, `${at}[${i}]`));
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected an object, got ${JSON.stringify(value)}`];
      const properties = (s['properties'] ?? {}) as Record<string, Schema>;
      const object = value as Record<string, unknown>;
      for (const key of (s['required'] ?? []) as string[]) if (!(key in object)) problems.push(`${at}: missing ${key}`);
      for (const [key, item] of Object.entries(object)) {
        if (properties[key]) problems.push(...conforms(d, properties[key]!, item, `${at}.${key}`));
        else if (typeof s['additionalProperties'] === 'object')
          problems.push(...conforms(d, s['additionalProperties'] as Schema, item, `${at}.${key}`));
        else if (s['additionalProperties'] !== true) problems.push(`${at}: ${key} is not in the schema`);
      }
      return problems;
    }
    default:
      return [];
  }
}

/** The schema documented for an answer of the operation with this status. */
function answerSchema(op: OpenApiOperation, status: number): Schema {
  const response = deref(doc, (op.responses[String(status)] ?? op.responses['default'])!);
  return (response['content'] as Record<string, { schema: Schema }>)['application/json']!.schema;
}

describe('the document', () => {
  test('an OpenAPI validator (@readme/openapi-parser) accepts /openapi.json', async () => {
    assert.equal(doc.openapi, '3.0.3');
    const result = await validate(structuredClone(doc) as unknown as Parameters<typeof validate>[0]);
    assert.ok(result.valid, result.valid ? '' : compileErrors(result));
    assert.deepEqual(result.warnings, []);
  });

  test('it lists exactly the REST routes the transcoder derives from the annotations', () => {
    const routes = collectRoutes(services);
    const expected = routes.map((r) => `${r.httpMethod} ${openApiPath(r.template)} ${r.method.parent.typeName}/${r.method.name}`).sort();
    const documented = operations(doc)
      .map(({ method, path, op }) => `${method} ${path} ${op['x-rpc']}`)
      .sort();
    assert.deepEqual(documented, expected);
    // The templates in the protos are plain ({field} variables only), so each path is its template.
    for (const r of routes) assert.equal(openApiPath(r.template), r.template);
    // Every RPC of every service is reachable over REST (the contract: every RPC has an annotation).
    const rpcs = new Set(operations(doc).map(({ op }) => op['x-rpc']));
    for (const s of services)
      for (const m of s.methods)
        if (m.methodKind === 'unary') assert.ok(rpcs.has(`${s.typeName}/${m.name}`), `${s.typeName}/${m.name} has no REST route`);
  });

  test('the served document is the one built from the protos now', () => {
    const built = buildOpenApi(collectRoutes(services), { version: doc.info.version, comments: readProtoComments(protoSourceDir) });
    assert.deepEqual(doc, JSON.parse(JSON.stringify(built)));
  });

  test('additional bindings are operations of their own, with unique ids', () => {
    const ids = operations(doc).map(({ op }) => op.operationId);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(doc.paths['/api/sso/v1/me']!['get']!['x-rpc'], 'sso.auth.v1.AuthService/GetMe');
    assert.equal(doc.paths['/api/sso/v1/auth/me']!['get']!['x-rpc'], 'sso.auth.v1.AuthService/GetMe');
  });

  test('schemas are in the REST JSON shape: snake_case, int32 numbers, RFC 3339 times', () => {
    const schemas = doc.components.schemas;
    const login = schemas['sso.auth.v1.LoginResponse']!['properties'] as Record<string, Schema>;
    assert.deepEqual(Object.keys(login), [
      'access_token',
      'refresh_token',
      'token_type',
      'expires_in',
      'session_id',
      'user',
      'tokens',
      // A login held for its second step (issue 12): present only then.
      'status',
      'mfa_token',
      'second_step',
    ]);
    assert.deepEqual({ type: login['expires_in']!['type'], format: login['expires_in']!['format'] }, { type: 'integer', format: 'int32' });
    const user = schemas['sso.directory.v1.User']!['properties'] as Record<string, Schema>;
    assert.ok('is_admin' in user && 'workspace_ids' in user && !('isAdmin' in user));
    assert.equal(user['created_at']!['type'], 'string');
    assert.equal(user['created_at']!['format'], 'date-time');
    assert.equal(user['identifiers']!['type'], 'array');
    assert.deepEqual(user['identifiers']!['items'], { $ref: '#/components/schemas/sso.directory.v1.UserIdentifier' });
    // Fields marked REQUIRED are required.
    assert.deepEqual(schemas['sso.auth.v1.LoginRequest']!['required'], ['identifier', 'secret']);
  });

  test('response_body is unwrapped: a bare object, or a bare array for the legacy lists', () => {
    const me = doc.paths['/api/sso/v1/me']!['get']!;
    assert.deepEqual(answerSchema(me, 200), { $ref: '#/components/schemas/sso.directory.v1.User' });
    const apps = answerSchema(doc.paths['/apps/']!['get']!, 200);
    assert.equal(apps['type'], 'array');
    assert.deepEqual(apps['items'], { $ref: '#/components/schemas/sso.appregistry.v1.LegacyApp' });
    const users = answerSchema(doc.paths['/users/']!['get']!, 200);
    assert.equal(users['type'], 'array');
  });

  test('path and query parameters; a PATCH body is the message without its path fields', () => {
    const getUser = doc.paths['/api/sso/v1/users/{id}']!['get']!;
    assert.deepEqual(
      getUser.parameters!.map((p) => `${p['in']} ${p['name']} ${p['required']}`),
      ['path id true'],
    );
    const listUsers = doc.paths['/api/sso/v1/users']!['get']!;
    const query = Object.fromEntries(listUsers.parameters!.map((p) => [p['name'], p]));
    assert.equal(query['offset']!['in'], 'query');
    assert.equal((query['limit']!['schema'] as Schema)['type'], 'integer');
    const update = doc.paths['/api/sso/v1/users/{id}']!['patch']!;
    const content = update.requestBody!['content'] as Record<string, { schema: Schema }>;
    assert.deepEqual(Object.keys(content).sort(), ['application/json', 'application/x-www-form-urlencoded']);
    const body = content['application/json']!.schema;
    assert.equal(body['type'], 'object');
    assert.ok(!('id' in (body['properties'] as Schema)), 'the path field is not in the body');
    assert.ok('roles' in (body['properties'] as Schema));
    // A missing or empty body is an empty message.
    assert.equal(update.requestBody!['required'], false);
  });

  test('security: bearer JWT, x-api-key and the access-token cookie; public RPCs need none', () => {
    const schemes = doc.components.securitySchemes;
    assert.deepEqual(schemes['bearerAuth'], {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: schemes['bearerAuth']!['description'],
    });
    assert.deepEqual(
      { ...schemes['apiKeyHeader'], description: undefined },
      { type: 'apiKey', in: 'header', name: 'x-api-key', description: undefined },
    );
    assert.deepEqual(
      { ...schemes['accessTokenCookie'], description: undefined },
      { type: 'apiKey', in: 'cookie', name: 'usso-access-token', description: undefined },
    );
    assert.deepEqual(doc['security'], [{ bearerAuth: [] }, { apiKeyHeader: [] }, { accessTokenCookie: [] }]);
    for (const path of [
      '/api/sso/v1/auth/login',
      '/api/sso/v1/auth/refresh',
      '/api/sso/v1/auth/verify-token',
      '/token',
      '/verify',
      '/api/sso/v1/apikeys/verify',
    ]) {
      assert.deepEqual(doc.paths[path]!['post']!.security, [], `${path} is public`);
    }
    const me = doc.paths['/api/sso/v1/me']!['get']!;
    assert.equal(me.security, undefined, 'GetMe needs a credential');
    assert.ok(me.responses['401']);
    const rotate = doc.paths['/api/sso/v1/keys/rotate']!['post']!;
    assert.match(String(rotate['description']), /permission `manage:keys`/);
    assert.ok(rotate.responses['403']);
  });

  test('errors share one component: {code, error_code, message, detail}', () => {
    const error = doc.components.schemas['Error']!;
    assert.deepEqual(error['required'], ['code', 'error_code', 'message', 'detail']);
    for (const { method, path, op } of operations(doc)) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (status === '200') continue;
        const schema = answerSchema(op, status === 'default' ? 599 : Number(status));
        assert.match(String(schema['$ref']), /^#\/components\/schemas\/(Error|OAuthError)$/, `${method} ${path} ${status}`);
        assert.ok(response['$ref'], `${method} ${path} ${status} refers to a shared response`);
      }
    }
  });

  test('descriptions come from the proto comments', () => {
    const login = doc.paths['/api/sso/v1/auth/login']!['post']!;
    assert.match(String(login['summary']), /^Login signs a user in/);
    assert.match(String(login['description']), /\*\*Access:\*\* public/);
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      if (!name.startsWith('sso.')) continue;
      assert.ok(schema['description'], `${name} has a description`);
      for (const [field, property] of Object.entries((schema['properties'] ?? {}) as Record<string, Schema>)) {
        assert.ok(property['description'], `${name}.${field} has a description`);
      }
    }
    for (const { method, path, op } of operations(doc))
      assert.ok(String(op['description']).split('\n\n').length >= 2, `${method} ${path}: comment and access`);
  });
});

describe('on a live server', () => {
  test('every REST route in the document answers (placeholder ids, admin token)', async () => {
    // Logging out would end the session of the token the other calls use.
    const second = await server.rest('/api/sso/v1/auth/login', {
      method: 'POST',
      json: { identifier: 'openapi-admin@example.com', secret: 'openapi-password-1' },
    });
    const logoutToken = ((await second.json()) as { access_token: string }).access_token;
    const failures: string[] = [];
    for (const { method, path, op } of operations(doc)) {
      const url = path.replace(/\{([^}]+)\}/g, (_, name: string) => {
        const parameter = op.parameters!.find((p) => p['name'] === name)!;
        return (parameter['schema'] as Schema)['type'] === 'integer' ? '999999' : '00000000-0000-4000-8000-000000000000';
      });
      const token = op['x-rpc'] === 'sso.auth.v1.AuthService/Logout' ? logoutToken : adminToken;
      const res = await server.rest(url, { method, token, ...(op.requestBody ? { json: {} } : {}) });
      const text = await res.text();
      const where = `${method} ${url} -> ${res.status} ${text.slice(0, 200)}`;
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        failures.push(`${where}: not JSON`);
        continue;
      }
      if (res.status === 405 || (res.status >= 500 && res.status !== 501)) failures.push(where);
      if (res.status === 404 && (body as { error_code?: string }).error_code === 'ROUTE_NOT_FOUND') failures.push(where);
      const problems = conforms(doc, answerSchema(op, res.status), body);
      if (problems.length > 0) failures.push(`${where}: the answer is not as documented: ${problems.join('; ')}`);
    }
    assert.deepEqual(failures, []);
  });

  test('successful answers match their documented schemas', async () => {
    const call = async (method: string, path: string, init: RequestInit & { json?: unknown; token?: string } = {}) => {
      const res = await server.rest(path, { method, ...init });
      const body = await res.json();
      assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(body)}`);
      const op = doc.paths[path]![method.toLowerCase()]!;
      assert.deepEqual(conforms(doc, answerSchema(op, 200), body), [], `${method} ${path}`);
      return body as Record<string, unknown>;
    };
    const login = await call('POST', '/api/sso/v1/auth/login', {
      json: { identifier: 'openapi-user@example.com', secret: 'openapi-password-2', register: true },
    });
    const token = login['access_token'] as string;
    await call('POST', '/api/sso/v1/auth/refresh', { json: { refresh_token: login['refresh_token'] } });
    await call('GET', '/api/sso/v1/me', { token });
    await call('GET', '/api/sso/v1/auth/me', { token });
    await call('GET', '/api/sso/v1/sessions', { token });
    await call('POST', '/api/sso/v1/auth/verify-token', { json: { token } });
    await call('GET', '/api/sso/v1/keys', { token: adminToken });
    await call('GET', '/api/sso/v1/audit-events', { token: adminToken });
    await call('POST', '/token', {
      body: new URLSearchParams({ username: 'openapi-admin@example.com', password: 'openapi-password-1' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    await call('POST', '/api/sso/v1/auth/logout', { token });
  });

  test('/docs is a browsable page that reads /openapi.json', async () => {
    const res = await fetch(`${server.url}/docs`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.match(html, /fetch\('\/openapi\.json'\)/);
    assert.doesNotMatch(html, /https?:\/\/(?!localhost)/, 'no CDN: the page loads nothing from elsewhere');
  });

  test('the document is built by the first request for it, not at start-up (and then kept)', async () => {
    const routes = collectRoutes(services);
    let reads = 0;
    // Counts every look at the route list: building the document walks it.
    const watched = new Proxy(routes, {
      get(target, key, receiver) {
        reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    const serve = createOpenApiRoutes(watched, { version: 'test' });
    const ask = async (url: string) => {
      let body = '';
      const res = {
        writeHead: () => res,
        end: (chunk?: Buffer) => {
          body = chunk ? chunk.toString() : '';
        },
      };
      const answered = await serve({ method: 'GET', url } as never, res as never);
      return { answered, body };
    };
    assert.equal(reads, 0, 'nothing built when the routes are made');
    assert.equal((await ask('/docs')).answered, true);
    assert.equal((await ask('/api/sso/v1/me')).answered, false);
    assert.equal(reads, 0, 'nor by /docs or other paths');
    const first = await ask('/openapi.json');
    assert.ok(reads > 0);
    const built = reads;
    assert.deepEqual(JSON.parse(first.body).paths, doc.paths, 'the same document as the server serves');
    assert.equal((await ask('/openapi.json')).body, first.body);
    assert.equal(reads, built, 'built once');
  });

  test('only GET and HEAD reach the document', async () => {
    const head = await fetch(`${server.url}/openapi.json`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    const post = await fetch(`${server.url}/openapi.json`, { method: 'POST' });
    assert.equal(post.status, 404);
  });
});

describe('every proto shape (the test-only probe service)', () => {
  const probe = buildOpenApi(collectRoutes([ProbeService]));
  const schema = (name: string) => probe.components.schemas[name]!;
  const props = (name: string) => schema(name)['properties'] as Record<string, Schema>;

  test('the validator accepts it', async () => {
    const result = await validate(structuredClone(probe) as unknown as Parameters<typeof validate>[0]);
    assert.ok(result.valid, result.valid ? '' : compileErrors(result));
  });

  test('scalars, enums, repeated fields and well-known types', () => {
    const p = props('test.v1.Probe');
    assert.deepEqual(p['big'], { type: 'string', format: 'int64', pattern: '^-?[0-9]+$' });
    assert.equal(p['small']!['type'], 'integer');
    assert.deepEqual(p['ratio'], { type: 'number', format: 'double' });
    assert.deepEqual(p['flag'], { type: 'boolean' });
    assert.deepEqual(p['color'], { $ref: '#/components/schemas/test.v1.Color' });
    assert.deepEqual(schema('test.v1.Color'), { type: 'string', enum: ['COLOR_UNSPECIFIED', 'COLOR_RED', 'COLOR_BLUE'] });
    assert.deepEqual(p['nums'], { type: 'array', items: { type: 'integer', format: 'int32' } });
    assert.deepEqual(p['colors'], { type: 'array', items: { $ref: '#/components/schemas/test.v1.Color' } });
    assert.equal(p['update_mask']!['type'], 'string');
    assert.deepEqual(p['at'], { type: 'string', format: 'date-time' });
    assert.deepEqual(p['inner'], { $ref: '#/components/schemas/test.v1.Inner' });
  });

  test('query parameters: the non-path fields, nested ones dotted, repeated ones exploded', () => {
    const types = probe.paths['/v1/types/{big}/{flag}/{color}']!['get']!;
    const byName = Object.fromEntries(types.parameters!.map((p) => [p['name'], p]));
    assert.deepEqual(
      ['big', 'flag', 'color'].map((n) => byName[n]!['in']),
      ['path', 'path', 'path'],
    );
    assert.equal(byName['inner.b']!['in'], 'query');
    assert.equal(byName['inner.c']!['in'], 'query');
    assert.equal(byName['tags']!['explode'], true);
    assert.ok(!('inner' in byName));
    // A path variable naming a nested field; a pattern variable.
    const nested = probe.paths['/v1/{name}/books/{inner.b}']!['get']!;
    const n = Object.fromEntries(nested.parameters!.map((p) => [p['name'], p]));
    assert.equal(n['inner.b']!['in'], 'path');
    assert.ok(!('inner.c' in n), 'the transcoder takes no query parameter under a field the path reaches into');
    assert.match(String(n['name']!['description']), /shelves\/\*/);
  });

  test('body "field", body "*" without path fields, repeated response_body, custom methods', () => {
    const bodyField = probe.paths['/v1/inner/{name}']!['post']!;
    const content = bodyField.requestBody!['content'] as Record<string, { schema: Schema }>;
    assert.deepEqual(content['application/json']!.schema, { $ref: '#/components/schemas/test.v1.Inner' });
    assert.ok(!bodyField.parameters!.some((p) => p['name'] === 'inner'), 'the body field is not a query parameter');
    assert.ok(bodyField.parameters!.some((p) => p['name'] === 'count' && p['in'] === 'query'));
    const update = probe.paths['/v1/probes/{name}']!['patch']!;
    const body = (update.requestBody!['content'] as Record<string, { schema: Schema }>)['application/json']!.schema;
    assert.ok(!('name' in (body['properties'] as Schema)) && 'big' in (body['properties'] as Schema));
    assert.ok(!update.parameters!.some((p) => p['in'] === 'query'), 'body "*" leaves nothing to the query');
    assert.deepEqual(answerSchemaOf(probe, update), { $ref: '#/components/schemas/test.v1.Probe' });
    assert.deepEqual(answerSchemaOf(probe, probe.paths['/v1/tags']!['get']!), { type: 'array', items: { type: 'string' } });
    assert.equal(probe.paths['/v1/cache/{name}']!['x-purge']!['x-rpc'], 'test.v1.ProbeService/Purge');
    assert.equal(probe.paths['/v1/list/']!['get']!['x-rpc'], 'test.v1.ProbeService/ListSlash');
    assert.equal(probe.paths['/v1/items/{name}:archive']!['get']!['x-rpc'], 'test.v1.ProbeService/Archive');
  });
});

function answerSchemaOf(d: OpenApiDocument, op: OpenApiOperation): Schema {
  return (op.responses['200']!['content'] as Record<string, { schema: Schema }>)['application/json']!.schema;
}
