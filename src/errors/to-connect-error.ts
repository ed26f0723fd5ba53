import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { AppError } from './app-error.js';
import { catalog } from './catalog.js';
import { isRefusedValue } from './database-input.js';

const domain = 'sso';

function withReason(message: string, code: Code, reason: string, headers?: Record<string, string>): ConnectError {
  const info = create(ErrorInfoSchema, { reason, domain });
  return new ConnectError(message, code, headers, [{ desc: ErrorInfoSchema, value: info }]);
}

/**
 * The reason given when nothing more precise is known: the code's name in UPPER_SNAKE, from the
 * enum (`Code.NotFound`) or from its protocol name (`not_found`, as Connect and REST spell it).
 */
export function reasonOfCode(code: Code | string): string {
  const name = typeof code === 'string' ? code : Code[code].replace(/([a-z])([A-Z])/g, '$1_$2');
  return name.toUpperCase();
}

/**
 * Turns anything thrown by a handler into what the caller may see. Returns the error to rethrow
 * and whether it was unforeseen (so the caller logs the cause). A value the database refused is
 * still answered as invalid input, but logged: validation should have caught it.
 */
export function toConnectError(error: unknown): { error: ConnectError; unforeseen: boolean } {
  if (error instanceof AppError) {
    return { error: withReason(error.message, catalog[error.reason].code, error.reason, error.headers), unforeseen: false };
  }
  if (error instanceof ConnectError) {
    if (error.code === Code.Internal || error.code === Code.Unknown) {
      return { error: withReason(catalog.INTERNAL.message, Code.Internal, 'INTERNAL'), unforeseen: true };
    }
    const hasInfo = error.details.some(
      (d) => ('type' in d && d.type === ErrorInfoSchema.typeName) || ('desc' in d && d.desc.typeName === ErrorInfoSchema.typeName),
    );
    if (hasInfo) return { error, unforeseen: false };
    return {
      error: withReason(error.rawMessage, error.code, reasonOfCode(error.code), Object.fromEntries(error.metadata)),
      unforeseen: false,
    };
  }
  if (isRefusedValue(error)) {
    return { error: withReason(catalog.INVALID_ARGUMENT.message, catalog.INVALID_ARGUMENT.code, 'INVALID_ARGUMENT'), unforeseen: true };
  }
  return { error: withReason(catalog.INTERNAL.message, Code.Internal, 'INTERNAL'), unforeseen: true };
}
