import type { DescMethod } from '@bufbuild/protobuf';
import { createMethodImplSpec, createServiceImplSpec, type ConnectRouter, type MethodImplSpec } from '@connectrpc/connect';

/** A unary RPC's implementation, as Connect's router holds it. */
export type UnarySpec = Extract<MethodImplSpec, { kind: 'unary' }>;

/** The unary implementations, by `package.Service/Method`. */
export type UnaryImplementations = ReadonlyMap<string, UnarySpec>;

export function rpcKey(method: DescMethod): string {
  return `${method.parent.typeName}/${method.name}`;
}

/**
 * Wraps a Connect router so that every implementation registered through it is registered as
 * usual and also kept, so the REST layer can call an RPC's implementation directly with the
 * message it decoded from JSON (no binary encoding and decoding in between). Unimplemented
 * methods get Connect's own "not implemented" implementation, as on the router.
 */
export function recordImplementations(router: ConnectRouter): { router: ConnectRouter; implementations: UnaryImplementations } {
  const implementations = new Map<string, UnarySpec>();
  const keep = (spec: MethodImplSpec) => {
    if (spec.kind === 'unary') implementations.set(rpcKey(spec.method), spec);
  };
  const recording: ConnectRouter = {
    handlers: router.handlers,
    service(service, implementation, options) {
      for (const spec of Object.values(createServiceImplSpec(service, implementation).methods)) keep(spec);
      router.service(service, implementation, options);
      return this;
    },
    rpc(method, implementation, options) {
      keep(createMethodImplSpec(method, implementation));
      router.rpc(method, implementation, options);
      return this;
    },
  };
  return { router: recording, implementations };
}
