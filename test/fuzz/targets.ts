import type { DescMethod } from '@bufbuild/protobuf';
import { collectRoutes, type CompiledRoute } from '../../src/rest/routes.js';
import { services } from '../../src/server/routes.js';

/**
 * What the fuzz suite drives, read from the same sources the server serves from: every REST
 * route the transcoder derives from the `google.api.http` annotations, and every RPC of every
 * service. A new RPC or binding is fuzzed without touching the suite.
 */
export const restRoutes: CompiledRoute[] = collectRoutes(services);

export const rpcs: DescMethod[] = services.flatMap((s) => s.methods.filter((m) => m.methodKind === 'unary'));

export function rpcPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

export function routeName(route: CompiledRoute): string {
  return `${route.httpMethod} ${route.template}`;
}

/**
 * Calls an administrator must not make while being fuzzed, because they would end the fuzzing
 * administrator's own session (the rest of the run would then only test refusals).
 */
export function endsOwnSession(method: DescMethod): boolean {
  return method.parent.typeName === 'sso.auth.v1.AuthService' && method.name === 'Logout';
}
