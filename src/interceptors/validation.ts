import { getOption, hasOption, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { createContextKey, type Interceptor, type UnaryRequest } from '@connectrpc/connect';
import { FieldBehavior, field_behavior } from '../../gen/google/api/field_behavior_pb.js';
import { AppError } from '../errors/index.js';
import { checkText } from './text-input.js';

function requiredFields(desc: DescMessage): DescField[] {
  return desc.fields.filter((f) => hasOption(f, field_behavior) && getOption(f, field_behavior).includes(FieldBehavior.REQUIRED));
}

/** Set (to the reason) when a binary request body did not decode; see server/binary-input.ts. */
export const undecodableRequestKey = createContextKey<string | undefined>(undefined, { description: 'undecodable request' });

const requiredCache = new WeakMap<DescMessage, DescField[]>();

function isEmpty(value: unknown): boolean {
  return value === undefined || value === '' || value === 0 || (Array.isArray(value) && value.length === 0);
}

/**
 * The one input boundary: fields marked `(google.api.field_behavior) = REQUIRED` in the proto
 * must be set, and every string in the request is bounded and storable (see text-input.ts), so
 * hostile text is refused here with 400 rather than by the database with 500. Rules that need
 * the database live in the domain.
 */
/** Told of each call refused here, before the refusal is answered (e.g. to audit a sign-in attempt). */
export type RefusalObserver = (req: UnaryRequest, refusal: AppError) => Promise<void>;

export function createValidationInterceptor(onRefused?: RefusalObserver): Interceptor {
  return (next) => async (req) => {
    if (req.stream) return next(req);
    try {
      check(req);
    } catch (e) {
      if (e instanceof AppError) await onRefused?.(req, e);
      throw e;
    }
    return next(req);
  };
}

function check(req: UnaryRequest): void {
  const undecodable = req.contextValues.get(undecodableRequestKey);
  if (undecodable) throw new AppError('INVALID_ARGUMENT', undecodable);
  const message = req.message as unknown as Record<string, unknown>;
  let required = requiredCache.get(req.method.input);
  if (!required) {
    required = requiredFields(req.method.input);
    requiredCache.set(req.method.input, required);
  }
  for (const field of required) {
    if (isEmpty(message[field.localName])) throw new AppError('MISSING_FIELD', `${field.name} is required.`);
  }
  checkText(message);
}
