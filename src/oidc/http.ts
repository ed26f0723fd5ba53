import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

export type Req = IncomingMessage | Http2ServerRequest;
export type Res = ServerResponse | Http2ServerResponse;

/** A form body larger than this is not a sign-in or an authorization request. */
const maxFormBytes = 64 * 1024;

/** Why a request could not be read: answered as a plain 4xx page. */
export class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The request's parameters: the query of a GET, the urlencoded form of a POST (OAuth 2.0 and
 * OpenID Connect send both ways). Other bodies are refused, so a JSON or multipart request
 * cannot smuggle parameters past what a browser form would send.
 */
export async function readParams(req: Req): Promise<URLSearchParams> {
  const params = req.method === 'GET' || req.method === 'HEAD' ? new URL(req.url ?? '/', 'http://x').searchParams : await readForm(req);
  // A NUL is nobody's identifier, state or nonce, and the database cannot store it.
  for (const [name, value] of params)
    if (name.includes('\0') || value.includes('\0')) throw new BadRequest(400, 'The request contains a NUL character.');
  return params;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

async function readForm(req: Req): Promise<URLSearchParams> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new BadRequest(415, 'Send the form as application/x-www-form-urlencoded.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxFormBytes) throw new BadRequest(413, 'The form is too large.');
    chunks.push(chunk);
  }
  let text: string;
  try {
    text = utf8.decode(Buffer.concat(chunks));
  } catch {
    throw new BadRequest(400, 'The form is not valid UTF-8.');
  }
  return new URLSearchParams(text);
}

/** The request's cookies by name; the first of a repeated name wins, as browsers send the most specific first. */
export function cookiesOf(req: Req): Map<string, string> {
  const found = new Map<string, string>();
  const header = req.headers.cookie;
  if (typeof header !== 'string') return found;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !found.has(name)) found.set(name, part.slice(eq + 1).trim());
  }
  return found;
}

export interface CookieOptions {
  path: string;
  sameSite: 'Lax' | 'Strict';
  secure: boolean;
  /** Seconds; 0 deletes the cookie; undefined makes it last as long as the browser session. */
  maxAge?: number;
}

/** Always HttpOnly: no script of any page needs these cookies, and none may read them. */
export function cookie(name: string, value: string, o: CookieOptions): string {
  return [
    `${name}=${value}`,
    `Path=${o.path}`,
    'HttpOnly',
    `SameSite=${o.sameSite}`,
    ...(o.secure ? ['Secure'] : []),
    ...(o.maxAge !== undefined ? [`Max-Age=${o.maxAge}`] : []),
  ].join('; ');
}

/**
 * Headers of every front-channel answer: never cached (they carry codes, CSRF tokens and
 * per-user pages), never framed (clickjacking of the sign-in and logout forms), no referrer to
 * other sites (URLs here carry authorization parameters; `same-origin`, not `no-referrer`, which
 * would make browsers send `Origin: null` on our own form posts and defeat the Origin check), and
 * a content policy that allows nothing but our
 * own inline style, by hash, scripts from our own origin (the one passkey script: nothing inline,
 * nothing from elsewhere), and form posts to ourselves and to where the form's answer may
 * redirect (browsers apply form-action to redirects after a form submission).
 */
export function pageHeaders(styleHash: string, formTargets: string[] = []): Record<string, string> {
  const targets = ["'self'", ...new Set(formTargets.map(cspSource).filter((s): s is string => s !== undefined))];
  return {
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'content-security-policy': [
      "default-src 'self'",
      "script-src 'self'",
      `style-src '${styleHash}'`,
      "img-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      `form-action ${targets.join(' ')}`,
      "frame-ancestors 'none'",
    ].join('; '),
  };
}

/** A redirect target as a CSP source: its origin, or its scheme for a native app's custom scheme. */
function cspSource(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.origin !== 'null') return u.origin;
    return /^[a-z][a-z0-9+.-]*:$/i.test(u.protocol) ? u.protocol : undefined;
  } catch {
    return undefined;
  }
}

export function sendHtml(res: Res, status: number, html: string, headers: Record<string, string | string[]>): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), ...headers });
  res.end(html);
}

/** 302 (RFC 6749 allows any redirect; 302 is what every client follows for a GET). */
export function redirect(res: Res, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', pragma: 'no-cache', 'referrer-policy': 'no-referrer', ...headers });
  res.end();
}
