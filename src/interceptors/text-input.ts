import { unstorableText } from '../domain/storable-text.js';
import { AppError } from '../errors/index.js';

/** Longest string any field accepts; longer input is refused before it reaches a handler. */
export const maxStringLength = 4096;
/** Most entries a repeated field, map or JSON list may hold. */
export const maxEntries = 1000;
/** Deepest nesting of messages and JSON values (google.protobuf.Struct) a request may have. */
export const maxDepth = 32;

function checkString(value: string, path: string): void {
  if (value.length > maxStringLength) throw new AppError('INVALID_ARGUMENT', `${path} is longer than ${maxStringLength} characters.`);
  if (unstorableText.test(value)) throw new AppError('INVALID_ARGUMENT', `${path} contains a NUL character or an unpaired surrogate.`);
}

/**
 * Every string anywhere in a decoded request (fields, nested messages, repeated fields, map keys
 * and values, JSON in Struct fields) is bounded and storable. The walk is iterative and capped in
 * depth, so hostile nesting cannot exhaust the stack.
 */
export function checkText(message: object): void {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: message, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      checkString(value, path || 'the request');
      continue;
    }
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array) continue;
    if (depth > maxDepth) throw new AppError('INVALID_ARGUMENT', `${path} is nested more than ${maxDepth} levels deep.`);
    if (Array.isArray(value)) {
      if (value.length > maxEntries) throw new AppError('INVALID_ARGUMENT', `${path} has more than ${maxEntries} entries.`);
      value.forEach((v, i) => stack.push({ value: v, path: `${path}[${i}]`, depth: depth + 1 }));
      continue;
    }
    const entries = Object.entries(value);
    if (entries.length > maxEntries) throw new AppError('INVALID_ARGUMENT', `${path} has more than ${maxEntries} entries.`);
    const isMessage = '$typeName' in value;
    for (const [key, v] of entries) {
      // protobuf-es bookkeeping: the type name is ours, unknown fields are raw bytes never stored.
      if (key === '$typeName' || key === '$unknown') continue;
      // A message's keys are protobuf-es's camelCase names; callers know the proto's snake_case.
      const name = isMessage ? key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : key;
      const at = path ? `${path}.${name}` : name;
      checkString(key, `a key of ${path || 'the request'}`);
      stack.push({ value: v, path: at, depth: depth + 1 });
    }
  }
}
