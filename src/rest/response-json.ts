import { toJson, type DescMessage, type JsonObject, type JsonValue, type MessageShape, type Registry } from '@bufbuild/protobuf';
import type { ConnectError } from '@connectrpc/connect';
import { codeToString } from '@connectrpc/connect/protocol-connect';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { reasonOfCode } from '../errors/index.js';
import { httpStatusForCode, restErrorBody, type RestErrorBody } from './errors.js';
import { jsonWriterOf } from './json-writer.js';
import type { CompiledRoute } from './routes.js';

/**
 * The REST JSON of a successful answer: the response message as proto3 JSON
 * with proto field names and every field emitted (`false`, `0`, `""`, `[]`);
 * with a `response_body` only that field's value (a bare object, or a bare
 * array for a repeated field; `null` for an unset message).
 */
export function successJson(route: CompiledRoute, message: MessageShape<DescMessage>, registry?: Registry): JsonValue {
  // The same JSON either way (json-writer.ts); the writer, made once per type, where it can.
  const writer = jsonWriterOf(route.method.output);
  const json = (
    writer
      ? writer(message, registry)
      : toJson(route.method.output, message, { useProtoFieldName: true, alwaysEmitImplicit: true, registry })
  ) as JsonObject;
  if (!route.responseBody) return json;
  return json[route.responseBody.name] ?? null;
}

/** A REST error answer: status, body, headers. */
export interface RestError {
  status: number;
  body: RestErrorBody;
}

/**
 * The REST error of an RPC's error: HTTP status by code, `error_code` from
 * the `google.rpc.ErrorInfo` detail's reason (or the code in UPPER_SNAKE).
 */
export function restErrorOf(error: ConnectError): RestError {
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
