import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, createRegistry, ScalarType, toJson, type DescField, type DescMessage } from '@bufbuild/protobuf';
import {
  EnrollLoginFactorResponseSchema,
  IssueTokenResponseSchema,
  VerifyTokenResponseSchema,
} from '../../gen/sso/auth/v1/auth_service_pb.js';
import { StructSchema, TimestampSchema } from '@bufbuild/protobuf/wkt';
import { jsonWriterOf } from '../../src/rest/json-writer.js';
import { successJson } from '../../src/rest/response-json.js';
import { services } from '../../src/server/routes.js';

// The REST answer's JSON from a plan (src/rest/json-writer.ts) must be exactly toJson's with the
// REST options: same keys, same order, same values, for every message type the server answers
// with, over random contents (a seeded generator: the same cases every run).

const registry = createRegistry(...new Set(services.map((s) => s.file)));
const options = { useProtoFieldName: true, alwaysEmitImplicit: true, registry };

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const texts = ['', 'a', 'ü-ñ 漢字', 'quote " and \\ backslash', 'line\nbreak', '😀', 'x'.repeat(40)];

function scalarValue(scalar: ScalarType, r: () => number): unknown {
  switch (scalar) {
    case ScalarType.STRING:
      return texts[Math.floor(r() * texts.length)];
    case ScalarType.BOOL:
      return r() < 0.5;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return Math.floor(r() * 2 ** 32) - 2 ** 31;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return Math.floor(r() * 2 ** 32);
    default:
      return undefined;
  }
}

function wellKnownValue(desc: DescMessage, r: () => number): unknown {
  switch (desc.typeName) {
    case 'google.protobuf.Timestamp':
      return { seconds: BigInt(Math.floor(r() * 4e9)), nanos: Math.floor(r() * 1e9) };
    case 'google.protobuf.Duration':
      return { seconds: BigInt(Math.floor(r() * 1e6)), nanos: Math.floor(r() * 1e9) };
    case 'google.protobuf.FieldMask':
      return { paths: ['display_name', 'is_active'].slice(0, Math.floor(r() * 3)) };
    case 'google.protobuf.Struct': // held as plain JSON in a message
      return { challenge: texts[Math.floor(r() * texts.length)], timeout: Math.floor(r() * 1e5), nested: { ok: r() < 0.5 } };
    default:
      return undefined;
  }
}

function fieldValue(field: DescField, r: () => number, depth: number): unknown {
  const one = (): unknown => {
    if (field.fieldKind === 'scalar' || (field.fieldKind === 'list' && field.listKind === 'scalar')) return scalarValue(field.scalar!, r);
    if (field.fieldKind === 'enum' || (field.fieldKind === 'list' && field.listKind === 'enum')) return undefined; // no answer has one
    const message = field.message!;
    if (message.typeName.startsWith('google.protobuf.')) return wellKnownValue(message, r);
    return depth < 3 ? initOf(message, r, depth + 1) : undefined;
  };
  if (field.fieldKind === 'list') {
    return Array.from({ length: Math.floor(r() * 3) }, one).filter((v) => v !== undefined);
  }
  if (field.fieldKind === 'map') return undefined;
  if (field.presence !== 2 && r() < 0.3) return undefined; // explicit presence: sometimes unset
  return one();
}

function initOf(desc: DescMessage, r: () => number, depth = 0): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  for (const field of desc.fields) {
    if (field.oneof) continue;
    const value = fieldValue(field, r, depth);
    if (value !== undefined) init[field.localName] = value;
  }
  return init;
}

const outputs = [...new Set(services.flatMap((s) => s.methods.map((m) => m.output)))];

test("the token routes' answers have a plan (the point of the writer); a well-known type, or one holding a Struct, has none", () => {
  assert.ok(jsonWriterOf(VerifyTokenResponseSchema));
  assert.ok(jsonWriterOf(IssueTokenResponseSchema));
  assert.equal(jsonWriterOf(TimestampSchema), undefined);
  assert.equal(jsonWriterOf(StructSchema), undefined);
  assert.equal(jsonWriterOf(EnrollLoginFactorResponseSchema), undefined);
});

test('an answer holding a Struct is written by toJson (plain JSON in the message)', () => {
  const message = create(EnrollLoginFactorResponseSchema, {
    otpauthUri: 'u',
    passkeyOptions: { challenge: 'c', n: 1, nested: { ok: true } },
  });
  const route = { method: { output: EnrollLoginFactorResponseSchema }, responseBody: undefined } as never;
  assert.deepEqual(successJson(route, message, registry), toJson(EnrollLoginFactorResponseSchema, message, options));
  assert.deepEqual((successJson(route, message, registry) as { passkey_options: unknown }).passkey_options, {
    challenge: 'c',
    n: 1,
    nested: { ok: true },
  });
});

test('every answer type with a plan is written exactly as toJson writes it, key order included', () => {
  let planned = 0;
  for (const desc of outputs) {
    const writer = jsonWriterOf(desc);
    if (!writer) continue;
    planned++;
    const r = rng(desc.typeName.length * 7919);
    for (let i = 0; i < 60; i++) {
      const message = create(desc, initOf(desc, r) as never);
      const expected = JSON.stringify(toJson(desc, message, options));
      assert.equal(JSON.stringify(writer(message, registry)), expected, `${desc.typeName} case ${i}`);
    }
  }
  // Nearly every answer has a plan (those holding a Struct do not: toJson writes them).
  assert.ok(planned >= outputs.length - 5, `${planned} of ${outputs.length} answer types have a plan`);
});

test('a message with unknown fields is left to toJson whole (its extensions are toJson’s to write)', () => {
  const message = create(IssueTokenResponseSchema, { accessToken: 'a' });
  message.$unknown = [{ no: 999, wireType: 0, data: new Uint8Array([1]) }];
  assert.equal(
    JSON.stringify(jsonWriterOf(IssueTokenResponseSchema)!(message, registry)),
    JSON.stringify(toJson(IssueTokenResponseSchema, message, options)),
  );
});
