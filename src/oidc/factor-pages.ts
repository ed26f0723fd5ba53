import { alert, esc, hidden, layout, passkeyForm } from './pages.js';

/**
 * The hosted pages of second factors: a sign-in's second step, enrolling a factor when the MFA
 * policy asks for one, the recovery codes shown once, and the account page where a signed-in user
 * adds an authenticator app or a passkey. Plain forms like the sign-in page's; only the passkey
 * buttons need the passkey script.
 */

/** What every form of a held sign-in carries: the pending authorization request and the CSRF token. */
interface Carried {
  carry: [string, string][];
  csrf: string;
  /** Who asks: the app's name, when there is a pending request. */
  appName?: string;
  error?: string;
}

function forApp(appName: string | undefined): string {
  return appName ? `<p>to continue to <strong>${esc(appName)}</strong></p>\n` : '';
}

/**
 * A code field: a TOTP code is digits (a numeric keypad on phones) that browsers and password
 * managers may fill in from an SMS-less authenticator (`one-time-code`).
 */
function codeField(o: { label: string; error?: string }): string {
  const described = o.error ? ' aria-describedby="form-error"' : '';
  return `<label for="code">${esc(o.label)}</label>
<input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9 ]{6,8}" maxlength="8" required autofocus${described}>`;
}

/** The factors of `factors` (LoginGate.factorsOf) the user may complete the sign-in with. */
export function secondStepPage(p: Carried & { factors: string[] }): string {
  const totp = p.factors.includes('totp');
  const parts = [`<h1>Two-step verification</h1>\n${forApp(p.appName)}${alert(p.error)}`];
  if (totp) {
    parts.push(`<form method="post" action="/oidc/mfa">
${hidden([...p.carry, ['csrf', p.csrf]])}
${codeField({ label: 'Code from your authenticator app', error: p.error })}
<button type="submit">Verify</button>
</form>`);
  }
  if (p.factors.includes('passkey')) {
    parts.push(passkeyForm({ action: '/oidc/mfa', mode: 'second', carry: p.carry, csrf: p.csrf, label: 'Use a passkey' }));
  }
  if (p.factors.includes('recovery_code')) {
    // Folded away behind the usual factor; open when it is the only one without a script.
    parts.push(`<details${totp ? '' : ' open'}><summary>Use a recovery code</summary>
<form method="post" action="/oidc/mfa">
${hidden([...p.carry, ['csrf', p.csrf]])}
<label for="recovery_code">Recovery code</label>
<input type="text" id="recovery_code" name="recovery_code" autocomplete="off" autocapitalize="characters" spellcheck="false" required>
<button type="submit">Use recovery code</button>
</form>
</details>`);
  }
  return layout('Two-step verification', parts.join('\n'), { script: true });
}

/** A new TOTP secret, for an authenticator app: the key to type, and the otpauth URI (a phone opens it in the app). */
function totpSecret(otpauthUri: string): string {
  const secret = new URL(otpauthUri).searchParams.get('secret') ?? '';
  return `<p>Add this account to your authenticator app with this key:</p>
<p><code id="totp-secret">${esc(secret.replace(/(.{4})/g, '$1 ').trim())}</code></p>
<p class="hint">Or, on a device with the app, open <a href="${esc(otpauthUri)}"><code id="otpauth-uri">${esc(otpauthUri)}</code></a></p>`;
}

/**
 * Enrolment at sign-in, for a user the MFA policy covers who has no factor yet: the new TOTP
 * secret (shown this once; after a wrong code the page asks again without it), confirmed by a
 * first code, or a passkey instead.
 */
export function enrolPage(p: Carried & { otpauthUri?: string }): string {
  return layout(
    'Set up two-step verification',
    `<h1>Set up two-step verification</h1>
${forApp(p.appName)}<p>Your organisation asks you to sign in with a second factor from now on.</p>
${alert(p.error)}
${p.otpauthUri ? totpSecret(p.otpauthUri) : '<p class="hint">Enter the code your authenticator app shows now. To start over with a new key, sign in again.</p>'}
<form method="post" action="/oidc/mfa">
${hidden([...p.carry, ['csrf', p.csrf]])}
${codeField({ label: 'Code from your authenticator app', error: p.error })}
<button type="submit">Confirm</button>
</form>
${passkeyForm({ action: '/oidc/mfa', mode: 'enroll', carry: p.carry, csrf: p.csrf, label: 'Use a passkey instead' })}`,
    { script: true },
  );
}

/** Recovery codes, which come with the first factor and are shown only this once. */
export function recoveryCodesPage(p: { codes: string[]; continueHref: string }): string {
  return layout(
    'Save your recovery codes',
    `<h1>Save your recovery codes</h1>
<p>Each code signs you in once if you lose your authenticator app or passkey. They are shown only
now: print them or keep them in a password manager.</p>
<ul class="codes" id="recovery-codes">
${p.codes.map((c) => `<li><code>${esc(c)}</code></li>`).join('\n')}
</ul>
<p><a href="${esc(p.continueHref)}" id="continue">I saved them: continue</a></p>`,
  );
}

export interface AccountPage {
  csrf: string;
  identifier: string;
  totp: boolean;
  passkeys: { name: string; createdAt: Date; lastUsedAt: Date | null }[];
  recoveryCodesLeft: number;
  /** Whether the MFA policy asks this user for a second factor. */
  required: boolean;
  notice?: string;
  error?: string;
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** The signed-in user's ways of signing in, and adding one (removing one needs proof: the API's). */
export function accountPage(p: AccountPage): string {
  const passkeys = p.passkeys.length
    ? `<ul id="passkeys">\n${p.passkeys.map((k) => `<li>${esc(k.name)} <span class="hint">added ${day(k.createdAt)}${k.lastUsedAt ? `, last used ${day(k.lastUsedAt)}` : ''}</span></li>`).join('\n')}\n</ul>`
    : '<p id="passkeys">No passkey yet.</p>';
  return layout(
    'How you sign in',
    `<h1>How you sign in</h1>
<p>Signed in as <strong>${esc(p.identifier)}</strong>.${p.required ? ' Your organisation asks you for a second factor.' : ''}</p>
${p.notice ? `<p role="status">${esc(p.notice)}</p>` : ''}${alert(p.error)}
<h2>Authenticator app</h2>
${
  p.totp
    ? '<p id="totp-status">Set up: its codes are your second step.</p>'
    : `<form method="post" action="/oidc/account/totp">
${hidden([['csrf', p.csrf]])}
<button type="submit">Set up an authenticator app</button>
</form>`
}
<h2>Passkeys</h2>
${passkeys}
${passkeyForm({
  action: '/oidc/account/passkey',
  mode: 'register',
  carry: [],
  csrf: p.csrf,
  label: 'Add a passkey',
  fields:
    '<label for="passkey-name">Name of the new passkey</label>\n<input type="text" id="passkey-name" name="name" maxlength="100" placeholder="e.g. Laptop">\n',
})}
<h2>Recovery codes</h2>
<p id="recovery-left">${p.recoveryCodesLeft} unused.</p>
<p class="hint">Removing a factor or replacing recovery codes needs proof of a current one: use the API (FactorService).</p>
<p><a href="/oidc/logout">Sign out</a></p>`,
    { script: true },
  );
}

/** The account page's TOTP enrolment: the new secret (once), then its first code. */
export function totpSetupPage(p: { csrf: string; otpauthUri?: string; error?: string }): string {
  return layout(
    'Set up an authenticator app',
    `<h1>Set up an authenticator app</h1>
${alert(p.error)}
${p.otpauthUri ? totpSecret(p.otpauthUri) : '<p class="hint">Enter the code your authenticator app shows now. To start over with a new key, go back to <a href="/oidc/account">your account</a>.</p>'}
<form method="post" action="/oidc/account/totp/confirm">
${hidden([['csrf', p.csrf]])}
${codeField({ label: 'Code from your authenticator app', error: p.error })}
<button type="submit">Confirm</button>
</form>`,
  );
}
