import {
  create,
  mergeFromJson,
  type DescField,
  type DescMessage,
  type JsonObject,
  type JsonValue,
  type Message,
  type Registry,
} from '@bufbuild/protobuf';
import { FieldMaskSchema } from '@bufbuild/protobuf/wkt';
import type { ParsedBody } from './body.js';
import { invalidArgument, invalidBody, type RestInputError } from './errors.js';
import { FieldValueError, fieldMaskJson, findField, resolveFieldPath, setJsonPath, textToJson } from './field-values.js';
import type { CompiledRoute } from './routes.js';
import type { TemplateMatch } from './path-template.js';

/**
 * Builds the RPC request message of a REST call:
 * - the body: with `body: "*"` the JSON (or form) body is the message; with
 *   `body: "field"` it is that field; without a body rule it is ignored;
 * - query parameters fill fields the body and path do not set (repeated
 *   fields by repeated keys, nested fields by dotted keys);
 * - path variables are set last and win.
 * When the message has a `google.protobuf.FieldMask update_mask` the body does
 * not set, it gets the names of the fields present in the body, so an update
 * changes only what was sent.
 *
 * Throws {@link RestInputError}: INVALID_BODY for the body, INVALID_ARGUMENT
 * for the path and query.
 */
export function buildRequestMessage(
  route: CompiledRoute,
  match: TemplateMatch,
  query: Pick<URLSearchParams, 'size' | typeof Symbol.iterator>,
  body: ParsedBody,
  registry?: Registry,
): Message {
  const schema = route.method.input;
  const msg = create(schema);

  // Top-level fields (proto names) of the body target that the body sets, in order.
  const bodyKeys: string[] = [];
  let maskInBody = false;
  const maskField = updateMaskField(schema);
  const hasBody = route.bodyField !== '';

  if (hasBody && body.kind !== 'empty') {
    const bodyField = route.body;
    const target: DescMessage | undefined = bodyField === undefined ? schema : bodyField.message;
    if (body.kind === 'json') {
      if (bodyField === undefined) {
        if (!isJsonObject(body.value)) throw invalidBody('request body must be a JSON object');
        const json: JsonObject = { ...body.value };
        for (const key of Object.keys(json)) {
          const field = findField(schema, key);
          if (!field) continue;
          if (field === maskField) {
            maskInBody = true;
            json[key] = normalizeFieldMaskJson(json[key]!);
          } else if (!bodyKeys.includes(field.name)) {
            bodyKeys.push(field.name);
          }
        }
        mergeJson(schema, msg, json, invalidBody, registry);
      } else {
        if (target && isJsonObject(body.value)) {
          for (const key of Object.keys(body.value)) {
            const field = findField(target, key);
            if (field && !bodyKeys.includes(field.name)) bodyKeys.push(field.name);
          }
        }
        mergeJson(schema, msg, { [bodyField.jsonName]: body.value }, invalidBody, registry);
      }
    } else {
      if (!target) throw invalidBody(`a form body cannot set field ${bodyField!.name}`);
      const form = textFieldsToJson(target, body.entries, invalidBody);
      for (const top of form.topFields) {
        if (bodyField === undefined && top === maskField) maskInBody = true;
        else if (!bodyKeys.includes(top.name)) bodyKeys.push(top.name);
      }
      mergeJson(schema, msg, bodyField === undefined ? form.json : { [bodyField.jsonName]: form.json }, invalidBody, registry);
    }
  }

  // Query parameters: never over the body or the path (most requests have none: nothing to do).
  if (query.size > 0) {
    const taken = new Set<string>(route.pathTopFields);
    if (hasBody) {
      if (route.body) taken.add(route.body.name);
      else if (body.kind !== 'empty') for (const k of bodyKeys) taken.add(k);
      if (maskInBody && maskField) taken.add(maskField.name);
    }
    const queryEntries = [...query].filter(([key]) => {
      const fields = resolveFieldPath(schema, key.split('.'));
      return fields !== undefined && !taken.has(fields[0]!.name);
    });
    if (maskField && queryEntries.some(([key]) => resolveFieldPath(schema, key.split('.'))?.[0] === maskField)) {
      maskInBody = true; // given explicitly (in the query): keep it
    }
    if (queryEntries.length > 0) {
      mergeJson(schema, msg, textFieldsToJson(schema, queryEntries, invalidArgument).json, invalidArgument, registry);
    }
  }

  // Path variables.
  if (match.malformed.length > 0) {
    throw invalidArgument(`malformed percent-encoding in path variable ${match.malformed[0]}`);
  }
  if (match.variables.size > 0) {
    const pathJson: JsonObject = {};
    for (const [name, value] of match.variables) {
      const fields = resolveFieldPath(schema, name.split('.'))!;
      const json = convert(fields[fields.length - 1]!, [value], invalidArgument);
      if (json !== undefined) setJsonPath(pathJson, fields, json);
    }
    mergeJson(schema, msg, pathJson, invalidArgument, registry);
  }

  if (maskField && hasBody && !maskInBody) {
    const paths = bodyKeys.filter((k) => k !== maskField.name);
    (msg as unknown as Record<string, unknown>)[maskField.localName] = create(FieldMaskSchema, { paths });
  }
  return msg;
}

/** The request's `google.protobuf.FieldMask update_mask` field, if it has one. */
function updateMaskField(schema: DescMessage): DescField | undefined {
  const field = schema.fields.find((f) => f.name === 'update_mask');
  return field?.fieldKind === 'message' && field.message.typeName === 'google.protobuf.FieldMask' && !field.oneof ? field : undefined;
}

/**
 * Accepts a field mask as a string of proto or JSON names ("is_active,roles"),
 * or as `{"paths": [...]}`; protobuf's JSON form only takes lowerCamelCase.
 */
function normalizeFieldMaskJson(value: JsonValue): JsonValue {
  if (typeof value === 'string') return fieldMaskJson(value);
  if (isJsonObject(value) && Array.isArray(value['paths']) && value['paths'].every((p) => typeof p === 'string')) {
    return fieldMaskJson((value['paths'] as string[]).join(','));
  }
  return value;
}

/** Text key/value pairs (query or form) -> a JSON object for the message, converted by field type. */
function textFieldsToJson(
  message: DescMessage,
  entries: [string, string][],
  makeError: (message: string) => RestInputError,
): { json: JsonObject; topFields: DescField[] } {
  const groups = new Map<string, { fields: DescField[]; values: string[] }>();
  for (const [key, value] of entries) {
    const fields = resolveFieldPath(message, key.split('.'));
    if (!fields) continue; // unknown keys are ignored
    const canonical = fields.map((f) => f.name).join('.');
    const group = groups.get(canonical);
    if (group) group.values.push(value);
    else groups.set(canonical, { fields, values: [value] });
  }
  const json: JsonObject = {};
  const topFields: DescField[] = [];
  for (const { fields, values } of groups.values()) {
    const value = convert(fields[fields.length - 1]!, values, makeError);
    if (value === undefined) continue;
    setJsonPath(json, fields, value);
    if (!topFields.includes(fields[0]!)) topFields.push(fields[0]!);
  }
  return { json, topFields };
}

function convert(field: DescField, values: string[], makeError: (message: string) => RestInputError): JsonValue | undefined {
  try {
    return textToJson(field, values);
  } catch (e) {
    if (e instanceof FieldValueError) throw makeError(e.message);
    throw e;
  }
}

function mergeJson(
  schema: DescMessage,
  msg: Message,
  json: JsonObject,
  makeError: (message: string) => RestInputError,
  registry: Registry | undefined,
): void {
  try {
    // Unknown fields (and unknown enum names) are ignored: clients send extras.
    mergeFromJson(schema, msg, json, { ignoreUnknownFields: true, registry });
  } catch (e) {
    throw makeError(e instanceof Error ? e.message : String(e));
  }
}

function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
