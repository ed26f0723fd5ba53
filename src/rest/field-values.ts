import { ScalarType, type DescEnum, type DescField, type DescMessage, type JsonObject, type JsonValue } from '@bufbuild/protobuf';

/** A text value (path variable, query parameter, form field) that does not fit its field. */
export class FieldValueError extends Error {
  constructor(name: string, value: string, expected: string) {
    super(`invalid value ${JSON.stringify(truncate(value))} for field ${name}: expected ${expected}`);
    this.name = 'FieldValueError';
  }
}

function truncate(s: string): string {
  return s.length > 64 ? s.slice(0, 61) + '...' : s;
}

/** Finds a field by its proto name (`is_active`) or JSON name (`isActive`). */
export function findField(message: DescMessage, name: string): DescField | undefined {
  return message.fields.find((f) => f.name === name || f.jsonName === name);
}

/**
 * Resolves a dotted field path (`user.id`, proto or JSON names) in a message.
 * Every part but the last must be a singular message field.
 */
export function resolveFieldPath(message: DescMessage, path: string[]): DescField[] | undefined {
  const fields: DescField[] = [];
  let current: DescMessage | undefined = message;
  for (const name of path) {
    if (!current) return undefined;
    const field = findField(current, name);
    if (!field) return undefined;
    fields.push(field);
    current = field.fieldKind === 'message' ? field.message : undefined;
  }
  return fields.length > 0 ? fields : undefined;
}

/**
 * Converts the text values given for a field (several for a repeated field)
 * into the field's proto3 JSON form, checking them against its type.
 * Returns undefined for fields that cannot be given as text (maps, ordinary
 * messages), which callers ignore. Throws {@link FieldValueError}.
 */
export function textToJson(field: DescField, values: string[]): JsonValue | undefined {
  // An empty value for a field that is not text (`?limit=&is_active=`, an
  // unfilled HTML form field) means "not given", not a bad value.
  if (!isTextField(field)) values = values.filter((v) => v !== '');
  if (values.length === 0) return undefined;
  const last = values[values.length - 1]!;
  switch (field.fieldKind) {
    case 'scalar':
      return scalarText(field.name, field.scalar, last);
    case 'enum':
      return enumText(field.name, field.enum, last);
    case 'message':
      return messageText(field.name, field.message, last);
    case 'list':
      switch (field.listKind) {
        case 'scalar':
          return values.map((v) => scalarText(field.name, field.scalar, v));
        case 'enum':
          return values.map((v) => enumText(field.name, field.enum, v));
        case 'message': {
          const items = values.map((v) => messageText(field.name, field.message, v));
          return items.every((i) => i !== undefined) ? (items as JsonValue[]) : undefined;
        }
      }
      return undefined;
    case 'map':
      return undefined;
  }
}

function isTextField(field: DescField): boolean {
  return (
    (field.fieldKind === 'scalar' || (field.fieldKind === 'list' && field.listKind === 'scalar')) &&
    (field.scalar === ScalarType.STRING || field.scalar === ScalarType.BYTES)
  );
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const UINT32_MAX = 4294967295;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function scalarText(name: string, type: ScalarType, text: string): JsonValue {
  switch (type) {
    case ScalarType.STRING:
      return text;
    case ScalarType.BYTES:
      // proto3 JSON form (base64); fromJson checks it.
      return text;
    case ScalarType.BOOL:
      switch (text.toLowerCase()) {
        case 'true':
        case 't':
        case '1':
          return true;
        case 'false':
        case 'f':
        case '0':
          return false;
      }
      throw new FieldValueError(name, text, 'a boolean (true or false)');
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32: {
      const n = /^[+-]?\d{1,11}$/.test(text) ? Number(text) : NaN;
      if (!Number.isInteger(n) || n < INT32_MIN || n > INT32_MAX) {
        throw new FieldValueError(name, text, 'a 32-bit integer');
      }
      return n;
    }
    case ScalarType.UINT32:
    case ScalarType.FIXED32: {
      const n = /^\+?\d{1,10}$/.test(text) ? Number(text) : NaN;
      if (!Number.isInteger(n) || n > UINT32_MAX) {
        throw new FieldValueError(name, text, 'an unsigned 32-bit integer');
      }
      return n;
    }
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64: {
      const n = /^[+-]?\d{1,20}$/.test(text) ? BigInt(text) : undefined;
      if (n === undefined || n < INT64_MIN || n > INT64_MAX) {
        throw new FieldValueError(name, text, 'a 64-bit integer');
      }
      return n.toString();
    }
    case ScalarType.UINT64:
    case ScalarType.FIXED64: {
      const n = /^\+?\d{1,20}$/.test(text) ? BigInt(text) : undefined;
      if (n === undefined || n > UINT64_MAX) {
        throw new FieldValueError(name, text, 'an unsigned 64-bit integer');
      }
      return n.toString();
    }
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT: {
      if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') return text;
      const n = text.trim() === text && text !== '' ? Number(text) : NaN;
      if (!Number.isFinite(n)) throw new FieldValueError(name, text, 'a number');
      return n;
    }
  }
  throw new FieldValueError(name, text, 'a supported scalar');
}

function enumText(name: string, desc: DescEnum, text: string): JsonValue {
  // The proto name ("COLOR_RED"), in any case, or without the shared prefix ("red").
  const upper = text.toUpperCase();
  const prefix = desc.sharedPrefix?.toUpperCase() ?? '';
  const value = desc.values.find((v) => v.name === text || v.name === upper || (prefix !== '' && v.name === prefix + upper));
  if (value) return value.name;
  if (/^-?\d{1,10}$/.test(text)) {
    const n = Number(text);
    if (desc.values.some((v) => v.number === n)) return n;
  }
  throw new FieldValueError(name, text, `one of ${desc.values.map((v) => v.name).join(', ')}`);
}

/** The wrapper well-known types and the scalar each carries (their JSON is the bare scalar). */
export const wrapperTypes: Record<string, ScalarType> = {
  'google.protobuf.DoubleValue': ScalarType.DOUBLE,
  'google.protobuf.FloatValue': ScalarType.FLOAT,
  'google.protobuf.Int64Value': ScalarType.INT64,
  'google.protobuf.UInt64Value': ScalarType.UINT64,
  'google.protobuf.Int32Value': ScalarType.INT32,
  'google.protobuf.UInt32Value': ScalarType.UINT32,
  'google.protobuf.BoolValue': ScalarType.BOOL,
  'google.protobuf.StringValue': ScalarType.STRING,
  'google.protobuf.BytesValue': ScalarType.BYTES,
};

function messageText(name: string, desc: DescMessage, text: string): JsonValue | undefined {
  switch (desc.typeName) {
    case 'google.protobuf.Timestamp':
    case 'google.protobuf.Duration':
      return text; // RFC 3339 / "1.5s"; fromJson checks the form.
    case 'google.protobuf.FieldMask':
      return fieldMaskJson(text);
  }
  const wrapped = wrapperTypes[desc.typeName];
  return wrapped === undefined ? undefined : scalarText(name, wrapped, text);
}

/** snake_case or lowerCamelCase -> lowerCamelCase, the form FieldMask's JSON requires. */
export function lowerCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A field mask written with proto or JSON names -> its proto3 JSON string ("isActive,user.displayName"). */
export function fieldMaskJson(text: string): string {
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => p.split('.').map(lowerCamel).join('.'))
    .join(',');
}

/**
 * Puts a JSON value at a field path into a JSON object, creating the
 * intermediate objects, keyed by the fields' JSON names so that the proto and
 * JSON spellings of one field land in one place.
 */
export function setJsonPath(target: JsonObject, fields: DescField[], value: JsonValue): void {
  let obj = target;
  for (let i = 0; i < fields.length - 1; i++) {
    const key = fields[i]!.jsonName;
    const next = obj[key];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) {
      const created: JsonObject = {};
      obj[key] = created;
      obj = created;
    } else {
      obj = next;
    }
  }
  obj[fields[fields.length - 1]!.jsonName] = value;
}
