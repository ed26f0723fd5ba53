import { validateAuthorizationRequest, type AuthorizationRequest, type Refusal } from './authorization-request.js';
import { grant } from './authorize.js';
import type { FrontChannel } from './context.js';
import { recoveryCodesPage } from './factor-pages.js';
import { pageHeaders, sendHtml, type Req, type Res } from './http.js';
import { signedInPage, styleHash } from './pages.js';

/**
 * The pending authorization request a posted form carries, validated again from scratch (a form
 * is the user's, or an attacker's, to edit); none when the form is a sign-in at the SSO itself.
 */
export async function pendingRequest(
  d: FrontChannel,
  form: URLSearchParams,
): Promise<{ request?: AuthorizationRequest } | { refused: Refusal }> {
  if (!form.has('client_id')) return {};
  const checked = await validateAuthorizationRequest(d.db, form);
  return 'refused' in checked ? checked : { request: checked.ok };
}

/**
 * Every step of a sign-in on the hosted pages is proven (a password, a second factor, or a
 * passkey; `amr` says which): the browser's SSO session starts (or is renewed), and the pending
 * authorization request resumes: a code for the app and the redirect. Recovery codes that came
 * with a factor enrolled on the way are shown first, once, with a link that resumes the request.
 * Without a request, the page says the user is signed in.
 */
export async function signedIn(
  d: FrontChannel,
  req: Req,
  res: Res,
  request: AuthorizationRequest | undefined,
  proven: { userId: string; amr: readonly string[]; recoveryCodes?: string[] },
): Promise<void> {
  const { sessionId, setCookie } = await d.sessions.signedIn(await d.sessions.current(req), proven.userId, d.clientOf(req), proven.amr);
  // The held step's cookie is left to expire: its token is spent (single-use) and the cookie lives
  // no longer than the token; a redirect here can carry only the session's cookie (grant).
  if (proven.recoveryCodes?.length) {
    const html = recoveryCodesPage({ codes: proven.recoveryCodes, continueHref: request ? resumeUri(request) : '/oidc/account' });
    return sendHtml(res, 200, html, { ...pageHeaders(styleHash), 'set-cookie': setCookie });
  }
  if (request) return grant(d, req, res, request, { id: sessionId, userId: proven.userId, authTime: new Date() }, { setCookie });
  sendHtml(res, 200, signedInPage(), { ...pageHeaders(styleHash), 'set-cookie': setCookie });
}

/**
 * The authorization request again, once the user has read their recovery codes: without
 * `prompt`, which the sign-in that just happened answered (prompt=login would ask again).
 */
export function resumeUri(request: AuthorizationRequest): string {
  return `/oidc/authorize?${new URLSearchParams(request.carried.filter(([name]) => name !== 'prompt')).toString()}`;
}
