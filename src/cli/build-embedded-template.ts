/**
 * Builds the embedded database's prepared template (src/db/embedded-template.ts) if it is not
 * there yet: run by `npm install` (postinstall) and, when that did not happen, by the server's
 * first start in a child process, so initdb's memory stays in this short-lived process.
 * `--if-possible` (postinstall) turns a failure into a warning: the server can still run initdb.
 */
import { openDatabase } from '../db/data-source.js';
import { buildTemplate } from '../db/embedded-template.js';

async function main(): Promise<void> {
  const started = Date.now();
  const dir = await buildTemplate(async (dataDir) => {
    const db = await openDatabase({ kind: 'embedded', dataDir, template: false });
    await db.close();
  });
  console.log(`embedded database template ready in ${Date.now() - started} ms: ${dir}`);
}

main().catch((error: unknown) => {
  const optional = process.argv.includes('--if-possible');
  console.error(optional ? `warning: no embedded database template (the first start will run initdb): ${String(error)}` : error);
  process.exitCode = optional ? 0 : 1;
});
