import { mayUseClient } from '../domain/oidc/clients.js';
import { issueCode } from '../domain/oidc/codes.js';
import { responseUri, validateAuthorizationRequest, type AuthorizationRequest, type Refusal } from './authorization-request.js';
import type { FrontChannel } from './context.js';
import { pageHeaders, readParams, redirect, sendHtml, type Req, type Res } from './http.js';
import { errorPage, signInPage, styleHash } from './pages.js';
import type { BrowserSession } from './sso-session.js';

/** `GET|POST /oidc/authorize`: the authorization endpoint (OpenID Connect Core 3.1.2). */
export async function authorize(d: FrontChannel, req: Req, res: Res): Promise<void> {
  const checked = await validateAuthorizationRequest(d.db, await readParams(req));
  if ('refused' in checked) return refuse(d, res, checked.refused);
  await grant(d, req, res, checked.ok, await d.sessions.current(req));
}

/**
 * Answers a valid authorization request for the browser's SSO session: a code for the app when
 * the session may be used as it is, the sign-in page when the user must (re)authenticate, or
 * `login_required` where no page may be shown (prompt=none). `signedIn` is set right after the
 * user signed in on the page: that sign-in is as fresh as any prompt or max_age can ask, and its
 * cookie goes with the answer.
 */
export async function grant(
  d: FrontChannel,
  req: Req,
  res: Res,
  request: AuthorizationRequest,
  session: Pick<BrowserSession, 'id' | 'userId' | 'authTime'> | undefined,
  signedIn?: { setCookie: string },
): Promise<void> {
  if (!signedIn && (!session || mustSignIn(request, session))) {
    if (request.prompt.has('none')) {
      return refuse(d, res, back(request, 'login_required', 'The user must sign in; prompt=none forbids asking.'));
    }
    return showSignIn(d, req, res, request, { status: 200, identifier: request.loginHint });
  }
  const browser = session!;
  const client = d.clientOf(req);
  const cookieHeader: Record<string, string> = signedIn ? { 'set-cookie': signedIn.setCookie } : {};
  // The administrator decides who may use an app: the same rule as POST /verify and audience
  // logins (a first-party client, the console, needs no assignment: see mayUseClient).
  if (!(await mayUseClient(d.db, request.client, browser.userId))) {
    await d.audit.record({
      type: 'authorize',
      outcome: 'failure',
      actorId: browser.userId,
      identifier: request.client.id,
      reason: 'APP_NOT_ASSIGNED',
      ...client,
    });
    return refuse(d, res, back(request, 'access_denied', 'The user is not assigned to this application.'), cookieHeader);
  }
  const code = await issueCode(d.db, {
    clientId: request.client.id,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    nonce: request.nonce,
    scopes: request.scopes,
    userId: browser.userId,
    browserSessionId: browser.id,
  });
  await d.audit.record({ type: 'authorize', outcome: 'success', actorId: browser.userId, identifier: request.client.id, ...client });
  redirect(res, responseUri(request.redirectUri, { code, state: request.state, iss: d.issuer }), cookieHeader);
}

/** prompt=login (or select_account), or an authentication older than max_age. */
function mustSignIn(request: AuthorizationRequest, session: Pick<BrowserSession, 'authTime'>): boolean {
  if (request.prompt.has('login') || request.prompt.has('select_account')) return true;
  if (request.maxAge === undefined) return false;
  return (Date.now() - session.authTime.getTime()) / 1000 > request.maxAge;
}

function back(request: AuthorizationRequest, error: string, description: string): Refusal {
  return { kind: 'redirect', redirectUri: request.redirectUri, state: request.state, error, description };
}

/**
 * A refusal: a plain page (400) while the client and redirect URI are unproven, otherwise back
 * to the client with `error`, `error_description`, `state` and `iss` (RFC 6749 4.1.2.1, RFC 9207).
 */
export function refuse(d: FrontChannel, res: Res, refusal: Refusal, headers: Record<string, string> = {}): void {
  if (refusal.kind === 'page') {
    return sendHtml(res, 400, errorPage('Sign-in request refused', refusal.message), { ...pageHeaders(styleHash), ...headers });
  }
  redirect(
    res,
    responseUri(refusal.redirectUri, {
      error: refusal.error,
      error_description: refusal.description,
      state: refusal.state,
      iss: d.issuer,
    }),
    headers,
  );
}

/** The hosted sign-in page for a pending request (or none: a sign-in at the SSO itself). */
export function showSignIn(
  d: FrontChannel,
  req: Req,
  res: Res,
  request: AuthorizationRequest | undefined,
  o: { status: number; identifier?: string; error?: string; headers?: Record<string, string> },
): void {
  const { token, setCookie } = d.csrf.token(req);
  const html = signInPage({
    request: request?.carried ?? [],
    csrf: token,
    appName: request?.client.name,
    identifier: o.identifier,
    error: o.error,
    allowRegistration: d.allowRegistration,
  });
  // The form's answer may redirect to the app, so its origin is a permitted form target.
  const headers: Record<string, string | string[]> = { ...pageHeaders(styleHash, request ? [request.redirectUri] : []), ...o.headers };
  if (setCookie) headers['set-cookie'] = setCookie;
  sendHtml(res, o.status, html, headers);
}
