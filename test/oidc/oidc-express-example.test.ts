// The OpenID Connect Express example (examples/oidc-express), started with its one command
// against the SSO, driven the way a browser would be: fetch following redirects by hand with a
// cookie jar per host, the hosted sign-in form filled from its HTML. It signs the user in (code +
// PKCE through openid-client 6, discovery from the SSO), shows the claims, signs in again without
// a password while the SSO session lasts, and logs out through the end_session endpoint, after
// which `prompt=none` answers login_required.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../support/server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const password = 'Password123!x';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A minimal browser: cookies per host (names are all distinct here), redirects followed by hand. */
class Browser {
  readonly jar = new Map<string, Map<string, string>>();
  /** Every URL loaded, in order (redirects included). */
  readonly visited: string[] = [];

  private store(url: URL, res: Response) {
    const jar = this.jar.get(url.hostname) ?? new Map<string, string>();
    this.jar.set(url.hostname, jar);
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some(
        (a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now()),
      );
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  cookies(host: string): Map<string, string> {
    return this.jar.get(host) ?? new Map();
  }

  /** Loads `url` (GET, or POST of a form), follows redirects, answers the final URL and page. */
  async load(url: string, form?: { body: URLSearchParams; origin: string }): Promise<{ url: string; status: number; html: string }> {
    let target = new URL(url);
    let init: RequestInit = form
      ? {
          method: 'POST',
          body: form.body.toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: form.origin },
        }
      : { method: 'GET' };
    for (let hops = 0; hops < 20; hops++) {
      this.visited.push(target.href);
      const cookie = [...this.cookies(target.hostname)].map(([k, v]) => `${k}=${v}`).join('; ');
      const headers = new Headers(init.headers);
      if (cookie) headers.set('cookie', cookie);
      const res = await fetch(target, { ...init, headers, redirect: 'manual' });
      this.store(target, res);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        target = new URL(location, target);
        init = { method: 'GET' };
        continue;
      }
      return { url: target.href, status: res.status, html: await res.text() };
    }
    throw new Error(`too many redirects: ${this.visited.join(' → ')}`);
  }

  /** Submits the page's form (the first one) with `fields` filled in, as pressing Enter would. */
  async submit(page: { url: string; html: string }, fields: Record<string, string>) {
    const form = /<form\b[^>]*>([\s\S]*?)<\/form>/i.exec(page.html);
    assert.ok(form, `no form on ${page.url}`);
    const action = /action="([^"]*)"/i.exec(form[0])?.[1] ?? page.url;
    const body = new URLSearchParams();
    for (const input of form[1]!.matchAll(/<input\b[^>]*>/gi)) {
      const name = /name="([^"]*)"/i.exec(input[0])?.[1];
      if (!name) continue;
      body.set(name, unescapeHtml(/value="([^"]*)"/i.exec(input[0])?.[1] ?? ''));
    }
    for (const [k, v] of Object.entries(fields)) body.set(k, v);
    const to = new URL(unescapeHtml(action), page.url);
    return this.load(to.href, { body, origin: to.origin });
  }
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCharCode(parseInt(n, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

const claimsOf = (html: string): Record<string, any> | undefined => {
  const pre = /<pre id="claims">([\s\S]*?)<\/pre>/.exec(html);
  return pre ? JSON.parse(unescapeHtml(pre[1]!)) : undefined;
};

describe('examples/oidc-express runs with one command (npx tsx examples/oidc-express/main.ts)', () => {
  let sso: TestServer;
  let child: ChildProcess | undefined;
  let appUrl = '';
  let ssoOrigin = '';
  let userId = '';
  let clientId = '';

  before(async () => {
    // openid-client checks that the discovery document's issuer is the URL it was given.
    const ssoPort = await freePort();
    ssoOrigin = `http://127.0.0.1:${ssoPort}`;
    sso = await startTestServer({ port: ssoPort, issuer: ssoOrigin });
    const json = async (res: Response) => {
      assert.ok(res.ok, `${res.status} ${await res.clone().text()}`);
      return res.json() as Promise<any>;
    };
    const admin = (
      await json(
        await sso.rest('/api/sso/v1/auth/login', {
          method: 'POST',
          json: { identifier: 'admin@example.com', secret: password, register: true },
        }),
      )
    ).access_token;
    await json(
      await sso.rest('/api/sso/v1/users', {
        method: 'POST',
        token: admin,
        json: { identifiers: [{ identifier: 'alice@example.com' }], password },
      }),
    );
    userId = (
      await json(await sso.rest('/api/sso/v1/auth/login', { method: 'POST', json: { identifier: 'alice@example.com', secret: password } }))
    ).user.id;

    // The app on its own origin (localhost, another port): registered with its redirect URIs.
    const appPort = await freePort();
    appUrl = `http://localhost:${appPort}`;
    const app = await json(
      await sso.rest('/api/sso/v1/apps', {
        method: 'POST',
        token: admin,
        json: {
          name: 'Example RP',
          redirect_uris: [`${appUrl}/callback`],
          post_logout_redirect_uris: [`${appUrl}/`],
          client_type: 'confidential',
        },
      }),
    );
    clientId = app.client_id;
    assert.equal(typeof app.client_secret, 'string');
    await json(await sso.rest(`/api/sso/v1/apps/${app.id}/users/${userId}`, { method: 'POST', token: admin, json: {} }));

    child = spawn(process.execPath, ['--import', 'tsx', 'examples/oidc-express/main.ts'], {
      cwd: root,
      env: { ...process.env, SSO_URL: ssoOrigin, CLIENT_ID: clientId, CLIENT_SECRET: app.client_secret, PORT: String(appPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c;
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no "listening" line in 30 s: ${out} ${stderr}`)), 30_000);
      child!.stdout!.on('data', (c: Buffer) => {
        out += c;
        if (out.includes(`listening on ${appUrl}`)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child!.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code}: ${stderr}`));
      });
    });
  });
  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await sso?.stop();
  });

  test('sign in through the hosted page, see the claims, sign in again without a password, log out at the SSO', async () => {
    const browser = new Browser();
    const home = await browser.load(`${appUrl}/`);
    assert.match(home.html, /not signed in/);

    // /login → the SSO's authorization endpoint → the hosted sign-in page.
    const signIn = await browser.load(`${appUrl}/login`);
    assert.equal(new URL(signIn.url).origin, ssoOrigin, signIn.url);
    assert.match(signIn.html, /name="identifier"/);
    assert.match(signIn.html, /type="password"/);
    const authorize = new URL(browser.visited.find((u) => u.includes('/oidc/authorize'))!);
    assert.equal(authorize.searchParams.get('client_id'), clientId);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorize.searchParams.get('response_type'), 'code');

    // The form, as pressing Enter sends it → back at the app's callback → its home page.
    const signedIn = await browser.submit(signIn, { identifier: 'alice@example.com', password });
    assert.equal(signedIn.url, `${appUrl}/`, `${signedIn.status} ${signedIn.html}`);
    const claims = claimsOf(signedIn.html);
    assert.ok(claims, signedIn.html);
    assert.equal(claims.sub, userId);
    assert.equal(claims.email, 'alice@example.com');
    assert.equal(claims.iss, ssoOrigin);
    assert.equal(claims.aud, clientId);
    assert.ok(browser.cookies('127.0.0.1').has('usso-session'), 'the SSO session cookie');

    // Signed out here only (a new app cookie): the SSO session signs the user in without a page.
    browser.jar.delete('localhost');
    const before = browser.visited.length;
    const again = await browser.load(`${appUrl}/login`);
    assert.equal(again.url, `${appUrl}/`);
    assert.equal(claimsOf(again.html)?.sub, userId);
    assert.ok(!browser.visited.slice(before).some((u) => new URL(u).pathname === '/oidc/login'), browser.visited.slice(before).join('\n'));

    // /logout → end_session with id_token_hint → back at the registered post-logout URI.
    const out = await browser.load(`${appUrl}/logout`);
    assert.equal(out.url, `${appUrl}/`, `${out.status} ${out.html}`);
    assert.match(out.html, /not signed in/);
    const endSession = new URL(browser.visited.find((u) => u.includes('/oidc/logout'))!);
    assert.ok(endSession.searchParams.get('id_token_hint'));
    assert.equal(endSession.searchParams.get('post_logout_redirect_uri'), `${appUrl}/`);

    // The SSO session is over: prompt=none comes back with login_required.
    const silent = await browser.load(`${appUrl}/login?prompt=none`);
    assert.equal(silent.status, 401);
    assert.match(silent.html, /<p id="error">login_required<\/p>/);
  });
});
