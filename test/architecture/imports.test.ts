import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The import graph of src/, read from the source text (no compiler, milliseconds): every
 * `import … from`, `export … from`, side-effect `import '…'` and dynamic `import('…')`, type-only
 * ones included (a type import is still an arrow between layers). Arrows point down only:
 * server → services → domain → db → auth (see docs/architecture.md).
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

// An import clause: default, namespace, named, or default with named/namespace.
const clause = String.raw`(?:[\w$]+\s*,\s*)?(?:\*\s+as\s+[\w$]+|\{[^}]*\}|[\w$]+)`;
const staticImport = new RegExp(String.raw`^\s*import\s+(?:type\s+)?${clause}\s+from\s*['"]([^'"]+)['"]`, 'gm');
const reExport = /^\s*export\s+(?:type\s+)?(?:\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s+from\s*['"]([^'"]+)['"]/gm;
const sideEffectImport = /^\s*import\s*['"]([^'"]+)['"]/gm;
const dynamicImport = /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The specifiers a file imports, in any of the four forms. */
function specifiersOf(text: string): string[] {
  return [staticImport, reExport, sideEffectImport, dynamicImport].flatMap((re) => [...text.matchAll(re)].map((m) => m[1]!));
}

/** The file a relative specifier names (`./x.js` is `./x.ts`, `./x.tsx` or `./x/index.ts`); undefined when none exists. */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  const stem = base.replace(/\.js$/, '');
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, join(stem, 'index.ts'), join(stem, 'index.tsx')];
  return candidates.find((c) => /\.tsx?$/.test(c) && existsSync(c) && statSync(c).isFile());
}

const isAsset = (from: string, specifier: string) =>
  !/\.(?:[cm]?[jt]sx?)$/.test(specifier) && /\.\w+$/.test(specifier) && existsSync(resolve(dirname(from), specifier));

interface Graph {
  /** file (relative to src/) → the files under src/ it imports */
  edges: Map<string, Set<string>>;
  /** relative imports that name no file */
  unresolved: string[];
}

function importGraph(): Graph {
  const edges = new Map<string, Set<string>>();
  const unresolved: string[] = [];
  for (const file of sourceFiles(src)) {
    const from = relative(src, file);
    const targets = new Set<string>();
    for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue; // a package
      const target = resolveSpecifier(file, specifier);
      if (target === undefined) {
        // An asset the bundler loads (the console's stylesheet) is no arrow between modules.
        if (!isAsset(file, specifier)) unresolved.push(`${from} → ${specifier}`);
      } else if (target.startsWith(src)) targets.add(relative(src, target));
    }
    edges.set(from, targets);
  }
  return { edges, unresolved };
}

/** Strongly connected components of more than one file, or a file importing itself (Tarjan). */
function cycles(edges: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || edges.get(v)?.has(v)) found.push(component.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** The layer of a file: its first directory under src/, or the file itself (main.ts, config.ts). */
const layerOf = (file: string) => file.split('/')[0]!.replace(/\.tsx?$/, '');

/** Which layers each layer must not import from. */
const forbidden: Record<string, string[]> = {
  domain: ['interceptors', 'server', 'services', 'rest', 'oidc', 'console'],
  services: ['server'],
  db: ['domain', 'services', 'interceptors', 'rest', 'oidc', 'console', 'server', 'cli', 'main'],
  auth: ['db', 'domain', 'services', 'server'],
  // Only the server wires: nothing it starts imports it back.
  oidc: ['server'],
  rest: ['server'],
  console: ['server'],
  interceptors: ['server', 'services'],
};

describe('the import graph of src/', () => {
  const graph = importGraph();

  it('is read from every file', () => {
    assert.ok(graph.edges.size > 100, `only ${graph.edges.size} files found under ${src}`);
    assert.deepEqual(graph.unresolved, [], `relative imports that name no file:\n${graph.unresolved.join('\n')}`);
  });

  it('has no cycle', () => {
    const described = cycles(graph.edges).map((component) => {
      const inside = new Set(component);
      const arrows = component.flatMap((from) =>
        [...graph.edges.get(from)!].filter((to) => inside.has(to)).map((to) => `  ${from} → ${to}`),
      );
      return `${component.join(', ')}:\n${arrows.join('\n')}`;
    });
    assert.deepEqual(described, [], `import cycles:\n${described.join('\n')}`);
  });

  it('points only down: nothing but the server itself imports the server, domain nothing above it, db nothing from domain up, auth nothing of db/domain/services', () => {
    const offending: string[] = [];
    for (const [from, targets] of graph.edges) {
      const banned = forbidden[layerOf(from)] ?? [];
      for (const to of targets) if (banned.includes(layerOf(to))) offending.push(`${from} → ${to}`);
    }
    assert.deepEqual(offending.sort(), [], `imports against the layers:\n${offending.sort().join('\n')}`);
  });
});

describe('reading imports', () => {
  it('finds every form, across lines, and nothing in plain text', () => {
    const text = [
      `import a from './a.js';`,
      `import type { B } from "./b.js";`,
      `import c, { d } from './c.js';`,
      `import * as e from './e.js';`,
      `import {\n  f,\n  type G,\n} from './f.js';`,
      `import './side-effect.js';`,
      `export { h } from './h.js';`,
      `export * from './i.js';`,
      `export type { J } from './j.js';`,
      `const k = await import('./k.js');`,
      `const sql = "SELECT x FROM 'users'"; // import nothing from './no.js'`,
    ].join('\n');
    assert.deepEqual(specifiersOf(text).sort(), [
      './a.js',
      './b.js',
      './c.js',
      './e.js',
      './f.js',
      './h.js',
      './i.js',
      './j.js',
      './k.js',
      './side-effect.js',
    ]);
  });

  it('finds a cycle and names its files', () => {
    const edges = new Map([
      ['a.ts', new Set(['b.ts'])],
      ['b.ts', new Set(['c.ts'])],
      ['c.ts', new Set(['a.ts'])],
      ['d.ts', new Set(['d.ts'])],
      ['e.ts', new Set(['a.ts'])],
    ]);
    assert.deepEqual(cycles(edges), [['a.ts', 'b.ts', 'c.ts'], ['d.ts']]);
  });
});
