/**
 * google.api.http path templates:
 *
 *   Template = "/" Segments [ Verb ] ;
 *   Segments = Segment { "/" Segment } ;
 *   Segment  = "*" | "**" | LITERAL | Variable ;
 *   Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *   FieldPath = IDENT { "." IDENT } ;
 *   Verb     = ":" LITERAL ;
 *
 * A trailing slash is significant: "/users/" ends with an empty literal segment,
 * so it never matches "/users/{user_id}" (a variable never binds an empty segment).
 */

export type TemplateSegment =
  | { kind: 'literal'; value: string }
  /** `*`: exactly one non-empty segment. */
  | { kind: 'wildcard' }
  /** `**`: one or more segments, to the end of the path (less the verb). */
  | { kind: 'deep' };

export interface TemplateVariable {
  /** The field path, e.g. ["user", "id"] for `{user.id}`. */
  fieldPath: string[];
  /** Index of the variable's first segment in {@link PathTemplate.segments}. */
  start: number;
  /** Index after its last segment. */
  end: number;
}

export interface PathTemplate {
  source: string;
  segments: TemplateSegment[];
  variables: TemplateVariable[];
  verb: string | undefined;
}

export class TemplateSyntaxError extends Error {
  constructor(template: string, problem: string) {
    super(`invalid path template "${template}": ${problem}`);
    this.name = 'TemplateSyntaxError';
  }
}

const identRe = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseTemplate(source: string): PathTemplate {
  const fail = (problem: string): never => {
    throw new TemplateSyntaxError(source, problem);
  };
  if (!source.startsWith('/')) fail('must start with /');
  let body = source.slice(1);

  // The verb is a ":LITERAL" after the last "/" and outside any braces.
  let verb: string | undefined;
  const lastSlash = body.lastIndexOf('/');
  const lastBrace = body.lastIndexOf('}');
  const colon = body.lastIndexOf(':');
  if (colon > lastSlash && colon > lastBrace) {
    verb = body.slice(colon + 1);
    body = body.slice(0, colon);
    if (verb === '' || verb.includes('/')) fail('empty verb');
  }

  const segments: TemplateSegment[] = [];
  const variables: TemplateVariable[] = [];
  let i = 0;
  const readSegments = (insideVariable: boolean) => {
    for (;;) {
      if (body[i] === '{') {
        if (insideVariable) fail('nested variables');
        const close = body.indexOf('}', i);
        if (close < 0) fail('unclosed {');
        const inner = body.slice(i + 1, close);
        const eq = inner.indexOf('=');
        const fieldPath = (eq < 0 ? inner : inner.slice(0, eq)).split('.');
        if (!fieldPath.every((p) => identRe.test(p))) fail(`bad field path "${inner}"`);
        const start = segments.length;
        if (eq < 0) {
          segments.push({ kind: 'wildcard' });
        } else {
          const saved = body;
          const savedI = i;
          body = inner.slice(eq + 1);
          i = 0;
          if (body === '') fail(`empty pattern in {${inner}}`);
          readSegments(true);
          body = saved;
          i = savedI;
        }
        variables.push({ fieldPath, start, end: segments.length });
        i = close + 1;
      } else {
        let next = body.indexOf('/', i);
        if (next < 0) next = body.length;
        const text = body.slice(i, next);
        if (text.includes('{') || text.includes('}')) fail(`bad segment "${text}"`);
        if (text === '*') segments.push({ kind: 'wildcard' });
        else if (text === '**') segments.push({ kind: 'deep' });
        else segments.push({ kind: 'literal', value: text });
        i = next;
      }
      if (i >= body.length) return;
      if (body[i] !== '/') fail(`unexpected "${body[i]}"`);
      i++;
      if (i >= body.length) {
        // A trailing slash: an empty last segment.
        segments.push({ kind: 'literal', value: '' });
        return;
      }
    }
  };
  readSegments(false);

  const deep = segments.findIndex((s) => s.kind === 'deep');
  if (deep >= 0 && deep !== segments.length - 1) fail('** must be the last segment');
  for (const [n, s] of segments.entries()) {
    if (s.kind === 'literal' && s.value === '' && n !== segments.length - 1) fail('empty segment');
  }
  const seen = new Set<string>();
  for (const v of variables) {
    const key = v.fieldPath.join('.');
    if (seen.has(key)) fail(`variable ${key} bound twice`);
    seen.add(key);
  }
  return { source, segments, variables, verb };
}

/** A request path split for matching: raw segments as sent, decoded segments, the verb removed. */
export interface SplitPath {
  raw: string[];
  /** Percent-decoded segments; `undefined` where the encoding is malformed. */
  decoded: (string | undefined)[];
}

export function splitPath(pathname: string): SplitPath | undefined {
  if (!pathname.startsWith('/')) return undefined;
  const raw = pathname.slice(1).split('/');
  return { raw, decoded: raw.map(safeDecode) };
}

function safeDecode(segment: string): string | undefined {
  // Only a percent sign can change a segment (or make it malformed): most have none.
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export interface TemplateMatch {
  /** Bound variables: dotted field path -> percent-decoded value. */
  variables: Map<string, string>;
  /** Variables whose raw text could not be percent-decoded. */
  malformed: string[];
}

/**
 * Matches a path (without query) against a template. Returns undefined when it
 * does not match. `presplit` is `splitPath(pathname)`, when the caller has it.
 */
export function matchTemplate(template: PathTemplate, pathname: string, presplit?: SplitPath): TemplateMatch | undefined {
  let path = pathname;
  if (template.verb !== undefined) {
    const suffix = ':' + template.verb;
    if (!path.endsWith(suffix)) return undefined;
    path = path.slice(0, -suffix.length);
  }
  // A caller matching many templates splits (and decodes) the path once; a verb changes the path, so not then.
  const split = presplit !== undefined && template.verb === undefined ? presplit : splitPath(path);
  if (!split) return undefined;
  const { raw, decoded } = split;
  const segs = template.segments;
  const last = segs[segs.length - 1];
  const hasDeep = last?.kind === 'deep';
  if (hasDeep ? raw.length < segs.length : raw.length !== segs.length) return undefined;

  for (let n = 0; n < segs.length; n++) {
    const seg = segs[n]!;
    if (seg.kind === 'literal') {
      if ((decoded[n] ?? raw[n]) !== seg.value) return undefined;
    } else if (seg.kind === 'wildcard') {
      if (raw[n] === '') return undefined;
    } else {
      // `**` takes the rest; it must not be all empty.
      if (raw.slice(n).every((s) => s === '')) return undefined;
    }
  }

  const variables = new Map<string, string>();
  const malformed: string[] = [];
  for (const v of template.variables) {
    const end = hasDeep && v.end === segs.length ? raw.length : v.end;
    const parts = decoded.slice(v.start, end);
    const name = v.fieldPath.join('.');
    if (parts.some((p) => p === undefined)) {
      malformed.push(name);
      continue;
    }
    variables.set(name, parts.join('/'));
  }
  return { variables, malformed };
}

/**
 * Orders templates most specific first: segment by segment, a literal beats a
 * `*`, which beats a `**`; then more segments; then a verb. Negative when `a`
 * is more specific.
 */
export function compareSpecificity(a: PathTemplate, b: PathTemplate): number {
  const rank = (s: TemplateSegment | undefined) => (s === undefined ? 0 : s.kind === 'literal' ? 3 : s.kind === 'wildcard' ? 2 : 1);
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const d = rank(b.segments[i]) - rank(a.segments[i]);
    if (d !== 0) return d;
  }
  return (b.verb !== undefined ? 1 : 0) - (a.verb !== undefined ? 1 : 0);
}
