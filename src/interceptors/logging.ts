import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import { callInfoKey, loggerKey, principalKey } from './call-context.js';

export interface CallObserver {
  (event: { service: string; method: string; protocol: string; code: string; seconds: number }): void;
}

/** The caller's `x-request-id` when it is sane (no spaces, quotes or control bytes; at most 128), else a fresh UUID. */
export function requestIdOf(sent: string | null | undefined): string {
  return sent && /^[\w.-]{1,128}$/.test(sent) ? sent : randomUUID();
}

/**
 * Gives every call a request id (the caller's `x-request-id` when it sent a sane one) and a child
 * logger carrying it, and logs one line per call with its outcome. Bodies are never logged.
 */
export function createLoggingInterceptor(log: Logger, observe?: CallObserver): Interceptor {
  return (next) => async (req) => {
    const requestId = requestIdOf(req.header.get('x-request-id'));
    const info = req.contextValues.get(callInfoKey);
    const child = log.child({ requestId, rpc: `${req.service.name}.${req.method.name}`, protocol: info.protocol });
    req.contextValues.set(loggerKey, child);
    const started = process.hrtime.bigint();
    let code = 'ok';
    try {
      const res = await next(req);
      res.header.set('x-request-id', requestId);
      return res;
    } catch (e) {
      const err = ConnectError.from(e);
      code = Code[err.code];
      err.metadata.set('x-request-id', requestId);
      throw err;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const principal = req.contextValues.get(principalKey);
      child.info({ code, ms: Math.round(seconds * 1e4) / 10, ip: info.ip, sub: principal?.id }, 'call');
      observe?.({ service: req.service.typeName, method: req.method.name, protocol: info.protocol, code, seconds });
    }
  };
}
