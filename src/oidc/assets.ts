import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { projectFile } from '../project-files.js';
import type { Req, Res } from './http.js';

/**
 * The hosted pages' static files, read once at start and served from memory: the passkey script
 * (assets/passkey.js). Its own origin is the only place the content policy lets a page load a
 * script from (no CDN, nothing inline). Revalidated by ETag, so a new version is picked up at once.
 */
const passkeyScript = readFileSync(projectFile('src/oidc/assets/passkey.js'));
const etag = `"${createHash('sha256').update(passkeyScript).digest('base64url').slice(0, 27)}"`;

/** `GET /oidc/assets/passkey.js`. */
export function passkeyScriptFile(_d: unknown, req: Req, res: Res): void {
  const headers = {
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': 'no-cache',
    etag,
    'x-content-type-options': 'nosniff',
    'cross-origin-resource-policy': 'same-origin',
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    return void res.end();
  }
  res.writeHead(200, { ...headers, 'content-length': passkeyScript.length });
  if (req.method === 'HEAD') return void res.end();
  res.end(passkeyScript);
}
