// Serves the browser example from its own origin: index.html and app.js, the latter bundled in
// memory by esbuild from app.ts (no CDN, nothing fetched from the internet).
//
//   npx tsx examples/browser/serve.ts
//
// then open http://localhost:5173/?sso=http://localhost:8000, with the SSO server started as
//   SSO_CORS_ORIGINS=http://localhost:5173 npm start
// Environment: PORT (default 5173), HOST (default localhost).
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));

/** app.ts and everything it imports, as one ES module for browsers. */
export async function bundleApp(): Promise<string> {
  const out = await build({
    entryPoints: [`${here}app.ts`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

export interface ExampleServer {
  /** The page's origin, e.g. `http://127.0.0.1:5173`. */
  origin: string;
  close(): Promise<void>;
}

/** Bundles the app, then serves the page and the bundle on `host:port` (0 = any free port). */
export async function startExampleServer(opts: { port?: number; host?: string } = {}): Promise<ExampleServer> {
  const [html, js] = await Promise.all([readFile(`${here}index.html`, 'utf8'), bundleApp()]);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
    } else if (path === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(js);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  const host = opts.host ?? 'localhost';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 5173, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { origin } = await startExampleServer({ port: Number(process.env.PORT ?? 5173), host: process.env.HOST ?? 'localhost' });
  console.log(`Browser example on ${origin}/?sso=http://localhost:8000`);
  console.log(`Start the SSO server with SSO_CORS_ORIGINS=${origin}`);
}
