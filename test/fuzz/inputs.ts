import { create, toBinary, ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import fc from 'fast-check';

/**
 * Hostile values, as fast-check arbitraries: what an attacker sends instead of what the protos
 * describe. Each family names the class of bug it is after.
 */

/** Text that breaks storage, length limits, parsers or escaping. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '\u0000',
    'a\u0000b',
    'admin@example.com\u0000',
    '\ud800',
    'x\udfffy',
    '\ufffd',
    '\u202e',
    '\ufeff',
    'x'.repeat(4097),
    'é'.repeat(4096),
    '😀'.repeat(2048),
    '../../etc/passwd',
    "' OR 1=1 --",
    '%00',
    '\\',
    '"',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    '-1',
    'NaN',
    'Infinity',
    '1e309',
    '9'.repeat(400),
    '*',
    '*:*',
    'admin',
    'true',
    'null',
    '{}',
    '[]',
    ' ',
    '\r\n',
    'a'.repeat(300) + '@example.com',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** Numbers at and past every boundary, and strings that only look like numbers. */
export const hostileNumber: fc.Arbitrary<number | string> = fc.oneof(
  fc.constantFrom(
    -1,
    0,
    1,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 32,
    2 ** 53,
    2 ** 64,
    -(2 ** 63),
    1e308,
    -1e308,
    0.5,
    -0.0,
    'NaN',
    'Infinity',
    '-Infinity',
    '1e309',
    '18446744073709551616',
    '-9223372036854775809',
    '0x10',
    '1.5',
    '',
    ' 1',
  ),
  fc.integer(),
  fc.double(),
);

/** Any JSON value, nested a little; arrays where objects go and the reverse. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

function jsonNameOf(field: DescField): string {
  return field.jsonName;
}

/** Percent-encoding that, unlike encodeURIComponent, takes lone surrogates too (as U+FFFD: a URL carries bytes). */
export function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`))
    .join('');
}

/** An object shaped like the request (its field names, proto and JSON spellings) with hostile values. */
export function hostileObject(input: DescMessage): fc.Arbitrary<Record<string, unknown>> {
  const names = [...new Set(input.fields.flatMap((f) => [f.name, jsonNameOf(f)]))];
  const key = names.length > 0 ? fc.oneof(fc.constantFrom(...names), hostileString) : hostileString;
  return fc.dictionary(key, hostileJson, { maxKeys: 6 });
}

const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

/** A JSON-ish request body: shaped or not, well-formed or not, small or past the limits. */
export function hostileJsonBody(input: DescMessage): fc.Arbitrary<Uint8Array> {
  const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
  return fc.oneof(
    { weight: 6, arbitrary: hostileObject(input).map((o) => text(JSON.stringify(o))) },
    { weight: 2, arbitrary: hostileJson.map((v) => text(JSON.stringify(v) ?? 'null')) },
    // Invalid UTF-8 inside a string of a real field, and raw bytes.
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...(input.fields.length ? input.fields.map((f) => f.jsonName) : ['x'])),
          fc.uint8Array({ minLength: 1, maxLength: 8 }),
        )
        .map(
          ([name, bytes]) =>
            new Uint8Array(Buffer.concat([Buffer.from(`{"${name}":"`), Buffer.from([0xc3, 0x28, 0xff, ...bytes]), Buffer.from('"}')])),
        ),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        text(deep(100_000)),
        text(deepObject(5_000)),
        text('{"a":'),
        text('{'),
        text('[]'),
        text('"x"'),
        text('1e999999'),
        text(`{"x":"${'a'.repeat(1024 * 1024 + 10)}"}`),
        text('\ufeff{}'),
        text('{"__proto__":{"admin":true}}'),
        text('{"constructor":{"prototype":{"admin":true}}}'),
      ),
    },
  );
}

/** A form body (REST accepts form posts) with the request's field names and hostile values. */
export function hostileFormBody(input: DescMessage): fc.Arbitrary<string> {
  const names = input.fields.length ? input.fields.map((f) => f.name) : ['x'];
  return fc
    .array(fc.tuple(fc.constantFrom(...names), fc.oneof(hostileString, hostileNumber.map(String))), { maxLength: 5 })
    .map((pairs) => pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&'));
}

/** A query string with the request's field names (and others), hostile values, repeated keys. */
export function hostileQuery(input: DescMessage): fc.Arbitrary<string> {
  const names = input.fields.length ? input.fields.map((f) => f.name) : ['x'];
  return fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...names), hostileString), fc.oneof(hostileString, hostileNumber.map(String))), {
      maxLength: 4,
    })
    .map((pairs) => pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&'));
}

/** A path segment: percent-encoded hostile text (NUL, slashes, dots, huge). */
export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  hostileString.map((s) => percentEncode(s)),
  fc.constantFrom('%00', '%ff', '%c3%28', '..', '%2e%2e', '%2F', '%', '%zz', 'x'.repeat(5000)),
);

/** A well-formed message of the request type whose string and number fields carry hostile values. */
export function hostileMessage(input: DescMessage): fc.Arbitrary<Uint8Array> {
  const settable = input.fields.filter(
    (f) => !f.oneof && (f.fieldKind === 'scalar' || (f.fieldKind === 'list' && f.listKind === 'scalar')),
  );
  const valueOf = (f: DescField): fc.Arbitrary<unknown> => {
    const scalar = f.fieldKind === 'scalar' || f.fieldKind === 'list' ? f.scalar : undefined;
    const one: fc.Arbitrary<unknown> =
      scalar === ScalarType.STRING
        ? hostileString
        : scalar === ScalarType.BOOL
          ? fc.boolean()
          : scalar === ScalarType.BYTES
            ? fc.uint8Array({ maxLength: 40 })
            : scalar === ScalarType.INT64 ||
                scalar === ScalarType.UINT64 ||
                scalar === ScalarType.SINT64 ||
                scalar === ScalarType.FIXED64 ||
                scalar === ScalarType.SFIXED64
              ? fc.bigInt({ min: scalar === ScalarType.UINT64 || scalar === ScalarType.FIXED64 ? 0n : -(2n ** 63n), max: 2n ** 63n - 1n })
              : scalar === ScalarType.DOUBLE || scalar === ScalarType.FLOAT
                ? fc.double()
                : scalar === ScalarType.UINT32 || scalar === ScalarType.FIXED32
                  ? fc.nat()
                  : fc.integer();
    return f.fieldKind === 'list' ? fc.array(one, { maxLength: 4 }) : one;
  };
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of settable) record[f.localName] = valueOf(f);
  return fc.record(record, { requiredKeys: [] }).map((init) => {
    try {
      return toBinary(input, create(input, init as never));
    } catch {
      return new Uint8Array(0);
    }
  });
}

/** Binary protobuf as an attacker sends it: garbage, truncated or bit-flipped messages, bad UTF-8. */
export function hostileBinary(input: DescMessage): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 3, arbitrary: hostileMessage(input) },
    {
      weight: 2,
      arbitrary: fc.tuple(hostileMessage(input), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([bytes, at, flip]) => {
        if (bytes.byteLength === 0) return new Uint8Array([0xff]);
        const out = bytes.slice();
        out[at % out.byteLength]! ^= flip;
        return out;
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(hostileMessage(input), fc.nat())
        .map(([bytes, n]) => bytes.subarray(0, bytes.byteLength ? n % bytes.byteLength : 0)),
    },
    // Field 1..4 as a length-delimited string of invalid UTF-8; a varint that never ends; a huge length.
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 4 }).map((no) => new Uint8Array([(no << 3) | 2, 3, 0xc3, 0x28, 0xff])) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        new Uint8Array(11).fill(0xff),
        new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
        new Uint8Array([0x0b]),
      ),
    },
  );
}
