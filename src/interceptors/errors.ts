import type { Interceptor } from '@connectrpc/connect';
import { toConnectError } from '../errors/index.js';
import type { Logger } from '../logger.js';
import { callLoggerOf } from './logging.js';

/** Maps whatever a call throws to a catalogued error; unforeseen causes go only to the log. */
export function createErrorInterceptor(log: Logger): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (e) {
      const { error, unforeseen } = toConnectError(e);
      if (unforeseen) callLoggerOf(req.contextValues, log).error({ err: e }, 'unforeseen error');
      throw error;
    }
  };
}
