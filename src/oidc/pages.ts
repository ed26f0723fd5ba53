import { createHash } from 'node:crypto';

/**
 * The front channel's pages: plain, accessible HTML forms that work without any script and load
 * nothing from anywhere else. The one script, /oidc/assets/passkey.js (served from this server;
 * the content policy allows no other, and nothing inline), only adds the passkey buttons, which
 * stay hidden without it. Every value from a request or the database goes through `esc`.
 */

const style = `
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2430}
main{max-width:24rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:.5rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin:0 0 1rem}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input[type=text],input[type=password]{box-sizing:border-box;width:100%;padding:.5rem;font:inherit;border:1px solid #8a93a3;border-radius:.25rem}
button{margin-top:1rem;padding:.5rem 1rem;font:inherit;border-radius:.25rem;border:1px solid #1f4fd1;background:#1f4fd1;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1f4fd1}
.error{padding:.5rem .75rem;border-left:4px solid #c62828;background:#fdecea}
p.hint{color:#4a5363;font-size:.9rem}
code{word-break:break-all}
ul.codes{font:1.05rem/1.6 ui-monospace,monospace;columns:2}
`;

/** The CSP hash source that allows exactly this stylesheet and nothing else inline. */
export const styleHash = `sha256-${createHash('sha256').update(style, 'utf8').digest('base64')}`;

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => entities[c]!);
}

/** Where the passkey script is served (routes.ts); the pages with a passkey button load it. */
export const passkeyScriptPath = '/oidc/assets/passkey.js';

export function layout(title: string, body: string, o: { script?: boolean } = {}): string {
  const script = o.script ? `<script src="${passkeyScriptPath}" defer></script>` : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin"><title>${esc(title)}</title><style>${style}</style>${script}</head>
<body><main>
${body}
</main></body>
</html>
`;
}

export function hidden(fields: Iterable<[string, string]>): string {
  return [...fields].map(([name, value]) => `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`).join('\n');
}

export function alert(message: string | undefined): string {
  return message ? `<p class="error" role="alert" id="form-error">${esc(message)}</p>` : '';
}

export interface SignInPage {
  /** The pending authorization request, carried through the form (re-validated when posted). */
  request: [string, string][];
  csrf: string;
  /** Who asks: the app's name, when there is a pending request. */
  appName?: string;
  identifier?: string;
  error?: string;
  allowRegistration: boolean;
}

/**
 * Identifier and password, submitted with Enter (the first button, "Sign in", is the form's
 * default); "Create account" registers where registration is open.
 */
export function signInPage(p: SignInPage): string {
  const described = p.error ? ' aria-describedby="form-error"' : '';
  const focusPassword = Boolean(p.identifier);
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
${p.appName ? `<p>to continue to <strong>${esc(p.appName)}</strong></p>` : ''}
${alert(p.error)}
<form method="post" action="/oidc/login">
${hidden([...p.request, ['csrf', p.csrf]])}
<label for="identifier">E-mail, phone or username</label>
<input type="text" id="identifier" name="identifier" autocomplete="username" required value="${esc(p.identifier ?? '')}"${described}${focusPassword ? '' : ' autofocus'}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${described}${focusPassword ? ' autofocus' : ''}>
<button type="submit">Sign in</button>
${p.allowRegistration ? '<button type="submit" class="secondary" name="register" value="1">Create account</button>\n<p class="hint">New here? Enter your e-mail, phone or username and a password of 8 characters or more, then choose "Create account".</p>' : ''}
</form>
${passkeyForm({ action: '/oidc/passkey', mode: 'login', carry: p.request, csrf: p.csrf, label: 'Sign in with a passkey' })}`,
    { script: true },
  );
}

/**
 * A passkey button for the passkey script: the form is hidden until the script shows it (with no
 * script or no WebAuthn there is no passkey button, and the other forms work alone). On a click
 * the script asks /oidc/passkey/options for `mode`'s options, lets the browser make or use the
 * credential, puts its JSON in `passkey` and submits the form, whose answer is a page or a
 * redirect like any form's.
 */
export function passkeyForm(p: {
  action: string;
  mode: 'login' | 'second' | 'enroll' | 'register';
  carry: [string, string][];
  csrf: string;
  label: string;
  fields?: string;
}): string {
  return `<form method="post" action="${esc(p.action)}" data-passkey="${p.mode}" hidden>
${hidden([...p.carry, ['csrf', p.csrf], ['passkey', '']])}
${p.fields ?? ''}<button type="button" class="secondary">${esc(p.label)}</button>
<p class="hint" role="status" data-passkey-status></p>
</form>`;
}

export function errorPage(title: string, message: string): string {
  return layout(title, `<h1>${esc(title)}</h1>\n<p role="alert">${esc(message)}</p>`);
}

/** RP-initiated logout without proof of who asks: the user confirms (OpenID Connect RP-Initiated Logout 1.0, 2). */
export function logoutConfirmPage(p: { carry: [string, string][]; csrf: string; appName?: string }): string {
  return layout(
    'Sign out',
    `<h1>Sign out?</h1>
<p>${p.appName ? `<strong>${esc(p.appName)}</strong> asks to end your single sign-on session.` : 'End your single sign-on session?'}
You will be signed out of every app you signed in to through it.</p>
<form method="post" action="/oidc/logout">
${hidden([...p.carry, ['csrf', p.csrf]])}
<button type="submit" name="confirm" value="yes">Sign out</button>
</form>`,
  );
}

export function signedOutPage(): string {
  return layout('Signed out', '<h1>You are signed out</h1>\n<p>Your single sign-on session has ended. You may close this window.</p>');
}

export function signedInPage(): string {
  return layout(
    'Signed in',
    '<h1>You are signed in</h1>\n<p>Return to the app you came from to continue.</p>\n<p><a href="/oidc/account">Manage how you sign in</a> (authenticator app, passkeys).</p>',
  );
}
