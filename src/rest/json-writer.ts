import { ScalarType, toJson, type DescField, type DescMessage, type JsonObject, type JsonValue, type Registry } from '@bufbuild/protobuf';

/**
 * A REST answer's JSON, written from a plan made once per message type instead of through
 * protobuf-es's reflection on every call (`toJson` wraps each message in a reflection object with
 * a Map of its fields, per call: about 5 µs and a few KB of garbage for a token's claims). The
 * JSON is exactly `toJson`'s with `useProtoFieldName` and `alwaysEmitImplicit` (the REST shape):
 * fields in number order; implicit-presence fields always; explicit-presence fields and messages
 * only when set; lists always. A Timestamp or Duration inside a message is written by `toJson`
 * itself. Only what the answers hold is planned (strings, booleans, 32-bit integers, messages,
 * lists of them): a type with anything else (enums, floats, 64-bit integers, bytes, oneofs, maps,
 * proto2 required fields, and Struct, Value or wrapper fields, which protobuf-es holds as plain
 * JSON or bare scalars) gets no plan, and `toJson` writes it whole.
 */
export type JsonWriter = (message: object, registry: Registry | undefined) => JsonValue;

type FieldPlan =
  | { kind: 'scalar'; json: string; key: string; explicit: boolean }
  | { kind: 'message'; json: string; key: string; plan: MessagePlan }
  | { kind: 'wkt'; json: string; key: string; desc: DescMessage }
  | { kind: 'scalarList'; json: string; key: string }
  | { kind: 'messageList'; json: string; key: string; plan: MessagePlan }
  | { kind: 'wktList'; json: string; key: string; desc: DescMessage };

/** Scalars whose JSON is the value itself (create() has checked its type). */
const plainScalars = new Set<ScalarType>([
  ScalarType.STRING,
  ScalarType.BOOL,
  ScalarType.INT32,
  ScalarType.UINT32,
  ScalarType.SINT32,
  ScalarType.FIXED32,
  ScalarType.SFIXED32,
]);

interface MessagePlan {
  desc: DescMessage;
  fields: FieldPlan[];
}

const IMPLICIT = 2; // FeatureSet_FieldPresence.IMPLICIT
const LEGACY_REQUIRED = 3; // FeatureSet_FieldPresence.LEGACY_REQUIRED

const plans = new WeakMap<DescMessage, MessagePlan | null>();

const writers = new WeakMap<DescMessage, JsonWriter | null>();

/** The writer for a message type (made once per type), or undefined when `toJson` must write it. */
export function jsonWriterOf(desc: DescMessage): JsonWriter | undefined {
  let writer = writers.get(desc);
  if (writer === undefined) {
    const plan = planOf(desc, new Set());
    writer = plan ? (message, registry) => writeMessage(plan, message as Record<string, unknown>, registry) : null;
    writers.set(desc, writer);
  }
  return writer ?? undefined;
}

function isWellKnown(desc: DescMessage): boolean {
  return desc.typeName.startsWith('google.protobuf.');
}

/** Well-known types held in a message as messages (toJson writes them); the others are not planned. */
const wellKnownMessages = new Set(['google.protobuf.Timestamp', 'google.protobuf.Duration']);

function planOf(desc: DescMessage, visiting: Set<DescMessage>): MessagePlan | undefined {
  const known = plans.get(desc);
  if (known !== undefined) return known ?? undefined;
  // A type that contains itself (directly or not) is left to toJson: plans are made eagerly.
  if (isWellKnown(desc) || visiting.has(desc)) return undefined;
  visiting.add(desc);
  const fields: FieldPlan[] = [];
  let plannable = true;
  for (const field of [...desc.fields].sort((a, b) => a.number - b.number)) {
    const fieldPlan = fieldPlanOf(field, visiting);
    if (!fieldPlan) {
      plannable = false;
      break;
    }
    fields.push(fieldPlan);
  }
  visiting.delete(desc);
  const plan = plannable ? { desc, fields } : null;
  plans.set(desc, plan);
  return plan ?? undefined;
}

function fieldPlanOf(field: DescField, visiting: Set<DescMessage>): FieldPlan | undefined {
  if (field.oneof !== undefined || field.presence === LEGACY_REQUIRED) return undefined;
  const json = field.name;
  const key = field.localName;
  const explicit = field.presence !== IMPLICIT;
  switch (field.fieldKind) {
    case 'scalar':
      return plainScalars.has(field.scalar) ? { kind: 'scalar', json, key, explicit } : undefined;
    case 'message': {
      if (isWellKnown(field.message))
        return wellKnownMessages.has(field.message.typeName) ? { kind: 'wkt', json, key, desc: field.message } : undefined;
      const plan = planOf(field.message, visiting);
      return plan && { kind: 'message', json, key, plan };
    }
    case 'list':
      if (field.listKind === 'scalar') return plainScalars.has(field.scalar) ? { kind: 'scalarList', json, key } : undefined;
      if (field.listKind === 'message') {
        if (isWellKnown(field.message))
          return wellKnownMessages.has(field.message.typeName) ? { kind: 'wktList', json, key, desc: field.message } : undefined;
        const plan = planOf(field.message, visiting);
        return plan && { kind: 'messageList', json, key, plan };
      }
      return undefined;
    default:
      return undefined;
  }
}

function writeMessage(plan: MessagePlan, message: Record<string, unknown>, registry: Registry | undefined): JsonValue {
  // Unknown fields may hold extensions, which toJson writes (with the registry): its job.
  const unknown = message.$unknown as unknown[] | undefined;
  if (unknown !== undefined && unknown.length > 0) return toJson(plan.desc, message as never, jsonOptions(registry));
  const out: JsonObject = {};
  for (const f of plan.fields) {
    const value = message[f.key];
    switch (f.kind) {
      case 'scalar':
        if (f.explicit && value === undefined) continue;
        out[f.json] = value as string | number | boolean;
        break;
      case 'message':
        if (value === undefined) continue;
        out[f.json] = writeMessage(f.plan, value as Record<string, unknown>, registry);
        break;
      case 'wkt':
        if (value === undefined) continue;
        out[f.json] = toJson(f.desc, value as never, jsonOptions(registry));
        break;
      case 'scalarList':
        out[f.json] = (value as (string | number | boolean)[]).slice();
        break;
      case 'messageList':
        out[f.json] = (value as Record<string, unknown>[]).map((item) => writeMessage(f.plan, item, registry));
        break;
      case 'wktList':
        out[f.json] = (value as object[]).map((item) => toJson(f.desc, item as never, jsonOptions(registry)));
        break;
    }
  }
  return out;
}

function jsonOptions(registry: Registry | undefined) {
  return { useProtoFieldName: true, alwaysEmitImplicit: true, registry };
}
