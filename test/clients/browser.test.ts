// Headless Chromium (Debian `chromium`, driven by playwright-core) loads the browser example from a
// second origin; its Connect-Web clients log in and call GetMe on the SSO server because CORS lists
// that origin. The same page from an origin the server does not list is refused by the browser.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startExampleServer, type ExampleServer } from '../../examples/browser/serve.js';
import { startTestServer, type TestServer } from '../support/server.js';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface Outcome {
  state: string;
  value: any;
  /** The page's console, where Chromium explains a CORS refusal. */
  console: string[];
  /** Calls the page sent to the SSO server: method, path and Origin. */
  calls: { method: string; path: string; origin: string | undefined }[];
}

describe('Connect-Web in headless Chromium, from another origin', () => {
  let browser: Browser;
  let allowedPage: ExampleServer;
  let refusedPage: ExampleServer;
  let sso: TestServer;

  before(async () => {
    // Two origins serving the same page: they differ by port.
    [allowedPage, refusedPage] = await Promise.all([
      startExampleServer({ port: 0, host: '127.0.0.1' }),
      startExampleServer({ port: 0, host: '127.0.0.1' }),
    ]);
    sso = await startTestServer({ corsOrigins: [allowedPage.origin] });
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    await Promise.all([allowedPage?.close(), refusedPage?.close()]);
    await sso?.stop();
  });

  /** Opens the page on `origin`, submits the form, and waits for the page to report the outcome. */
  async function logInFrom(
    origin: string,
    form: { identifier: string; secret: string; transport: 'connect' | 'grpc-web' },
  ): Promise<Outcome> {
    const context = await browser.newContext();
    const page: Page = await context.newPage();
    const outcome: Outcome = { state: '', value: undefined, console: [], calls: [] };
    page.on('console', (m) => outcome.console.push(m.text()));
    // allHeaders() includes what the network stack adds, such as Origin.
    const seen: Promise<void>[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(sso.url)) return;
      seen.push(
        r.allHeaders().then((h) => {
          outcome.calls.push({ method: r.method(), path: new URL(r.url()).pathname, origin: h.origin });
        }),
      );
    });
    try {
      await page.goto(`${origin}/?sso=${encodeURIComponent(sso.url)}`);
      assert.equal(new URL(page.url()).origin, origin);
      await page.fill('input[name=identifier]', form.identifier);
      await page.fill('input[name=secret]', form.secret);
      await page.selectOption('select[name=transport]', form.transport);
      await page.click('button[type=submit]');
      const result = await page.waitForSelector('#result[data-state]', { timeout: 30_000 });
      outcome.state = (await result.getAttribute('data-state')) ?? '';
      outcome.value = JSON.parse((await result.textContent()) ?? 'null');
      await Promise.all(seen);
      return outcome;
    } finally {
      await context.close();
    }
  }

  test('the page and the server are on different origins', () => {
    assert.notEqual(new URL(sso.url).origin, allowedPage.origin);
    assert.notEqual(refusedPage.origin, allowedPage.origin);
  });

  test('a listed origin: Connect-Web registers, logs in and calls GetMe', async () => {
    const outcome = await logInFrom(allowedPage.origin, {
      identifier: 'user@example.com',
      secret: 'SecurePassword123!',
      transport: 'connect',
    });
    assert.equal(outcome.state, 'ok', JSON.stringify(outcome));
    assert.equal(outcome.value.identifier, 'user@example.com');
    assert.equal(outcome.value.isAdmin, true);
    assert.match(outcome.value.id, /^[0-9a-f-]{36}$/);
    // The calls went to the other origin, as Connect RPCs, carrying the page's Origin.
    const rpcs = outcome.calls.filter((c) => c.method === 'POST').map((c) => c.path);
    assert.deepEqual(rpcs, ['/sso.auth.v1.AuthService/Login', '/sso.auth.v1.AuthService/GetMe']);
    assert.ok(
      outcome.calls.every((c) => c.origin === allowedPage.origin),
      JSON.stringify(outcome.calls),
    );
  });

  test('a listed origin: the same over gRPC-Web', async () => {
    const outcome = await logInFrom(allowedPage.origin, {
      identifier: 'web@example.com',
      secret: 'WebPassword123!',
      transport: 'grpc-web',
    });
    assert.equal(outcome.state, 'ok', JSON.stringify(outcome));
    assert.equal(outcome.value.identifier, 'web@example.com');
    assert.equal(outcome.value.isAdmin, false);
  });

  test('a listed origin: a wrong password is reported as the server said (unauthenticated)', async () => {
    const outcome = await logInFrom(allowedPage.origin, {
      identifier: 'user@example.com',
      secret: 'WrongPassword123!',
      transport: 'connect',
    });
    assert.equal(outcome.state, 'error');
    assert.equal(outcome.value.code, 'Unauthenticated');
  });

  test('an origin the server does not list: the browser refuses, nothing is created', async () => {
    const outcome = await logInFrom(refusedPage.origin, {
      identifier: 'refused@example.com',
      secret: 'RefusedPassword123!',
      transport: 'connect',
    });
    assert.equal(outcome.state, 'error', JSON.stringify(outcome));
    assert.ok(
      outcome.console.some((line) => /blocked by CORS policy/.test(line)),
      outcome.console.join('\n'),
    );
    // Only the preflight may have reached the server; the Login call itself never left the browser.
    assert.ok(
      outcome.calls.every((c) => c.method === 'OPTIONS' || c.path === '/sso.auth.v1.AuthService/Login'),
      JSON.stringify(outcome.calls),
    );
    const login = await sso.rest('/api/sso/v1/auth/login', {
      method: 'POST',
      json: { identifier: 'refused@example.com', secret: 'RefusedPassword123!' },
    });
    assert.equal(login.status, 401, 'the user was not registered');
  });
});
