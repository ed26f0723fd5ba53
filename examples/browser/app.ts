// The browser side of the example: logs in with Connect-Web and calls GetMe on another origin.
// Bundled by serve.ts with esbuild. `sso/client/web` is the browser variant (a bundler targeting
// browsers also picks it for plain `sso/client`, through the `browser` export condition).
import { Code, ConnectError } from '@connectrpc/connect';
import { createSsoClients } from 'sso/client/web';

const form = document.querySelector<HTMLFormElement>('#login')!;
const result = document.querySelector<HTMLPreElement>('#result')!;
const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;

// `?sso=` names the server (the test passes its own); otherwise USSO's documented address.
field('sso').value = new URLSearchParams(location.search).get('sso') ?? 'http://localhost:8000';

/** Shows the outcome; `data-state` tells automation (and people) that the call has finished. */
function show(state: 'ok' | 'error', value: unknown) {
  result.textContent = JSON.stringify(value, null, 2);
  result.dataset.state = state;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  delete result.dataset.state;
  result.textContent = 'Logging in…';
  const sso = createSsoClients({
    baseUrl: field('sso').value,
    transport: (form.elements.namedItem('transport') as HTMLSelectElement).value as 'connect' | 'grpc-web',
  });
  try {
    const login = await sso.auth.login({
      identifier: field('identifier').value,
      secret: field('secret').value,
      register: field('register').checked,
    });
    sso.setToken(login.accessToken);
    const { user } = await sso.auth.getMe({});
    show('ok', {
      id: user?.id,
      identifier: user?.identifiers[0]?.identifier,
      isAdmin: user?.isAdmin,
      sessionId: login.sessionId,
    });
  } catch (err) {
    // A refused CORS preflight surfaces as a failed fetch: the browser never sends the call.
    const e = ConnectError.from(err);
    show('error', { code: Code[e.code], message: e.rawMessage });
  }
});
