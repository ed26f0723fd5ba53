import { unstorableText } from '../domain/storable-text.js';
import { AppError } from '../errors/index.js';

/** Longest string any field accepts; longer input is refused before it reaches a handler. */
export const maxStringLength = 4096;
/** Most entries a repeated field, map or JSON list may hold. */
export const maxEntries = 1000;
/** Deepest nesting of messages and JSON values (google.protobuf.Struct) a request may have. */
export const maxDepth = 32;

/** Where a value sits in the request, spelled out only when a refusal names it. */
interface At {
  parent: At | undefined;
  /** A list index, or a key: a message's field (protobuf-es's camelCase name) or a map's or JSON object's key. */
  step: number | string;
  inMessage: boolean;
}

/** `a.b[2].c`, with message fields in the proto's snake_case, which is what callers know. */
function pathOf(at: At | undefined): string {
  const steps: At[] = [];
  for (let cur = at; cur; cur = cur.parent) steps.push(cur);
  let path = '';
  for (let i = steps.length - 1; i >= 0; i--) {
    const { step, inMessage } = steps[i]!;
    if (typeof step === 'number') path = `${path}[${step}]`;
    else {
      const name = inMessage ? step.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : step;
      path = path ? `${path}.${name}` : name;
    }
  }
  return path;
}

/** Why a string may not be stored, or undefined when it may. */
function refusalOf(value: string): string | undefined {
  if (value.length > maxStringLength) return `is longer than ${maxStringLength} characters.`;
  if (unstorableText.test(value)) return 'contains a NUL character or an unpaired surrogate.';
  return undefined;
}

/**
 * Every string anywhere in a decoded request (fields, nested messages, repeated fields, map keys
 * and values, JSON in Struct fields) is bounded and storable. The walk is iterative and capped in
 * depth, so hostile nesting cannot exhaust the stack. A value's path is spelled out only for a
 * refusal (building it for every field cost more than the checks themselves).
 */
export function checkText(message: object): void {
  const stack: { value: unknown; at: At | undefined; depth: number }[] = [{ value: message, at: undefined, depth: 0 }];
  while (stack.length > 0) {
    const { value, at, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const refusal = refusalOf(value);
      if (refusal) throw new AppError('INVALID_ARGUMENT', `${pathOf(at) || 'the request'} ${refusal}`);
      continue;
    }
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array) continue;
    if (depth > maxDepth) throw new AppError('INVALID_ARGUMENT', `${pathOf(at)} is nested more than ${maxDepth} levels deep.`);
    if (Array.isArray(value)) {
      if (value.length > maxEntries) throw new AppError('INVALID_ARGUMENT', `${pathOf(at)} has more than ${maxEntries} entries.`);
      for (let i = 0; i < value.length; i++)
        stack.push({ value: value[i], at: { parent: at, step: i, inMessage: false }, depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(value);
    if (keys.length > maxEntries) throw new AppError('INVALID_ARGUMENT', `${pathOf(at)} has more than ${maxEntries} entries.`);
    const inMessage = '$typeName' in value;
    for (const key of keys) {
      // protobuf-es bookkeeping: the type name is ours, unknown fields are raw bytes never stored.
      if (key === '$typeName' || key === '$unknown') continue;
      const refusal = refusalOf(key);
      if (refusal) throw new AppError('INVALID_ARGUMENT', `a key of ${pathOf(at) || 'the request'} ${refusal}`);
      stack.push({ value: (value as Record<string, unknown>)[key], at: { parent: at, step: key, inMessage }, depth: depth + 1 });
    }
  }
}
