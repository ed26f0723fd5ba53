import type { DescMethod } from '@bufbuild/protobuf';
import { Code, ConnectError, type ContextValues, type Interceptor } from '@connectrpc/connect';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import { callBindingsKey, callInfoKey, principalKey } from './call-context.js';

export interface CallObserver {
  (event: { service: string; method: string; protocol: string; code: string; seconds: number }): void;
}

/** The caller's `x-request-id` when it is sane (no spaces, quotes or control bytes; at most 128), else a fresh UUID. */
export function requestIdOf(sent: string | null | undefined): string {
  return sent && /^[\w.-]{1,128}$/.test(sent) ? sent : randomUUID();
}

/** What a call's log lines say about it; see `callLoggerOf`. */
export interface CallBindings {
  requestId: string;
  rpc: string;
  protocol: string;
}

/**
 * Gives every call a request id (the caller's `x-request-id` when it sent a sane one) and logs one
 * line per call with its outcome. Bodies are never logged. The call's fields go into that line
 * rather than into a child logger made per call: pino serializes a child's bindings when it is
 * made, which cost about 3% of a token call's CPU even with logging off; a child is made only
 * where another line is written (`callLoggerOf`).
 */
export function createLoggingInterceptor(log: Logger, observe?: CallObserver): Interceptor {
  return (next) => async (req) => {
    const requestId = requestIdOf(req.header.get('x-request-id'));
    const info = req.contextValues.get(callInfoKey);
    const bindings: CallBindings = { requestId, rpc: rpcNameOf(req.method), protocol: info.protocol };
    req.contextValues.set(callBindingsKey, bindings);
    const started = performance.now();
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
      const seconds = (performance.now() - started) / 1000;
      if (log.isLevelEnabled('info')) {
        const principal = req.contextValues.get(principalKey);
        log.info({ ...bindings, code, ms: Math.round(seconds * 1e4) / 10, ip: info.ip, sub: principal?.id }, 'call');
      }
      observe?.({ service: req.service.typeName, method: req.method.name, protocol: info.protocol, code, seconds });
    }
  };
}

/** The logger for a line about a call: it carries the call's request id, RPC and protocol. */
export function callLoggerOf(values: ContextValues, log: Logger): Logger {
  const bindings = values.get(callBindingsKey);
  return bindings ? log.child(bindings) : log;
}

const rpcNames = new WeakMap<DescMethod, string>();

function rpcNameOf(method: DescMethod): string {
  let name = rpcNames.get(method);
  if (name === undefined) rpcNames.set(method, (name = `${method.parent.name}.${method.name}`));
  return name;
}
