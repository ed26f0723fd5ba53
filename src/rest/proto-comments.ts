import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The comments written above declarations in `.proto` files, by full name:
 * `pkg.Message`, `pkg.Message.field`, `pkg.Service`, `pkg.Service.Method`,
 * `pkg.Enum`, `pkg.Enum.VALUE`.
 *
 * protoc-gen-es embeds descriptors without their source info, so the comments
 * (which `buf lint` requires on every element) are read from the sources. This
 * is a line scanner for the plain style `buf format` writes, not a parser: a
 * declaration it does not recognise just has no comment. A missing directory
 * gives an empty map (the comments only decorate documentation).
 */
export function readProtoComments(root: string): Map<string, string> {
  const comments = new Map<string, string>();
  for (const file of protoFiles(root)) scanFile(readFileSync(file, 'utf8'), comments);
  return comments;
}

function protoFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return protoFiles(path);
    return e.isFile() && e.name.endsWith('.proto') ? [path] : [];
  });
}

const scopeRe = /^(message|enum|service)\s+(\w+)\s*\{/;
const rpcRe = /^rpc\s+(\w+)\s*\(/;
const fieldRe = /^(?:(?:optional|repeated|required)\s+)?(?:map\s*<[^>]*>|[\w.]+)\s+(\w+)\s*=\s*\d+/;
const enumValueRe = /^([A-Z][A-Z0-9_]*)\s*=\s*-?\d+/;

function scanFile(text: string, out: Map<string, string>): void {
  let pkg = '';
  // Full names of the open braces; "" for a brace that names nothing (oneof, option, rpc body).
  const scopes: string[] = [];
  let pending: string[] = [];
  const parent = () => {
    for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i]) return scopes[i]!;
    return pkg;
  };
  const record = (name: string, trailing: string) => {
    // Lines of a paragraph join with spaces; an empty comment line separates paragraphs.
    const text = (pending.length > 0 ? pending : [trailing])
      .map((l) => l.trim())
      .join('\n')
      .replace(/([^\n])\n(?=[^\n])/g, '$1 ')
      .trim();
    if (text !== '') out.set(name, text);
  };

  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('//')) {
      pending.push(line.replace(/^\/\/ ?/, ''));
      continue;
    }
    if (line === '') {
      pending = [];
      continue;
    }
    const { code, comment: trailing } = splitLine(line);
    let named: string | undefined;

    const pkgMatch = /^package\s+([\w.]+)\s*;/.exec(code);
    const scope = scopeRe.exec(code);
    const rpc = rpcRe.exec(code);
    if (pkgMatch) {
      pkg = pkgMatch[1]!;
    } else if (scope) {
      named = `${parent() ? `${parent()}.` : ''}${scope[2]}`;
      record(named, trailing);
    } else if (rpc) {
      record(`${parent()}.${rpc[1]}`, trailing);
    } else if (scopes.length > 0) {
      // Fields (also inside a oneof) and enum values belong to the nearest named scope.
      const field = fieldRe.exec(code) ?? enumValueRe.exec(code);
      if (field && !/^(option|reserved|extensions)\b/.test(code)) record(`${parent()}.${field[1]}`, trailing);
    }
    pending = [];

    for (const ch of code) {
      if (ch === '{') {
        scopes.push(named ?? '');
        named = undefined;
      } else if (ch === '}') {
        scopes.pop();
      }
    }
  }
}

/**
 * The code of a line with its string literals emptied (so braces inside paths such as
 * "/users/{id}" are not counted), and its trailing `//` comment.
 */
function splitLine(line: string): { code: string; comment: string } {
  let code = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '"' || ch === "'") {
      code += '""';
      i = closingQuote(line, i);
    } else if (ch === '/' && line[i + 1] === '/') {
      return { code: code.trimEnd(), comment: line.slice(i + 2).replace(/^ /, '') };
    } else {
      code += ch;
    }
  }
  return { code: code.trimEnd(), comment: '' };
}

function closingQuote(line: string, start: number): number {
  const quote = line[start];
  for (let i = start + 1; i < line.length; i++) {
    if (line[i] === '\\') i++;
    else if (line[i] === quote) return i;
  }
  return line.length;
}
