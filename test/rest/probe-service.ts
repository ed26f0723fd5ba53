import { create, createFileRegistry, setExtension, type DescService } from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
  MethodOptionsSchema,
  file_google_protobuf_field_mask,
  file_google_protobuf_timestamp,
  type FieldDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import { http } from '../../gen/google/api/annotations_pb.js';
import { HttpRuleSchema, type HttpRule } from '../../gen/google/api/http_pb.js';

/**
 * A test-only service built from a hand-made descriptor, so every path template
 * shape (`{var=*}`, `{var=**}`, `{var=segment/*}`, nested `{a.b}`, `:verb`,
 * trailing slash, custom methods, literal-versus-variable) and every field type
 * conversion can be exercised over a real socket. Every method takes a Probe
 * and answers an Echo holding the request it received.
 */
function field(name: string, number: number, type: Type, extra: Partial<Pick<FieldDescriptorProto, 'typeName' | 'label'>> = {}) {
  return {
    name,
    number,
    type,
    label: Label.OPTIONAL,
    jsonName: name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
    ...extra,
  };
}

type Binding = Partial<Pick<HttpRule, 'body' | 'responseBody'>> & {
  get?: string;
  post?: string;
  patch?: string;
  custom?: { kind: string; path: string };
};

function rule(b: Binding): HttpRule {
  const pattern = b.get
    ? { case: 'get' as const, value: b.get }
    : b.post
      ? { case: 'post' as const, value: b.post }
      : b.patch
        ? { case: 'patch' as const, value: b.patch }
        : { case: 'custom' as const, value: b.custom! };
  return create(HttpRuleSchema, { pattern, body: b.body ?? '', responseBody: b.responseBody ?? '' });
}

const methods: Record<string, Binding> = {
  Literal: { get: '/v1/items/special' },
  ById: { get: '/v1/items/{name}' },
  Archive: { get: '/v1/items/{name}:archive' },
  Deep: { get: '/v1/files/{path=**}' },
  Nested: { get: '/v1/{name=shelves/*}/books/{inner.b}' },
  Publish: { post: '/v1/{name=things/*}:publish', body: '*' },
  Anon: { get: '/v1/anon/*/x/{count}' },
  ListSlash: { get: '/v1/list/' },
  GetSlash: { get: '/v1/list/{name}' },
  BodyField: { post: '/v1/inner/{name}', body: 'inner' },
  Purge: { custom: { kind: 'PURGE', path: '/v1/cache/{name}' } },
  Update: { patch: '/v1/probes/{name}', body: '*', responseBody: 'probe' },
  Tags: { get: '/v1/tags', responseBody: 'tags' },
  Types: { get: '/v1/types/{big}/{flag}/{color}' },
};

const file = create(FileDescriptorProtoSchema, {
  name: 'test/v1/probe.proto',
  package: 'test.v1',
  syntax: 'proto3',
  dependency: ['google/protobuf/field_mask.proto', 'google/protobuf/timestamp.proto'],
  enumType: [
    {
      name: 'Color',
      value: [
        { name: 'COLOR_UNSPECIFIED', number: 0 },
        { name: 'COLOR_RED', number: 1 },
        { name: 'COLOR_BLUE', number: 2 },
      ],
    },
  ],
  messageType: [
    { name: 'Inner', field: [field('b', 1, Type.STRING), field('c', 2, Type.INT32)] },
    {
      name: 'Probe',
      field: [
        field('name', 1, Type.STRING),
        field('path', 2, Type.STRING),
        field('inner', 3, Type.MESSAGE, { typeName: '.test.v1.Inner' }),
        field('big', 4, Type.INT64),
        field('small', 5, Type.UINT32),
        field('ratio', 6, Type.DOUBLE),
        field('flag', 7, Type.BOOL),
        field('color', 8, Type.ENUM, { typeName: '.test.v1.Color' }),
        field('nums', 9, Type.INT32, { label: Label.REPEATED }),
        field('tags', 10, Type.STRING, { label: Label.REPEATED }),
        field('count', 11, Type.INT32),
        field('update_mask', 12, Type.MESSAGE, { typeName: '.google.protobuf.FieldMask' }),
        field('at', 13, Type.MESSAGE, { typeName: '.google.protobuf.Timestamp' }),
        field('colors', 14, Type.ENUM, { typeName: '.test.v1.Color', label: Label.REPEATED }),
      ],
    },
    {
      name: 'Echo',
      field: [
        field('rpc', 1, Type.STRING),
        field('probe', 2, Type.MESSAGE, { typeName: '.test.v1.Probe' }),
        field('tags', 3, Type.STRING, { label: Label.REPEATED }),
      ],
    },
  ],
  service: [
    {
      name: 'ProbeService',
      method: Object.entries(methods).map(([name, binding]) => {
        const options = create(MethodOptionsSchema);
        setExtension(options, http, rule(binding));
        return { name, inputType: '.test.v1.Probe', outputType: '.test.v1.Echo', options };
      }),
    },
  ],
});

const registry = createFileRegistry(file, (name) =>
  name === 'google/protobuf/field_mask.proto'
    ? file_google_protobuf_field_mask
    : name === 'google/protobuf/timestamp.proto'
      ? file_google_protobuf_timestamp
      : undefined,
);

export const ProbeService: DescService = registry.getService('test.v1.ProbeService')!;
export const probeMethodNames = Object.keys(methods);
