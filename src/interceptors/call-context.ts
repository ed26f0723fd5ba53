import { createContextKey, createContextValues, type ContextValues, type HandlerContext } from '@connectrpc/connect';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Principal } from '../domain/principal.js';
import { AppError } from '../errors/index.js';

/** Facts about the call that handlers need but Connect does not carry: where it came from. */
export interface CallInfo {
  ip: string;
  userAgent: string;
  protocol: 'grpc' | 'grpc-web' | 'connect' | 'rest';
}

export const callInfoKey = createContextKey<CallInfo>({ ip: '', userAgent: '', protocol: 'connect' }, { description: 'call info' });
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: 'principal' });
/** The call's request id, RPC and protocol, for the lines logged about it (interceptors/logging.ts). */
export const callBindingsKey = createContextKey<{ requestId: string; rpc: string; protocol: string } | undefined>(undefined, {
  description: 'call log bindings',
});

function protocolOf(req: IncomingMessage | Http2ServerRequest): CallInfo['protocol'] {
  const url = req.url ?? '';
  // Connect and gRPC paths are /<package>.<Service>/<Method>; anything else reached a REST route.
  if (!/^\/[a-z_][a-z0-9_]*(\.[a-z0-9_]+)+\.[A-Z]\w*\/[A-Z]\w*(\?|$)/.test(url)) return 'rest';
  const type = String(req.headers['content-type'] ?? '');
  if (type.startsWith('application/grpc-web')) return 'grpc-web';
  if (type.startsWith('application/grpc')) return 'grpc';
  return 'connect';
}

/** Builds the per-call context values from the raw request (the client's address and agent). */
export function createCallContext(trustProxy: boolean) {
  return (req: IncomingMessage | Http2ServerRequest): ContextValues => {
    const values = createContextValues();
    let ip = req.socket?.remoteAddress ?? '';
    if (trustProxy) {
      const forwarded = String(req.headers['x-forwarded-for'] ?? '')
        .split(',')[0]
        ?.trim();
      if (forwarded) ip = forwarded;
    }
    values.set(callInfoKey, {
      ip: ip.replace(/^::ffff:/, ''),
      userAgent: String(req.headers['user-agent'] ?? '').slice(0, 512),
      protocol: protocolOf(req),
    });
    return values;
  };
}

export function principalOf(ctx: HandlerContext): Principal {
  const principal = ctx.values.get(principalKey);
  if (!principal) throw new AppError('UNAUTHENTICATED');
  return principal;
}

export function callInfoOf(ctx: HandlerContext): CallInfo {
  return ctx.values.get(callInfoKey);
}
