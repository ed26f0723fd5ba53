import { gzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { CONSOLE_CLIENT_ID, CONSOLE_PATH } from '../domain/oidc/first-party.js';
import type { ConsoleBundle } from './bundle.js';

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

/**
 * The console's headers. The page runs only its own script (no inline script or style, so an
 * injected string cannot run), talks only to this origin, cannot be framed (its buttons rotate
 * keys and revoke sessions: no clickjacking), and sends no referrer (the sign-in's `code`
 * briefly sits in its URL).
 */
const securityHeaders: Record<string, string> = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

const escapeAttr = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The one HTML page: everything else is the script's. The issuer and client id travel as meta tags. */
function page(bundle: ConsoleBundle, issuer: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="sso-issuer" content="${escapeAttr(issuer)}">
<meta name="sso-client-id" content="${CONSOLE_CLIENT_ID}">
<title>SSO console</title>
<link rel="stylesheet" href="${CONSOLE_PATH}${bundle.style.name}">
<script type="module" src="${CONSOLE_PATH}${bundle.script.name}"></script>
</head>
<body>
<div id="app"><p class="boot" role="status">Loading the console…</p></div>
<noscript><p>The console needs JavaScript.</p></noscript>
</body>
</html>
`;
}

interface Asset {
  body: Buffer;
  gzipped: Buffer;
  type: string;
  immutable: boolean;
}

/**
 * `GET /console/` (the page, and the redirect URI the sign-in comes back to) and its two
 * content-hashed files. Answers true when the path was the console's.
 */
export function createConsoleRoutes(opts: { issuer: string; bundle: Promise<ConsoleBundle> }) {
  const issuer = opts.issuer.replace(/\/+$/, '');
  const assets = opts.bundle.then((bundle) => {
    const asset = (body: Buffer, type: string, immutable: boolean): Asset => ({ body, gzipped: gzipSync(body), type, immutable });
    return new Map<string, Asset>([
      [CONSOLE_PATH, asset(Buffer.from(page(bundle, issuer)), 'text/html; charset=utf-8', false)],
      [`${CONSOLE_PATH}${bundle.script.name}`, asset(bundle.script.body, 'text/javascript; charset=utf-8', true)],
      [`${CONSOLE_PATH}${bundle.style.name}`, asset(bundle.style.body, 'text/css; charset=utf-8', true)],
    ]);
  });
  // An unhandled rejection would end the process; the failure is reported on use instead.
  assets.catch(() => {});

  return async (req: Req, res: Res): Promise<boolean> => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path !== '/console' && !path.startsWith(CONSOLE_PATH)) return false;
    if (path === '/console') {
      res.writeHead(308, { location: CONSOLE_PATH, ...securityHeaders });
      res.end();
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', ...securityHeaders });
      res.end('Method not allowed.\n');
      return true;
    }
    const asset = (await assets).get(path);
    if (!asset) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...securityHeaders });
      res.end('Not found.\n');
      return true;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? asset.gzipped : asset.body;
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': String(body.length),
      // The page names the current files by hash, so it must not be cached; they may be, forever.
      'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-store',
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      ...securityHeaders,
    });
    if (req.method === 'HEAD') res.end();
    else res.end(body);
    return true;
  };
}
