import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { readFileSync } from 'node:fs';
import { getOption, hasOption, ScalarType, type DescEnum, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { field_behavior, FieldBehavior } from '../../gen/google/api/field_behavior_pb.js';
import { ErrorFormat, rest_errors } from '../../gen/sso/options/v1/options_pb.js';
import { accessRuleOf } from '../interceptors/authorization.js';
import { resolveFieldPath, wrapperTypes } from './field-values.js';
import { docsPage } from './openapi-docs-page.js';
import { parseTemplate } from './path-template.js';
import { readProtoComments } from './proto-comments.js';
import { projectFile } from '../project-files.js';
import type { RestRoute } from './routes.js';

/** A JSON Schema (OpenAPI 3.0 dialect) or any other part of the document. */
type Json = { [key: string]: unknown };

/** An OpenAPI 3.0 document: only what callers of {@link buildOpenApi} read is typed. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, Json>; responses: Record<string, Json>; securitySchemes: Record<string, Json> };
  [key: string]: unknown;
}

export interface OpenApiOperation {
  operationId: string;
  /** The RPC the route calls, `package.Service/Method`. */
  'x-rpc': string;
  parameters?: Json[];
  requestBody?: Json;
  responses: Record<string, Json>;
  security?: Json[];
  [key: string]: unknown;
}

export interface OpenApiOptions {
  /** The API version shown in `info.version`. */
  version?: string;
  /** Descriptions by full proto name (see {@link readProtoComments}); none when omitted. */
  comments?: Map<string, string>;
}

const openApiMethods = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** Where the server's own `.proto` sources are, for their comments. */
export const protoSourceDir = projectFile('proto');

/**
 * The OpenAPI path of a `google.api.http` template: each variable becomes one
 * `{field.path}` parameter (a `{name=pattern}` variable that spans several
 * segments cannot be written otherwise), literals stay as they are.
 */
export function openApiPath(template: string): string {
  const parsed = parseTemplate(template);
  const parts: string[] = [];
  for (let i = 0; i < parsed.segments.length; i++) {
    const variable = parsed.variables.find((v) => v.start === i);
    if (variable) {
      parts.push(`{${variable.fieldPath.join('.')}}`);
      i = variable.end - 1;
      continue;
    }
    const segment = parsed.segments[i]!;
    parts.push(segment.kind === 'literal' ? segment.value : segment.kind === 'wildcard' ? '*' : '**');
  }
  return `/${parts.join('/')}${parsed.verb === undefined ? '' : `:${parsed.verb}`}`;
}

/**
 * Builds the OpenAPI 3.0 document of the REST routes the transcoder derived
 * from the protos' `google.api.http` annotations, so the document and the
 * routes cannot drift: schemas in the REST JSON shape (proto field names,
 * int64 as strings, Timestamp as RFC 3339), `response_body` unwrapped, the
 * access rule of each RPC as its security, and the shared error shape.
 */
export function buildOpenApi(routes: RestRoute[], opts: OpenApiOptions = {}): OpenApiDocument {
  const comments = opts.comments ?? new Map<string, string>();
  const schemas = new SchemaBuilder(comments);
  const paths: Record<string, Record<string, OpenApiOperation>> = {};
  const tags = new Map<string, Json>();
  const bindingsSeen = new Map<string, number>();

  for (const route of routes) {
    const method = route.method;
    const service = method.parent;
    tags.set(service.name, withDescription({ name: service.name }, comments.get(service.typeName)));
    const rpc = `${service.typeName}/${method.name}`;
    const binding = bindingsSeen.get(rpc) ?? 0;
    bindingsSeen.set(rpc, binding + 1);

    const path = openApiPath(route.template);
    const operation = buildOperation(route, schemas, comments, binding);
    const item = (paths[path] ??= {});
    const verb = route.httpMethod.toLowerCase();
    // A custom HTTP method (HttpRule `custom`) has no place of its own in OpenAPI: it goes under an extension key.
    item[openApiMethods.has(verb) ? verb : `x-${verb}`] = operation;
  }

  return {
    openapi: '3.0.3',
    info: {
      title: 'SSO',
      version: opts.version ?? '0.0.0',
      description:
        "Single sign-on for a company's apps, people and machines. The same RPCs answer gRPC, gRPC-Web and " +
        'Connect at `/<package.Service>/<Method>` (see `x-rpc` on each operation); this document describes ' +
        "their REST/JSON routes, derived from the protos' `google.api.http` annotations. Request bodies accept " +
        'snake_case or lowerCamelCase names and `application/x-www-form-urlencoded` as well as JSON; responses ' +
        'use snake_case and always include fields that hold their default value.',
    },
    // Relative: the server that served this document.
    servers: [{ url: '/' }],
    tags: [...tags.values()],
    // Every operation needs one of these unless it says `security: []`.
    security: [{ bearerAuth: [] }, { apiKeyHeader: [] }, { accessTokenCookie: [] }],
    paths,
    components: {
      schemas: { ...schemas.components, Error: errorSchema, OAuthError: oauthErrorSchema },
      responses: errorResponses,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: '`Authorization: Bearer <access token>`. A bearer value that is not a JWT is taken as an API key.',
        },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'An API key (agents, scripts).' },
        accessTokenCookie: { type: 'apiKey', in: 'cookie', name: 'usso-access-token', description: 'The access token, for browsers.' },
      },
    },
  };
}

function buildOperation(route: RestRoute, schemas: SchemaBuilder, comments: Map<string, string>, binding: number): OpenApiOperation {
  const method = route.method;
  const service = method.parent;
  const input = method.input;
  const template = parseTemplate(route.template);
  const comment = comments.get(`${service.typeName}.${method.name}`);
  const rule = accessRuleOf(method);
  const isPublic = rule?.public === true;
  const oauthErrors = hasOption(method, rest_errors) && getOption(method, rest_errors) === ErrorFormat.OAUTH;

  const parameters: Json[] = [];
  // Top-level fields a path variable is (left out of a `*` body), and those it reaches into
  // (left out of the query: the transcoder takes no query parameter under them).
  const pathTop = new Set<string>();
  const pathTouched = new Set<string>();
  for (const v of template.variables) {
    const fields = resolveFieldPath(input, v.fieldPath)!;
    const leaf = fields[fields.length - 1]!;
    if (fields.length === 1) pathTop.add(leaf.name);
    pathTouched.add(fields[0]!.name);
    const segments = template.segments.slice(v.start, v.end);
    const plain = segments.length === 1 && segments[0]!.kind === 'wildcard';
    const description = [
      comments.get(`${leaf.parent.typeName}.${leaf.name}`),
      // `{name=shelves/*}`: the value spans the segments of the pattern, slashes included.
      plain
        ? undefined
        : `Path segments matching \`${segments.map((s) => (s.kind === 'literal' ? s.value : s.kind === 'wildcard' ? '*' : '**')).join('/')}\`.`,
    ]
      .filter(Boolean)
      .join(' ');
    parameters.push(
      withDescription({ name: v.fieldPath.join('.'), in: 'path', required: true, schema: schemas.field(leaf, false) }, description),
    );
  }

  let requestBody: Json | undefined;
  if (route.bodyField === '*') {
    requestBody = bodyOf(schemas.message(input, pathTop), comments.get(input.typeName));
  } else if (route.bodyField !== '') {
    const field = input.fields.find((f) => f.name === route.bodyField)!;
    requestBody = bodyOf(schemas.field(field, false), comments.get(`${input.typeName}.${field.name}`));
  }
  if (route.bodyField !== '*') {
    // Without a whole-message body, the other fields are query parameters (nested ones dotted).
    for (const field of input.fields) {
      if (pathTouched.has(field.name) || field.name === route.bodyField) continue;
      parameters.push(...queryParameters(field, field.name, schemas, comments, new Set([input.typeName])));
    }
  }

  const output = method.output;
  const answered =
    route.responseBodyField === ''
      ? schemas.message(output)
      : schemas.field(output.fields.find((f) => f.name === route.responseBodyField)!, false);
  const responses: Record<string, Json> = {
    '200': {
      description: route.responseBodyField === '' ? 'OK' : `OK: the response's \`${route.responseBodyField}\`.`,
      content: { 'application/json': { schema: answered } },
    },
  };
  const error = (name: string) => ({ $ref: `#/components/responses/${name}` });
  if (oauthErrors) {
    responses['400'] = error('OAuthBadRequest');
    responses['401'] = error('OAuthInvalidClient');
    responses['default'] = error('OAuthError');
  } else {
    responses['400'] = error('BadRequest');
    if (!isPublic) responses['401'] = error('Unauthenticated');
    if (rule && !isPublic && (rule.admin || rule.permission !== '')) responses['403'] = error('PermissionDenied');
    if (template.variables.length > 0) responses['404'] = error('NotFound');
    responses['default'] = error('Error');
  }

  const operation: OpenApiOperation = {
    operationId: `${service.name}_${method.name}${binding === 0 ? '' : `_${binding + 1}`}`,
    tags: [service.name],
    summary: firstSentence(comment) ?? method.name,
    description: [comment, accessText(rule)].filter(Boolean).join('\n\n'),
    'x-rpc': `${service.typeName}/${method.name}`,
    responses,
  };
  if (parameters.length > 0) operation.parameters = parameters;
  if (requestBody) operation.requestBody = requestBody;
  if (isPublic) operation.security = [];
  return operation;
}

function bodyOf(schema: Json, description: string | undefined): Json {
  // A missing or empty body is an empty message, so no body is required.
  return withDescription(
    {
      required: false,
      content: { 'application/json': { schema }, 'application/x-www-form-urlencoded': { schema } },
    },
    description,
  );
}

/** A field as query parameters: itself, or for an ordinary message its fields, dotted. */
function queryParameters(field: DescField, name: string, schemas: SchemaBuilder, comments: Map<string, string>, seen: Set<string>): Json[] {
  const description = comments.get(`${field.parent.typeName}.${field.name}`);
  if (field.fieldKind === 'map' || (field.fieldKind === 'list' && field.listKind === 'message')) return [];
  // JSON-only well-known types (Struct, Value, Any, ...) cannot be written as text.
  if (field.fieldKind === 'message' && wellKnownSchema(field.message) && !textWellKnown(field.message)) return [];
  if (field.fieldKind === 'message' && !wellKnownSchema(field.message)) {
    if (seen.has(field.message.typeName)) return [];
    const inner = new Set(seen).add(field.message.typeName);
    return field.message.fields.flatMap((f) => queryParameters(f, `${name}.${f.name}`, schemas, comments, inner));
  }
  const parameter: Json = { name, in: 'query', required: false, schema: schemas.field(field, false) };
  // Repeated fields repeat the key: ?scopes=a&scopes=b.
  if (field.fieldKind === 'list') Object.assign(parameter, { style: 'form', explode: true });
  return [withDescription(parameter, description)];
}

/** Turns message, enum and field descriptors into schemas, each message and enum once under components. */
class SchemaBuilder {
  readonly components: Record<string, Json> = {};

  constructor(private readonly comments: Map<string, string>) {}

  /** A message's schema: a `$ref` to its component, or inline without the fields in `omit`. */
  message(desc: DescMessage, omit?: Set<string>): Json {
    const known = wellKnownSchema(desc);
    if (known) return known;
    if (omit && omit.size > 0) return this.objectSchema(desc, omit);
    if (!this.components[desc.typeName]) {
      this.components[desc.typeName] = {}; // placed first: a message may contain itself
      this.components[desc.typeName] = this.objectSchema(desc, new Set());
    }
    return { $ref: `#/components/schemas/${desc.typeName}` };
  }

  /** A field's schema; with `describe`, carrying the field's comment. */
  field(field: DescField, describe = true): Json {
    let schema: Json;
    switch (field.fieldKind) {
      case 'scalar':
        schema = scalarSchema(field.scalar);
        break;
      case 'enum':
        schema = this.enum(field.enum);
        break;
      case 'message':
        schema = this.message(field.message);
        break;
      case 'list':
        schema = {
          type: 'array',
          items:
            field.listKind === 'scalar'
              ? scalarSchema(field.scalar)
              : field.listKind === 'enum'
                ? this.enum(field.enum)
                : this.message(field.message),
        };
        break;
      case 'map':
        schema = {
          type: 'object',
          additionalProperties:
            field.mapKind === 'scalar'
              ? scalarSchema(field.scalar)
              : field.mapKind === 'enum'
                ? this.enum(field.enum)
                : this.message(field.message),
        };
        break;
    }
    const behaviors = hasOption(field, field_behavior) ? getOption(field, field_behavior) : [];
    const extra: Json = {};
    if (describe) {
      const description = this.comments.get(`${field.parent.typeName}.${field.name}`);
      if (description) extra['description'] = description;
    }
    if (behaviors.includes(FieldBehavior.OUTPUT_ONLY)) extra['readOnly'] = true;
    if (behaviors.includes(FieldBehavior.INPUT_ONLY)) extra['writeOnly'] = true;
    if (Object.keys(extra).length === 0) return schema;
    // OpenAPI 3.0 ignores keywords next to a $ref: wrap it.
    return schema['$ref'] ? { allOf: [schema], ...extra } : { ...schema, ...extra };
  }

  private enum(desc: DescEnum): Json {
    if (!this.components[desc.typeName]) {
      this.components[desc.typeName] = withDescription(
        { type: 'string', enum: desc.values.map((v) => v.name) },
        this.comments.get(desc.typeName),
      );
    }
    return { $ref: `#/components/schemas/${desc.typeName}` };
  }

  private objectSchema(desc: DescMessage, omit: Set<string>): Json {
    const properties: Record<string, Json> = {};
    const required: string[] = [];
    for (const field of desc.fields) {
      if (omit.has(field.name)) continue;
      properties[field.name] = this.field(field);
      if (hasOption(field, field_behavior) && getOption(field, field_behavior).includes(FieldBehavior.REQUIRED)) required.push(field.name);
    }
    const schema: Json = withDescription({ type: 'object', properties }, this.comments.get(desc.typeName));
    if (required.length > 0) schema['required'] = required;
    return schema;
  }
}

function scalarSchema(type: ScalarType): Json {
  switch (type) {
    case ScalarType.STRING:
      return { type: 'string' };
    case ScalarType.BYTES:
      return { type: 'string', format: 'byte' };
    case ScalarType.BOOL:
      return { type: 'boolean' };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: 'integer', format: 'int32' };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: 'integer', format: 'int64', minimum: 0, maximum: 4294967295 };
    // proto3 JSON writes 64-bit integers as strings (a JavaScript number cannot hold them).
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: 'string', format: 'int64', pattern: '^-?[0-9]+$' };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: 'string', format: 'uint64', pattern: '^[0-9]+$' };
    case ScalarType.FLOAT:
      return { type: 'number', format: 'float' };
    case ScalarType.DOUBLE:
      return { type: 'number', format: 'double' };
  }
}

/** The proto3 JSON form of the well-known types that do not look like their message. */
function wellKnownSchema(desc: DescMessage): Json | undefined {
  switch (desc.typeName) {
    case 'google.protobuf.Timestamp':
      return { type: 'string', format: 'date-time' };
    case 'google.protobuf.Duration':
      return { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]{1,9})?s$', description: 'Seconds with an `s` suffix, e.g. `1.5s`.' };
    case 'google.protobuf.FieldMask':
      return { type: 'string', description: 'Comma-separated field names, e.g. `name,is_active`.' };
    case 'google.protobuf.Struct':
      return { type: 'object', additionalProperties: true };
    case 'google.protobuf.Value':
      return { description: 'Any JSON value.', nullable: true };
    case 'google.protobuf.ListValue':
      return { type: 'array', items: {} };
    case 'google.protobuf.Empty':
      return { type: 'object' };
    case 'google.protobuf.Any':
      return { type: 'object', properties: { '@type': { type: 'string' } }, required: ['@type'], additionalProperties: true };
  }
  const wrapped = wrapperTypes[desc.typeName];
  return wrapped === undefined ? undefined : { ...scalarSchema(wrapped), nullable: true };
}

/** The well-known types a query parameter can carry, as the transcoder reads them. */
function textWellKnown(desc: DescMessage): boolean {
  return (
    ['google.protobuf.Timestamp', 'google.protobuf.Duration', 'google.protobuf.FieldMask'].includes(desc.typeName) ||
    desc.typeName in wrapperTypes
  );
}

const errorSchema: Json = {
  type: 'object',
  description:
    'Every REST error: the status follows the Connect code; `error_code` is a stable reason (RPC callers get it as a `google.rpc.ErrorInfo` detail).',
  required: ['code', 'error_code', 'message', 'detail'],
  properties: {
    code: { type: 'string', description: 'The Connect code, e.g. `not_found`.' },
    error_code: { type: 'string', description: 'A stable UPPER_SNAKE reason, e.g. `USER_NOT_FOUND`.' },
    message: { type: 'string', description: 'What went wrong, for people.' },
    detail: { type: 'string', description: 'The message again, as FastAPI-style clients read it.' },
  },
};

const oauthErrorSchema: Json = {
  type: 'object',
  description: 'An OAuth 2.0 error (RFC 6749 section 5.2).',
  required: ['error'],
  properties: {
    error: { type: 'string', description: 'e.g. `invalid_grant`, `invalid_client`.' },
    error_description: { type: 'string', description: 'What went wrong, for people.' },
  },
};

const errorResponse = (description: string, schema = 'Error'): Json => ({
  description,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
});

const errorResponses: Record<string, Json> = {
  BadRequest: errorResponse('Bad input (malformed JSON, a wrong type, a missing field): `invalid_argument` and kin.'),
  Unauthenticated: errorResponse('No valid credential.'),
  PermissionDenied: errorResponse('The caller lacks the permission this call declares.'),
  NotFound: errorResponse('No such resource.'),
  Error: errorResponse(
    'Any other error: 409 `already_exists`, 413, 415, 429 `resource_exhausted` (with Retry-After), 501 `unimplemented`, 5xx.',
  ),
  OAuthBadRequest: errorResponse('An OAuth error: `invalid_request`, `invalid_grant`, `unsupported_grant_type`, ...', 'OAuthError'),
  OAuthInvalidClient: errorResponse('The OAuth `invalid_client` error: unknown client or wrong secret.', 'OAuthError'),
  OAuthError: errorResponse('Any other error, in the OAuth shape.', 'OAuthError'),
};

function accessText(rule: ReturnType<typeof accessRuleOf>): string {
  if (!rule) return '**Access:** nobody (the RPC declares no access rule).';
  if (rule.public) return '**Access:** public, no credentials needed.';
  if (rule.admin) return '**Access:** administrators only.';
  if (rule.permission === '') return '**Access:** any signed-in caller, on its own data.';
  if (rule.self) return `**Access:** any signed-in caller on its own data; others' data needs the permission \`${rule.permission}\`.`;
  if (rule.selfField) return `**Access:** the permission \`${rule.permission}\`, unless \`${rule.selfField}\` is empty or the caller.`;
  return `**Access:** the permission \`${rule.permission}\` (administrators hold every permission).`;
}

function firstSentence(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const paragraph = text.split('\n')[0]!;
  const end = paragraph.search(/\.(\s|$)/);
  return end < 0 ? paragraph : paragraph.slice(0, end + 1);
}

function withDescription(value: Json, description: string | undefined): Json {
  return description ? { ...value, description } : value;
}

function packageVersion(): string | undefined {
  try {
    return (JSON.parse(readFileSync(projectFile('package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

/**
 * Serves `GET /openapi.json` (the document, built once, when first asked for) and `GET /docs`
 * (a self-contained page that lists the operations from it). False for anything else.
 *
 * The document is built by the first request for it rather than at start-up: reading the protos'
 * comments and building it took 50-100 ms of a 1.5-3 s restart to ready in CPU profiles of the
 * built server, for a document no other call needs. It is the same document either way.
 */
export function createOpenApiRoutes(routes: RestRoute[], opts: OpenApiOptions = {}) {
  let json: Buffer | undefined;
  const document = () =>
    (json ??= Buffer.from(
      JSON.stringify(
        buildOpenApi(routes, {
          version: opts.version ?? packageVersion(),
          comments: opts.comments ?? readProtoComments(protoSourceDir),
        }),
      ),
    ));
  const page = Buffer.from(docsPage);
  return async (req: Req, res: Res): Promise<boolean> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = (req.url ?? '/').split('?')[0];
    const [body, type] =
      path === '/openapi.json' ? [document(), 'application/json'] : path === '/docs' ? [page, 'text/html; charset=utf-8'] : [];
    if (!body) return false;
    (res as ServerResponse).writeHead(200, {
      'content-type': type!,
      'content-length': body.byteLength,
      'cache-control': 'public, max-age=300',
    });
    (res as ServerResponse).end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
