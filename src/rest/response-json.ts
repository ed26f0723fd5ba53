import { fromBinary, toJson, type JsonObject, type JsonValue, type Registry } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { codeFromHttpStatus, codeToString, errorFromJsonBytes } from '@connectrpc/connect/protocol-connect';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { reasonOfCode } from '../errors/index.js';
import { httpStatusForCode, restErrorBody, type RestErrorBody } from './errors.js';
import type { HandlerAnswer } from './invoke.js';
import type { CompiledRoute } from './routes.js';

/**
 * The REST JSON of a successful answer: the binary response message as proto3
 * JSON with proto field names and every field emitted (`false`, `0`, `""`,
 * `[]`); with a `response_body` only that field's value (a bare object, or a
 * bare array for a repeated field; `null` for an unset message).
 */
export function successJson(route: CompiledRoute, body: Uint8Array, registry?: Registry): JsonValue {
  const schema = route.method.output;
  const message = fromBinary(schema, body);
  const json = toJson(schema, message, { useProtoFieldName: true, alwaysEmitImplicit: true, registry }) as JsonObject;
  if (!route.responseBody) return json;
  return json[route.responseBody.name] ?? null;
}

/** A REST error answer: status, body, headers. */
export interface RestError {
  status: number;
  body: RestErrorBody;
}

/**
 * Turns a Connect unary error answer (`{code, message, details}`) into the
 * REST error: HTTP status by code, `error_code` from the `google.rpc.ErrorInfo`
 * detail's reason (or the code in UPPER_SNAKE).
 */
export function errorFromAnswer(answer: HandlerAnswer): RestError {
  const fallback = new ConnectError(`HTTP ${answer.status}`, answer.status === 200 ? Code.Internal : codeFromHttpStatus(answer.status));
  let error: ConnectError;
  try {
    error = errorFromJsonBytes(answer.body, undefined, fallback);
  } catch {
    error = fallback;
  }
  const code = codeToString(error.code);
  let reason = reasonOfCode(code);
  try {
    const info = error.findDetails(ErrorInfoSchema).find((d) => d.reason !== '');
    if (info) reason = info.reason;
  } catch {
    // An undecodable detail: keep the code as reason.
  }
  return { status: httpStatusForCode(code), body: restErrorBody(code, reason, error.rawMessage) };
}
