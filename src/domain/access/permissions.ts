/**
 * Every permission the service knows, in USSO's `action:resource` form: the one catalogue. The
 * protos declare which one each RPC needs (`sso.options.v1.access`), and the few rules decided in
 * the domain (see below) name them through `Permission`, so a misspelt permission does not
 * compile, and test/domain/permissions.test.ts checks that the protos declare only catalogued
 * names and that every catalogued name is declared by some RPC.
 *
 * Who may call an RPC is decided by the authorization interceptor from its rule alone, except
 * where the rule is `self` together with a `permission`: then the call is open to any signed-in
 * principal acting on its own things, and the handler decides, from the target, whether the
 * permission is needed (listing one's own sessions or keys needs none; someone else's does). That
 * case is named `decidedByHandler` in src/interceptors/authorization.ts, and which principal may
 * act on which other is one rule, ./act-on.ts.
 */
export const permissions = [
  'read:users',
  'create:users',
  'update:users',
  'delete:users',
  'read:workspaces',
  'create:workspaces',
  'update:workspaces',
  'delete:workspaces',
  'read:roles',
  'create:roles',
  'update:roles',
  'delete:roles',
  'read:agents',
  'create:agents',
  'update:agents',
  'delete:agents',
  'read:apikeys',
  'create:apikeys',
  'delete:apikeys',
  'read:apps',
  'create:apps',
  'update:apps',
  'delete:apps',
  'read:sessions',
  'delete:sessions',
  'read:keys',
  'manage:keys',
  'read:audit',
] as const;

export type Permission = (typeof permissions)[number];

const known = new Set<string>(permissions);

export function isPermission(name: string): name is Permission {
  return known.has(name);
}
