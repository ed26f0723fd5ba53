// Helpers for the front-channel tests: a tiny browser (cookie jar, no redirects followed), the
// forms of the hosted pages, PKCE, and apps registered as OpenID Connect clients.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { TestServer } from '../support/server.js';

/** One browser: keeps cookies per name (every path here is under the server), follows no redirect. */
export class Browser {
  readonly jar = new Map<string, string>();
  /** Set-Cookie headers of the last answer, as sent. */
  lastSetCookies: string[] = [];

  constructor(
    private readonly base: string,
    private readonly origin = base,
  ) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.send(path, { method: 'GET', headers });
  }

  /** A form post from our own page (Origin = the server) unless headers say otherwise. */
  async post(path: string, form: Record<string, string> | [string, string][], headers: Record<string, string> = {}): Promise<Response> {
    return this.send(path, {
      method: 'POST',
      headers: { origin: this.origin, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  }

  private async send(path: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<Response> {
    const headers = { ...init.headers };
    if (this.jar.size && !('cookie' in headers)) headers.cookie = [...this.jar].map(([n, v]) => `${n}=${v}`).join('; ');
    const res = await fetch(path.startsWith('http') ? path : this.base + path, { ...init, headers, redirect: 'manual' });
    this.lastSetCookies = res.headers.getSetCookie();
    for (const line of this.lastSetCookies) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return res;
  }
}

/**
 * The hidden fields of one of the page's forms, unescaped: the first form, or the first posting
 * to `action` (pages have several: the password form, the passkey button's, a recovery code's).
 */
export function hiddenFields(html: string, action?: string): [string, string][] {
  const unescape = (s: string) =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  const forms = [...html.matchAll(/<form [^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)];
  const form = action === undefined ? forms[0] : forms.find((f) => f[1] === action);
  return [...(form?.[2] ?? html).matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [
    unescape(m[1]!),
    unescape(m[2]!),
  ]);
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The parameters of a redirect's Location. */
export function locationOf(res: Response): URL {
  assert.equal(res.status, 302, `expected a redirect, got ${res.status}`);
  return new URL(res.headers.get('location')!);
}

export interface TestClient {
  id: string;
  name: string;
  redirectUri: string;
  postLogoutUri: string;
}

/**
 * Registers an app through the API and makes it a client by setting the client columns in SQL
 * (the app API is gaining these fields in parallel).
 */
export async function createClientApp(
  server: TestServer,
  adminToken: string,
  o: {
    name: string;
    clientType?: 'public' | 'confidential';
    origin?: string;
    allowedScopes?: string[];
  },
): Promise<TestClient> {
  const res = await server.rest('/api/sso/v1/apps', { method: 'POST', token: adminToken, json: { name: o.name } });
  assert.equal(res.status, 200, await res.clone().text());
  const app = (await res.json()) as { id: string };
  const origin = o.origin ?? `https://${o.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.example.test`;
  const client = { id: app.id, name: o.name, redirectUri: `${origin}/callback`, postLogoutUri: `${origin}/signed-out` };
  await server.app.database.dataSource.query(
    `UPDATE apps SET redirect_uris = $2, post_logout_redirect_uris = $3, client_type = $4, allowed_scopes = $5 WHERE id = $1`,
    [
      client.id,
      [client.redirectUri],
      [client.postLogoutUri],
      o.clientType ?? 'confidential',
      o.allowedScopes ?? ['openid', 'profile', 'email', 'offline_access'],
    ],
  );
  return client;
}

export async function assign(server: TestServer, adminToken: string, appId: string, userId: string): Promise<void> {
  const res = await server.rest(`/api/sso/v1/apps/${appId}/users/${userId}`, { method: 'POST', token: adminToken, json: {} });
  assert.equal(res.status, 200, await res.clone().text());
}

/** Registers (or logs in) a user through the API: its id and an access token. */
export async function apiUser(server: TestServer, identifier: string, secret: string): Promise<{ id: string; token: string }> {
  const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier, secret, register: true } });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as { access_token: string; user: { id: string } };
  return { id: body.user.id, token: body.access_token };
}

/** An authorization request's query. */
export function authorizeQuery(client: TestClient, extra: Record<string, string> = {}): string {
  return new URLSearchParams({
    client_id: client.id,
    redirect_uri: client.redirectUri,
    response_type: 'code',
    scope: 'openid',
    ...extra,
  }).toString();
}

/** Starts an authorization request, answers the sign-in page, and returns the answer to the form. */
export async function signInThrough(
  browser: Browser,
  query: string,
  identifier: string,
  password: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  const page = await browser.get(`/oidc/authorize?${query}`);
  assert.equal(page.status, 200, 'the sign-in page');
  const html = await page.text();
  return browser.post('/oidc/login', [...hiddenFields(html), ['identifier', identifier], ['password', password], ...Object.entries(extra)]);
}
