import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorInfoSchema } from '../../../gen/google/rpc/error_details_pb.js';

/** A refusal as people read it: the server's message and its stable reason (ErrorInfo.reason). */
export interface Refusal {
  message: string;
  reason: string;
}

export function refusalOf(e: unknown): Refusal {
  if (e instanceof ConnectError) {
    const info = e.findDetails(ErrorInfoSchema)[0];
    return { message: e.rawMessage || e.message, reason: info?.reason ?? Code[e.code] ?? 'UNKNOWN' };
  }
  if (e && typeof e === 'object' && 'message' in e) return { message: String((e as { message: unknown }).message), reason: 'CLIENT_ERROR' };
  return { message: String(e), reason: 'CLIENT_ERROR' };
}
