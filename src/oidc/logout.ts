import { findSession } from '../db/repositories/sessions.js';
import { findClient, type OidcClient } from '../domain/oidc/clients.js';
import { isUuid } from '../domain/paging.js';
import { AppError } from '../errors/index.js';
import { responseUri } from './authorization-request.js';
import type { FrontChannel } from './context.js';
import { pageHeaders, readParams, redirect, sendHtml, type Req, type Res } from './http.js';
import { errorPage, logoutConfirmPage, signedOutPage, styleHash } from './pages.js';

/**
 * `GET|POST /oidc/logout`: the end_session_endpoint (OpenID Connect RP-Initiated Logout 1.0).
 *
 * - `id_token_hint` must be an ID token this server signed (an expired one is fine: hints are
 *   often old; a tampered one is refused with a page). It names the client (`aud`) and, as
 *   `sid`, the SSO session the app was signed in under, which it may end even when the browser
 *   does not send the SSO cookie (a cross-site POST does not carry a SameSite=Lax cookie).
 * - `post_logout_redirect_uri` is used only when registered, exactly, for that client (or the
 *   one `client_id` names); an unregistered one is refused with a page, nothing ended.
 * - Without a valid hint (or with one for another user than the browser's) anyone could have
 *   sent the browser here, so the user confirms with a CSRF-protected form first.
 * Ending the SSO session ends its apps' sessions and refresh tokens with it; the cookie is
 * cleared, and the browser goes back to the app with `state`, or sees a signed-out page.
 */
export async function logout(d: FrontChannel, req: Req, res: Res): Promise<void> {
  const params = await readParams(req);
  const fail = (message: string, status = 400) =>
    sendHtml(res, status, errorPage('Sign-out request refused', message), pageHeaders(styleHash));
  for (const name of ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state']) {
    if (params.getAll(name).length > 1) return fail(`${name} must not be sent more than once.`);
  }

  let hint: { sub: string; aud: string; sid?: string } | undefined;
  const hintText = params.get('id_token_hint');
  if (hintText) {
    try {
      hint = await d.tokens.verifyIdTokenHint(hintText);
    } catch (e) {
      if (e instanceof AppError) return fail('The id_token_hint is not an ID token issued here.');
      throw e;
    }
  }
  const clientIdParam = params.get('client_id') || undefined;
  if (hint && clientIdParam && clientIdParam !== hint.aud) return fail("client_id is not the id_token_hint's audience.");
  const clientId = hint?.aud ?? clientIdParam;
  const client: OidcClient | undefined = clientId ? await findClient(d.db, clientId) : undefined;
  const target = params.get('post_logout_redirect_uri') || undefined;
  if (target && !client?.postLogoutRedirectUris.includes(target)) {
    return fail('The post_logout_redirect_uri is not registered for this application.');
  }
  const state = params.get('state') || undefined;

  const current = await d.sessions.current(req);
  const confirmed = req.method === 'POST' && params.get('confirm') === 'yes';
  if (confirmed && !d.csrf.check(req, params)) {
    return fail('This sign-out form has expired or was sent from another site. Nothing was ended.', 403);
  }
  // A hint proves which app asks and for which user; it does not let an app end another user's session.
  const proven = hint !== undefined && (!current || current.userId === hint.sub);
  if (!confirmed && !proven && current) {
    const { token, setCookie } = d.csrf.token(req);
    const carry: [string, string][] = [];
    if (clientId && client) carry.push(['client_id', clientId]);
    if (target) carry.push(['post_logout_redirect_uri', target]);
    if (state) carry.push(['state', state]);
    const headers: Record<string, string | string[]> = pageHeaders(styleHash, target ? [target] : []);
    if (setCookie) headers['set-cookie'] = setCookie;
    return sendHtml(res, 200, logoutConfirmPage({ carry, csrf: token, appName: client?.name }), headers);
  }

  const ended = new Set<string>();
  if (current) ended.add(current.id);
  if (proven && hint!.sid) {
    const sid = await hintedBrowserSession(d, hint!.sub, hint!.sid);
    if (sid) ended.add(sid);
  }
  const who = d.clientOf(req);
  for (const id of ended) {
    const session = current?.id === id ? current : undefined;
    if (await d.sessions.end(id, 'logout')) {
      await d.audit.record({ type: 'logout', outcome: 'success', actorId: session?.userId ?? hint?.sub, identifier: clientId, ...who });
    }
  }
  const headers = { 'set-cookie': d.sessions.clearCookie() };
  if (target) return redirect(res, responseUri(target, { state }), headers);
  sendHtml(res, 200, signedOutPage(), { ...pageHeaders(styleHash), ...headers });
}

/** The browser session a hint's `sid` names (or the one an app session of that id was granted under), if it is the hint's user's. */
async function hintedBrowserSession(d: FrontChannel, userId: string, sid: string): Promise<string | undefined> {
  if (!isUuid(sid)) return undefined;
  const session = await findSession(d.db, sid.toLowerCase());
  if (!session || session.userId !== userId) return undefined;
  if (session.kind === 'browser') return session.id;
  return session.kind === 'oidc' ? (session.parentId ?? undefined) : undefined;
}
