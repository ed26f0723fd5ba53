import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The SQL the repositories send, read from their source text, so a test can have PostgreSQL
 * prepare every statement against the migrated schema: a repository that names a column or table
 * the migrations never made fails there, not on the first request that reaches it.
 *
 * Interpolations are filled in where the source says what they are: a constant (`${columns}`,
 * also one imported from a sibling repository, and a local `const where = '…'`) or a call of a
 * repository function with literal arguments (`${grantColumns(null)}`). A statement put together
 * at run time (`${sets.join(', ')}`) cannot be read this way and is returned as `dynamic`.
 */
const directory = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/db/repositories');

export interface Statement {
  /** The repository file. */
  file: string;
  sql: string;
}

export interface RepositoryStatements {
  statements: Statement[];
  /** `file: start of the text` of each statement with a part known only at run time. */
  dynamic: string[];
}

const sqlStart = /^\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH)\b/;

export async function repositoryStatements(): Promise<RepositoryStatements> {
  const files = readdirSync(directory).filter((f) => f.endsWith('.ts'));
  const sources = new Map(files.map((f) => [f, readFileSync(join(directory, f), 'utf8')]));
  const modules = new Map<string, Record<string, unknown>>();
  for (const f of files) modules.set(f, await import(join(directory, f)));
  const found = new Map([...sources].map(([f, text]) => [f, literals(text)]));

  /**
   * The `const name = '…'` in scope at `at` in `file`: a local one of the same function, else a
   * module-level one, else the one in the sibling it is imported from.
   */
  const constant = (name: string, file: string, at: number): string | undefined => {
    const text = sources.get(file)!;
    const functionStart = Math.max(-1, ...[...text.slice(0, at).matchAll(/^(?:export\s+)?(?:async\s+)?function\b/gm)].map((m) => m.index!));
    const definition = new RegExp(String.raw`(?:^|\n)([ \t]*)(?:export\s+)?const\s+${name}\s*=\s*$`);
    const defined = found
      .get(file)!
      .filter((l) => {
        const m = l.at < at ? definition.exec(text.slice(Math.max(0, l.at - 300), l.at)) : null;
        // Indented: a local of some function, which must be the one `at` is in.
        return m !== null && (m[1] === '' || l.at > functionStart);
      })
      .pop();
    if (defined) return expand(defined.value, file, defined.at);
    const sibling = sourceOfImport(text, name);
    return sibling && sources.has(sibling) ? constant(name, sibling, Number.POSITIVE_INFINITY) : undefined;
  };

  /** A call of an exported repository function with literal arguments (`null`, `'$2'`). */
  const call = (expr: string, file: string): string | undefined => {
    const m = /^(\w+)\(((?:null|'[^']*')(?:\s*,\s*(?:null|'[^']*'))*)?\)$/.exec(expr);
    if (!m) return undefined;
    const owner = sources.get(file)!.includes(`export function ${m[1]}(`) ? file : sourceOfImport(sources.get(file)!, m[1]!);
    const fn = owner ? modules.get(owner)?.[m[1]!] : undefined;
    if (typeof fn !== 'function') return undefined;
    const args = (m[2] ?? '').split(',').flatMap((a) => (a.trim() === '' ? [] : [a.trim() === 'null' ? null : a.trim().slice(1, -1)]));
    const value = fn(...args);
    return typeof value === 'string' ? value : undefined;
  };

  const expand = (text: string, file: string, at: number): string | undefined => {
    let complete = true;
    const out = text.replace(/\$\{([^{}]*)\}/g, (_, expr: string) => {
      const value = /^\w+$/.test(expr.trim()) ? constant(expr.trim(), file, at) : call(expr.trim(), file);
      if (value === undefined) complete = false;
      return value ?? '';
    });
    return complete ? out : undefined;
  };

  const statements: Statement[] = [];
  const dynamic: string[] = [];
  for (const [file, list] of found) {
    for (const { value, at } of list) {
      const sql = expand(value, file, at);
      if (sql !== undefined && sqlStart.test(sql)) statements.push({ file, sql });
      else if (sql === undefined && (sqlStart.test(value) || /^\$\{\w+\}\s/.test(value))) {
        dynamic.push(`${file}: ${value.replace(/\s+/g, ' ').slice(0, 70)}`);
      }
    }
  }
  return { statements, dynamic };
}

/** The sibling file (`x.ts`) a name is imported from: `import { name } from './x.js'`. */
function sourceOfImport(text: string, name: string): string | undefined {
  const m = new RegExp(String.raw`import\s*\{[^}]*\b${name}\b[^}]*\}\s*from\s*'\./([\w-]+)\.js'`).exec(text);
  return m ? `${m[1]}.ts` : undefined;
}

/** Every string and template literal in a source (comments skipped), with its offset; a template keeps its `${…}` as written. */
export function literals(text: string): { value: string; at: number }[] {
  const out: { value: string; at: number }[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      const end = c === '`' ? endOfTemplate(text, i) : endOfString(text, i);
      out.push({ value: text.slice(i + 1, end), at: i });
      i = end + 1;
    } else {
      i++;
    }
  }
  return out;
}

function endOfString(text: string, start: number): number {
  let j = start + 1;
  while (j < text.length && text[j] !== text[start]) j += text[j] === '\\' ? 2 : 1;
  return j;
}

function endOfTemplate(text: string, start: number): number {
  let j = start + 1;
  while (j < text.length && text[j] !== '`') {
    if (text[j] === '\\') j += 2;
    else if (text[j] === '$' && text[j + 1] === '{') j = endOfInterpolation(text, j + 2) + 1;
    else j++;
  }
  return j;
}

function endOfInterpolation(text: string, start: number): number {
  let depth = 1;
  let j = start;
  while (j < text.length) {
    const c = text[j];
    if (c === "'" || c === '"') j = endOfString(text, j);
    else if (c === '`') j = endOfTemplate(text, j);
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return j;
    j++;
  }
  return j;
}
