import { createHash } from 'node:crypto';
import { build } from 'esbuild';
import { projectFile } from '../project-files.js';

/** The console's built files: one script, one stylesheet, each named by its content hash. */
export interface ConsoleBundle {
  /** `app-<hash>.js`, `app-<hash>.css`: immutable under their names. */
  script: { name: string; body: Buffer };
  style: { name: string; body: Buffer };
}

const entry = projectFile('src/console/app/main.tsx');

let bundled: Promise<ConsoleBundle> | undefined;

/**
 * Builds the console from its sources in this checkout with esbuild, in memory, once per
 * process: no build step to forget and no stale files, nothing fetched from anywhere (Preact,
 * Connect-Web and the generated clients come from node_modules and gen/). esbuild is written in
 * Go and runs beside Node, so the build (a few hundred milliseconds) overlaps opening the
 * database at start.
 */
export function bundleConsole(): Promise<ConsoleBundle> {
  bundled ??= buildConsole().catch((e: unknown) => {
    bundled = undefined;
    throw e;
  });
  return bundled;
}

async function buildConsole(): Promise<ConsoleBundle> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    outdir: '/console',
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'none',
    // Only the browser variant of the clients is wanted (and nothing of Node).
    conditions: ['browser'],
    logLevel: 'silent',
  });
  const js = out.outputFiles.find((f) => f.path.endsWith('.js'));
  const css = out.outputFiles.find((f) => f.path.endsWith('.css'));
  if (!js || !css) throw new Error('the console bundle lacks its script or stylesheet');
  const named = (ext: string, body: Uint8Array) => ({
    name: `app-${createHash('sha256').update(body).digest('base64url').slice(0, 12)}.${ext}`,
    body: Buffer.from(body),
  });
  return { script: named('js', js.contents), style: named('css', css.contents) };
}
