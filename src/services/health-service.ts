import type { ServiceImpl } from '@connectrpc/connect';
import { Code, ConnectError } from '@connectrpc/connect';
import { Health, HealthCheckResponse_ServingStatus as Status } from '../../gen/grpc/health/v1/health_pb.js';

/**
 * gRPC health checking (grpc.health.v1) for load balancers and orchestrators: SERVING while the
 * database answers. The empty service name means the whole server.
 */
export function createHealthService(serviceNames: string[], ready: () => Promise<boolean>): ServiceImpl<typeof Health> {
  const known = new Set(['', ...serviceNames]);
  const status = async (service: string) => {
    if (!known.has(service)) throw new ConnectError(`unknown service ${service}`, Code.NotFound);
    return (await ready().catch(() => false)) ? Status.SERVING : Status.NOT_SERVING;
  };
  return {
    async check(req) {
      return { status: await status(req.service) };
    },
    async *watch(req, ctx) {
      let last: Status | undefined;
      while (!ctx.signal.aborted) {
        const now = await status(req.service);
        if (now !== last) yield { status: now };
        last = now;
        await new Promise((resolve) => setTimeout(resolve, 5000));
      }
    },
    async list() {
      const statuses: Record<string, { status: Status }> = {};
      for (const name of known) statuses[name] = { status: await status(name) };
      return { statuses };
    },
  };
}
