import type { RegistrationResponseJSON } from '../auth/webauthn.js';
import { holderOf } from '../domain/factors/enrolment.js';
import type { Principal } from '../domain/principal.js';
import { AppError } from '../errors/index.js';
import { showSignIn } from './authorize.js';
import type { FrontChannel } from './context.js';
import { accountPage, recoveryCodesPage, totpSetupPage, type AccountPage } from './factor-pages.js';
import { pageHeaders, readParams, sendHtml, type Req, type Res } from './http.js';
import { parsePasskeyJson } from './passkey-json.js';
import { styleHash } from './pages.js';
import type { BrowserSession } from './sso-session.js';

/**
 * The account page at the SSO (`/oidc/account`): a user signed in here (the SSO session's cookie)
 * sees how they sign in and adds an authenticator app or a passkey. It goes through OwnFactors,
 * the same rules as FactorService's own-factor calls: adding needs only the session (it asks more
 * of the next sign-in, never less); removing a factor needs proof of one and stays with the API.
 * Every post is CSRF-checked like the sign-in form.
 */

/**
 * The signed-in browser's user as OwnFactors' caller. OwnFactors asks only who it is and how it
 * proved itself (an API key may manage no factors; an SSO session may, as a token's session).
 */
export function sessionPrincipal(session: Pick<BrowserSession, 'id' | 'userId'>): Principal {
  return { kind: 'user', id: session.userId, isAdmin: false, scopes: [], roles: [], via: 'sso_session', sessionId: session.id };
}

type Page = (d: FrontChannel, req: Req, res: Res, session: BrowserSession, form: URLSearchParams) => Promise<void>;

/** The signed-in browser's session, else the sign-in page; a post must pass the CSRF check first. */
function signedInOnly(handle: Page) {
  return async (d: FrontChannel, req: Req, res: Res): Promise<void> => {
    const form = await readParams(req);
    const session = await d.sessions.current(req);
    if (!session)
      return showSignIn(d, req, res, undefined, {
        status: req.method === 'GET' ? 200 : 401,
        error: req.method === 'GET' ? undefined : 'You are signed out. Please sign in again.',
      });
    if (req.method !== 'GET' && !d.csrf.check(req, form)) {
      return showAccount(d, req, res, session, {
        status: 403,
        error: 'This form has expired or was sent from another site. Please try again.',
      });
    }
    await handle(d, req, res, session, form);
  };
}

/** A page of this browser's CSRF token (made once here, so the cookie and the form agree). */
function send(d: FrontChannel, req: Req, res: Res, status: number, render: (csrf: string) => string): void {
  const { token, setCookie } = d.csrf.token(req);
  sendHtml(res, status, render(token), { ...pageHeaders(styleHash), ...(setCookie ? { 'set-cookie': setCookie } : {}) });
}

async function showAccount(
  d: FrontChannel,
  req: Req,
  res: Res,
  session: BrowserSession,
  o: { status: number; notice?: string; error?: string },
): Promise<void> {
  const principal = sessionPrincipal(session);
  const [{ summary, passkeys, required }, holder] = await Promise.all([d.mfa.own.list(principal), holderOf(d.db, session.userId)]);
  const page: Omit<AccountPage, 'csrf'> = {
    identifier: holder.identifier,
    totp: summary.totp,
    passkeys,
    recoveryCodesLeft: summary.recoveryCodesLeft,
    required,
    notice: o.notice,
    error: o.error,
  };
  send(d, req, res, o.status, (csrf) => accountPage({ ...page, csrf }));
}

/** Recovery codes that came with the user's first factor (once), else the account page saying what was added. */
function added(d: FrontChannel, req: Req, res: Res, session: BrowserSession, codes: string[], notice: string): Promise<void> | void {
  if (codes.length) return send(d, req, res, 200, () => recoveryCodesPage({ codes, continueHref: '/oidc/account' }));
  return showAccount(d, req, res, session, { status: 200, notice });
}

/** `GET /oidc/account`. */
export const account = signedInOnly((d, req, res, session) => showAccount(d, req, res, session, { status: 200 }));

/** `POST /oidc/account/totp`: a new TOTP secret, shown this once, pending until its first code. */
export const startTotp = signedInOnly(async (d, req, res, session) => {
  let otpauthUri: string;
  try {
    otpauthUri = await d.mfa.own.startTotp(sessionPrincipal(session), d.clientOf(req));
  } catch (e) {
    if (e instanceof AppError && e.reason === 'TOTP_ALREADY_ENROLLED')
      return showAccount(d, req, res, session, { status: 409, error: 'An authenticator app is already set up.' });
    throw e;
  }
  send(d, req, res, 200, (csrf) => totpSetupPage({ csrf, otpauthUri }));
});

/** `POST /oidc/account/totp/confirm`: the pending TOTP's first code (counted, as every code is). */
export const confirmTotp = signedInOnly(async (d, req, res, session, form) => {
  const code = (form.get('code') ?? '').replace(/\s/g, '');
  const retry = (status: number, error: string) => send(d, req, res, status, (csrf) => totpSetupPage({ csrf, error }));
  if (!code) return retry(400, 'Enter the code your authenticator app shows.');
  let codes: string[];
  try {
    codes = await d.mfa.own.confirmTotp(sessionPrincipal(session), code, d.clientOf(req));
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    if (e.reason === 'INVALID_SECOND_FACTOR') return retry(401, 'That code is not correct.');
    if (e.reason === 'TOO_MANY_ATTEMPTS') return retry(429, e.message);
    if (e.reason === 'TOTP_NOT_PENDING')
      return showAccount(d, req, res, session, {
        status: 400,
        error: 'No authenticator app is waiting to be confirmed: set one up first.',
      });
    throw e;
  }
  return added(d, req, res, session, codes, 'Authenticator app added.');
});

/** `POST /oidc/account/passkey`: a passkey the script made with options of mode `register`. */
export const registerPasskey = signedInOnly(async (d, req, res, session, form) => {
  const registration = parsePasskeyJson<RegistrationResponseJSON>(form.get('passkey') ?? '');
  if (!registration)
    return showAccount(d, req, res, session, { status: 400, error: "The passkey's answer could not be read. Please try again." });
  let codes: string[];
  try {
    ({ recoveryCodes: codes } = await d.mfa.own.registerPasskey(
      sessionPrincipal(session),
      registration,
      form.get('name') ?? '',
      d.clientOf(req),
    ));
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    if (e.reason === 'INVALID_PASSKEY')
      return showAccount(d, req, res, session, { status: 400, error: 'The passkey could not be registered. Please try again.' });
    if (e.reason === 'PASSKEY_TAKEN')
      return showAccount(d, req, res, session, { status: 409, error: 'That passkey is already registered.' });
    throw e;
  }
  return added(d, req, res, session, codes, 'Passkey added.');
});
