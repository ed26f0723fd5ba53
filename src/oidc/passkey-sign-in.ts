import type { AuthenticationResponseJSON } from '../auth/webauthn.js';
import { AppError } from '../errors/index.js';
import { sessionPrincipal } from './account.js';
import { refuse, showSignIn } from './authorize.js';
import type { FrontChannel } from './context.js';
import { readParams, type Req, type Res } from './http.js';
import { parsePasskeyJson } from './passkey-json.js';
import { pendingRequest, signedIn } from './signed-in.js';

function sendJson(res: Res, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

/**
 * `POST /oidc/passkey/options`: WebAuthn options for the passkey script, by `mode`:
 * `login` (passwordless: any discoverable passkey), `second` (the held sign-in's user's
 * passkeys), `enroll` (a new passkey for a held sign-in the policy asks to enrol), `register`
 * (a new passkey of the signed-in user, on the account page). Each challenge is stored, single-use
 * and bound to what it is for, as the API's are. CSRF-checked like the forms: the script sends
 * the page's token, and a fetch names our origin.
 */
export async function passkeyOptions(d: FrontChannel, req: Req, res: Res): Promise<void> {
  const form = await readParams(req);
  if (!d.csrf.check(req, form)) return sendJson(res, 403, { message: 'This page has expired or was opened from another site. Reload it.' });
  const expired = () => sendJson(res, 401, { message: 'Your sign-in has expired. Please sign in again.' });
  const mode = form.get('mode');
  try {
    if (mode === 'login') return sendJson(res, 200, { options: await d.mfa.completion.passkeyChallenge('') });
    if (mode === 'second' || mode === 'enroll') {
      const mfaToken = d.held.token(req);
      if (!mfaToken) return expired();
      const options =
        mode === 'second'
          ? await d.mfa.completion.passkeyChallenge(mfaToken)
          : (await d.mfa.completion.enroll(mfaToken, 'passkey', d.clientOf(req))).passkeyOptions;
      return sendJson(res, 200, { options });
    }
    if (mode === 'register') {
      const session = await d.sessions.current(req);
      if (!session) return sendJson(res, 401, { message: 'You are signed out. Sign in again to add a passkey.' });
      return sendJson(res, 200, { options: await d.mfa.own.passkeyOptions(sessionPrincipal(session)) });
    }
    return sendJson(res, 400, { message: 'Unknown passkey mode.' });
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    if (e.reason === 'INVALID_MFA_TOKEN') return expired();
    return sendJson(res, 400, { message: e.message });
  }
}

/**
 * `POST /oidc/passkey`: "Sign in with a passkey" on the first screen (passwordless, a
 * discoverable credential names its user). Carried request and CSRF as the password form; the
 * assertion is checked, counted and audited as the API's LoginWithPasskey. A passkey that
 * verified its user (PIN, biometric) is two factors (amr hwk, user, mfa).
 */
export async function passkeySignIn(d: FrontChannel, req: Req, res: Res): Promise<void> {
  const form = await readParams(req);
  const pending = await pendingRequest(d, form);
  if ('refused' in pending) return refuse(d, res, pending.refused);
  const { request } = pending;
  const again = (status: number, error: string, headers?: Record<string, string>) =>
    showSignIn(d, req, res, request, { status, error, headers });
  if (!d.csrf.check(req, form)) return again(403, 'This sign-in form has expired or was sent from another site. Please sign in again.');
  const assertion = parsePasskeyJson<AuthenticationResponseJSON>(form.get('passkey') ?? '');
  if (!assertion) return again(400, "The passkey's answer could not be read. Please try again.");
  let proven;
  try {
    proven = await d.mfa.completion.passkeySignIn(assertion, d.clientOf(req));
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    if (e.reason === 'TOO_MANY_ATTEMPTS') return again(429, e.message, e.headers);
    if (e.reason === 'INVALID_SECOND_FACTOR') return again(401, 'That passkey could not sign you in.');
    if (e.reason === 'USER_INACTIVE') return again(403, 'This account is deactivated. Ask your administrator.');
    if (e.reason === 'MFA_REQUIRED') {
      return again(403, 'This passkey did not verify you (no PIN or biometric). Sign in with your password, then use the passkey.');
    }
    throw e;
  }
  await signedIn(d, req, res, request, { userId: proven.user.id, amr: proven.amr });
}
