import { getOption, hasOption, type DescField, type DescMessage } from '@bufbuild/protobuf';
import type { Interceptor } from '@connectrpc/connect';
import { FieldBehavior, field_behavior } from '../../gen/google/api/field_behavior_pb.js';
import { AppError } from '../errors/index.js';

/** Longest string any field accepts; longer input is refused before it reaches a handler. */
const maxStringLength = 4096;

function requiredFields(desc: DescMessage): DescField[] {
  return desc.fields.filter((f) => hasOption(f, field_behavior) && getOption(f, field_behavior).includes(FieldBehavior.REQUIRED));
}

const requiredCache = new WeakMap<DescMessage, DescField[]>();

function isEmpty(value: unknown): boolean {
  return value === undefined || value === '' || value === 0 || (Array.isArray(value) && value.length === 0);
}

function checkStrings(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (value.length > maxStringLength) throw new AppError('INVALID_ARGUMENT', `${path} is longer than ${maxStringLength} characters.`);
  } else if (Array.isArray(value)) {
    if (value.length > 1000) throw new AppError('INVALID_ARGUMENT', `${path} has more than 1000 entries.`);
    value.forEach((v, i) => checkStrings(v, `${path}[${i}]`));
  }
}

/**
 * The one input boundary: fields marked `(google.api.field_behavior) = REQUIRED` in the proto
 * must be set, and no string is unreasonably long. Rules that need the database live in the domain.
 */
export function createValidationInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (req.stream) return next(req);
    const message = req.message as unknown as Record<string, unknown>;
    let required = requiredCache.get(req.method.input);
    if (!required) {
      required = requiredFields(req.method.input);
      requiredCache.set(req.method.input, required);
    }
    for (const field of required) {
      if (isEmpty(message[field.localName])) throw new AppError('MISSING_FIELD', `${field.name} is required.`);
    }
    for (const field of req.method.input.fields) {
      if (field.fieldKind === 'scalar' || field.fieldKind === 'list') checkStrings(message[field.localName], field.name);
    }
    return next(req);
  };
}
