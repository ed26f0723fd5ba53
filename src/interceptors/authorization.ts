import { create, getOption, hasOption, type DescMethod } from '@bufbuild/protobuf';
import type { Interceptor } from '@connectrpc/connect';
import { access, AccessSchema, type Access } from '../../gen/sso/options/v1/options_pb.js';
import type { Principal } from '../domain/principal.js';
import { hasScope } from '../domain/scopes.js';
import { AppError } from '../errors/index.js';
import { principalKey } from './call-context.js';

/**
 * Standard gRPC services whose vendored protos cannot carry our option: reflection and health
 * reveal only what the protos in this repository already publish, so anyone may call them.
 */
const publicInfrastructure = new Set(['grpc.reflection.v1.ServerReflection', 'grpc.health.v1.Health']);

/**
 * The `sso.options.v1.access` option as written on an RPC, or undefined when it has none. Read once
 * per method: protobuf-es decodes an option from its descriptor's bytes on every `getOption`
 * (a fresh message each time, about 5% of a token call's CPU when read per call).
 */
export function declaredAccessOf(method: DescMethod): Access | undefined {
  let declared = declaredAccess.get(method);
  if (declared === undefined) {
    declared = hasOption(method, access) ? getOption(method, access) : null;
    declaredAccess.set(method, declared);
  }
  return declared ?? undefined;
}

const declaredAccess = new WeakMap<DescMethod, Access | null>();
const publicRule = create(AccessSchema, { public: true });

/** The access rule an RPC declares in its proto, or undefined when it declares none. */
export function accessRuleOf(method: DescMethod): Access | undefined {
  if (publicInfrastructure.has(method.parent.typeName)) return publicRule;
  const rule = declaredAccessOf(method);
  if (!rule) return undefined;
  return rule.public || rule.self || rule.admin || rule.permission !== '' ? rule : undefined;
}

/** Whether the principal holds a permission: administrators hold every one. */
export function holds(principal: Principal, permission: string): boolean {
  return principal.isAdmin || hasScope(principal.scopes, permission);
}

/**
 * `self` alone: any signed-in principal, acting on its own things. `self` with a `permission`:
 * the same door, and the handler decides from the target whether the permission is needed (one's
 * own sessions or keys need none; another's do), through Actor.may and the rule of who may act on
 * whom (domain/access). Either way nothing more is decided here.
 */
export function decidedByHandler(rule: Access): boolean {
  return rule.self;
}

function camel(field: string): string {
  return field.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Enforces the access rule each RPC declares (`sso.options.v1.access`). Deny by default: an RPC
 * without a rule is refused for everyone. Permission is checked before the handler runs, so a
 * caller without it learns nothing about whether the target exists.
 */
export function createAuthorizationInterceptor(): Interceptor {
  return (next) => async (req) => {
    const rule = accessRuleOf(req.method);
    if (!rule) throw new AppError('ACCESS_NOT_DECLARED');
    if (rule.public) return next(req);
    const principal = req.contextValues.get(principalKey);
    if (!principal) throw new AppError('UNAUTHENTICATED');
    if (rule.admin) {
      if (!principal.isAdmin) throw new AppError('ADMIN_REQUIRED');
      return next(req);
    }
    if (rule.permission === '' || decidedByHandler(rule)) return next(req);
    if (rule.selfField !== '' && !req.stream) {
      const target = (req.message as unknown as Record<string, unknown>)[camel(rule.selfField)];
      if (principal.kind === 'user' && (target === '' || target === principal.id)) return next(req);
    }
    if (!holds(principal, rule.permission)) {
      throw new AppError('PERMISSION_DENIED', `This call needs the permission "${rule.permission}".`);
    }
    return next(req);
  };
}
