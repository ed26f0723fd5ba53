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

// ---- Scope lists as sets of permissions ---------------------------------------------------
// For the ceilings of machine credentials and of who may act on whom: what a key or an agent may
// hold is always bounded by what its owner or grantor holds. Built on the one rule above.

/** The owner's scope `*` (or `*:*`): a list holding it grants everything. */
export function isUnrestricted(scopes: readonly string[]): boolean {
  return scopes.includes('*') || scopes.includes('*:*');
}

/** The requested scopes the granted list does not cover. */
export function scopesNotCovered(granted: readonly string[], requested: readonly string[]): string[] {
  return requested.filter((scope) => !hasScope(granted, scope));
}

/** The largest scope both grant, if any: the lower action on the narrower resource. */
function meet(a: string, b: string): string | undefined {
  const [aAction, aResource] = split(a);
  const [bAction, bResource] = split(b);
  const resource = aResource === bResource || bResource === '*' ? aResource : aResource === '*' ? bResource : undefined;
  if (resource === undefined) return undefined;
  let action: string | undefined;
  if (aAction === bAction || bAction === '*') action = aAction;
  else if (aAction === '*') action = bAction;
  else {
    const ra = rank(aAction);
    const rb = rank(bAction);
    if (ra >= 0 && rb >= 0) action = ladder[Math.min(ra, rb)];
  }
  if (action === undefined) return undefined;
  return action === '*' && resource === '*' ? '*' : `${action}:${resource}`;
}

/**
 * The permissions both lists grant, as a list: a permission is granted by the result exactly
 * when some scope of `a` and some scope of `b` grant it. This is how a key (or an agent token) is
 * held to what its owner holds now, even after the owner lost a scope the key was made with.
 */
export function intersectScopes(a: readonly string[], b: readonly string[]): string[] {
  const out = new Set<string>();
  for (const x of a) {
    for (const y of b) {
      const m = meet(x, y);
      if (m !== undefined) out.add(m);
    }
  }
  // Drop what another member already covers (of two that cover each other, keep the first), so
  // the list reads as what was granted.
  const all = [...out];
  const covers = (t: string, s: string) => hasScope([t], s);
  return all.filter((s, i) => !all.some((t, j) => j !== i && covers(t, s) && (!covers(s, t) || j < i))).sort();
}
