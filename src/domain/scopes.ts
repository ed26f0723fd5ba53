/**
 * USSO's scope rule, in one place: a scope is `action:resource`; a granted action implies every
 * lower one on the ladder, and a granted resource `*` matches any resource. `*` alone (or `*:*`)
 * is the owner's scope and matches everything. Actions off the ladder (say `write`) match only
 * themselves.
 */
const ladder = ['read', 'create', 'update', 'delete', 'manage', 'admin', 'owner'] as const;

function rank(action: string): number {
  return action === '*' ? ladder.length - 1 : ladder.indexOf(action as (typeof ladder)[number]);
}

function split(scope: string): [string, string] {
  const i = scope.indexOf(':');
  return i < 0 ? [scope, '*'] : [scope.slice(0, i), scope.slice(i + 1)];
}

/** Whether one granted scope satisfies the required one. */
export function scopeSatisfies(granted: string, required: string): boolean {
  if (granted === required) return true;
  const [gAction, gResource] = split(granted);
  const [rAction, rResource] = split(required);
  if (gResource !== '*' && gResource !== rResource) return false;
  // The owner's `*` is a wildcard action: it also covers actions off the ladder.
  if (gAction === rAction || gAction === '*') return true;
  const g = rank(gAction);
  const r = rank(rAction);
  return g >= 0 && r >= 0 && g >= r;
}

export function hasScope(granted: readonly string[], required: string): boolean {
  return granted.some((g) => scopeSatisfies(g, required));
}

const scopePattern = /^[a-z0-9_*.-]+(:[a-z0-9_*./-]+)?$/i;

export function isValidScope(scope: string): boolean {
  return scope.length <= 200 && scopePattern.test(scope);
}
