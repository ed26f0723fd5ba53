import { matchTemplate, splitPath, type SplitPath, type TemplateMatch } from './path-template.js';
import type { CompiledRoute } from './routes.js';

/**
 * Finds the routes whose template matches a path without trying each of them: a trie over the
 * templates' segments (literal children by value, one child for `*`) is walked once with the
 * path split and percent-decoded once. Templates with `**` or a verb (rare) are tried one by one
 * as before. The answer is exactly the set `matchTemplate` would accept, in declaration order,
 * so the transcoder's choice among them (method, specificity) is unchanged.
 */
interface Node {
  literals: Map<string, Node>;
  wildcard?: Node;
  /** Routes whose segments end here, with their declaration index (to keep the order). */
  routes: { route: CompiledRoute; index: number }[];
}

const newNode = (): Node => ({ literals: new Map(), routes: [] });

export interface RouteMatch {
  route: CompiledRoute;
  match: TemplateMatch;
}

export function createRouter(routes: CompiledRoute[]): (pathname: string) => RouteMatch[] {
  const root = newNode();
  const tryEach: { route: CompiledRoute; index: number }[] = [];
  routes.forEach((route, index) => {
    const segs = route.path.segments;
    if (route.path.verb !== undefined || segs.some((s) => s.kind === 'deep')) {
      tryEach.push({ route, index });
      return;
    }
    let node = root;
    for (const seg of segs) {
      if (seg.kind === 'literal') {
        let next = node.literals.get(seg.value);
        if (!next) node.literals.set(seg.value, (next = newNode()));
        node = next;
      } else {
        node = node.wildcard ??= newNode();
      }
    }
    node.routes.push({ route, index });
  });

  return (pathname) => {
    const found: { route: CompiledRoute; index: number; match: TemplateMatch }[] = [];
    const split = splitPath(pathname);
    if (split) {
      for (const node of walk(root, split)) {
        for (const r of node.routes) {
          const match = matchTemplate(r.route.path, pathname, split);
          if (match) found.push({ ...r, match });
        }
      }
    }
    for (const r of tryEach) {
      const match = matchTemplate(r.route.path, pathname);
      if (match) found.push({ ...r, match });
    }
    return found.sort((a, b) => a.index - b.index).map(({ route, match }) => ({ route, match }));
  };
}

/** The trie nodes reached by consuming every segment: a literal matches its decoded text, `*` any non-empty segment. */
function walk(root: Node, { raw, decoded }: SplitPath): Node[] {
  let level = [root];
  for (let n = 0; n < raw.length && level.length > 0; n++) {
    const text = decoded[n] ?? raw[n]!;
    const next: Node[] = [];
    for (const node of level) {
      const literal = node.literals.get(text);
      if (literal) next.push(literal);
      if (node.wildcard && raw[n] !== '') next.push(node.wildcard);
    }
    level = next;
  }
  return level;
}
