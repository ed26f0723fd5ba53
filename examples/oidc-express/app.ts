// An Express app that signs its users in through the SSO with OpenID Connect: the authorization
// code flow with PKCE, done by openid-client 6 (a standard relying-party library; nothing in it
// is specific to this SSO). The SSO's endpoints come from its discovery document.
//
//   GET /         the signed-in user's ID token claims, or a "Sign in" link
//   GET /login    sends the browser to the SSO (state, nonce, PKCE S256)
//   GET /callback where the SSO sends it back: the code is exchanged for tokens
//   GET /logout   forgets the user here and ends the SSO session (RP-initiated logout)
import { randomBytes } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import * as oidc from 'openid-client';

export interface OidcAppOptions {
  /** The SSO's issuer, e.g. `http://localhost:8000`; discovery is read from `<ssoUrl>/.well-known/openid-configuration`. */
  ssoUrl: string;
  /** The app's `client_id` (from `POST /api/sso/v1/apps`). */
  clientId: string;
  /** A confidential client's secret; without it the app is a public client (PKCE alone). */
  clientSecret?: string;
  /** This app's own URL: the redirect URI registered for it is `<baseUrl>/callback`, the post-logout one `<baseUrl>/`. */
  baseUrl: string;
  /** Default `openid email profile`. */
  scope?: string;
}

/** What the app keeps per browser: the pending sign-in, then the user's tokens. */
interface Session {
  pending?: { codeVerifier: string; state: string; nonce: string };
  claims?: Record<string, unknown>;
  idToken?: string;
  accessToken?: string;
}

const cookieName = 'oidc_example_session';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${body}</body></html>`;

export async function createOidcApp(opts: OidcAppOptions): Promise<express.Express> {
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  const redirectUri = `${baseUrl}/callback`;
  const scope = opts.scope ?? 'openid email profile';

  // Discovery: the endpoints, the issuer (checked to be `ssoUrl`) and the signing keys' location.
  // openid-client refuses plain HTTP unless told: allow it only for an http:// SSO (development).
  const ssoUrl = new URL(opts.ssoUrl);
  const config = await oidc.discovery(
    ssoUrl,
    opts.clientId,
    opts.clientSecret,
    opts.clientSecret ? oidc.ClientSecretPost(opts.clientSecret) : oidc.None(),
    ssoUrl.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined,
  );

  // In memory, for the example; a real app uses its session store.
  const sessions = new Map<string, Session>();
  const sessionOf = (req: Request): Session | undefined => {
    const id = /(?:^|;\s*)oidc_example_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    return id ? sessions.get(id) : undefined;
  };
  const newSession = (res: Response, data: Session) => {
    const id = randomBytes(24).toString('base64url');
    sessions.set(id, data);
    res.cookie(cookieName, id, { httpOnly: true, sameSite: 'lax', secure: baseUrl.startsWith('https:'), path: '/' });
  };
  const dropSession = (req: Request, res: Response) => {
    const id = /(?:^|;\s*)oidc_example_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (id) sessions.delete(id);
    res.clearCookie(cookieName, { path: '/' });
  };

  const app = express();

  app.get('/', (req, res) => {
    const s = sessionOf(req);
    if (!s?.claims) {
      res.type('html').send(page('Example app', '<p>You are not signed in.</p><p><a id="login" href="/login">Sign in with SSO</a></p>'));
      return;
    }
    const name = String(s.claims.email ?? s.claims.preferred_username ?? s.claims.sub);
    res.type('html').send(
      page(
        'Example app',
        `<p>Signed in as <strong id="user">${esc(name)}</strong>.</p>
<h2>ID token claims</h2><pre id="claims">${esc(JSON.stringify(s.claims, null, 2))}</pre>
<p><a id="logout" href="/logout">Sign out</a></p>`,
      ),
    );
  });

  app.get('/login', (req, res) => {
    const pending = { codeVerifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
    dropSession(req, res);
    newSession(res, { pending });
    oidc.calculatePKCECodeChallenge(pending.codeVerifier).then(
      (challenge) => {
        const params: Record<string, string> = {
          redirect_uri: redirectUri,
          scope,
          state: pending.state,
          nonce: pending.nonce,
          code_challenge: challenge,
          code_challenge_method: 'S256',
        };
        // ?prompt=none asks the SSO to answer without showing a page (login_required when signed out).
        const prompt = req.query.prompt;
        if (prompt === 'none' || prompt === 'login') params.prompt = prompt;
        res.redirect(oidc.buildAuthorizationUrl(config, params).href);
      },
      (err) => res.status(500).send(String(err)),
    );
  });

  app.get('/callback', async (req, res) => {
    const s = sessionOf(req);
    if (!s?.pending) {
      res
        .status(400)
        .type('html')
        .send(page('Sign-in failed', '<p id="error">No sign-in in progress here. <a href="/login">Start again</a>.</p>'));
      return;
    }
    const { pending } = s;
    try {
      // Checks state, the `iss` parameter (RFC 9207), exchanges the code with the PKCE verifier,
      // and validates the ID token (signature, issuer, audience, nonce, expiry).
      const tokens = await oidc.authorizationCodeGrant(config, new URL(req.originalUrl, baseUrl), {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      // A fresh session id once signed in (no fixation of the pre-login cookie).
      dropSession(req, res);
      newSession(res, { claims: tokens.claims() as Record<string, unknown>, idToken: tokens.id_token, accessToken: tokens.access_token });
      res.redirect('/');
    } catch (err) {
      dropSession(req, res);
      // The SSO's own answer (e.g. login_required after prompt=none, access_denied) or a failed check.
      const error = err instanceof oidc.AuthorizationResponseError ? err.error : err instanceof Error ? err.message : String(err);
      res
        .status(401)
        .type('html')
        .send(page('Sign-in failed', `<p id="error">${esc(error)}</p><p><a href="/login">Sign in</a></p>`));
    }
  });

  app.get('/logout', (req, res) => {
    const idToken = sessionOf(req)?.idToken;
    dropSession(req, res);
    if (!idToken) {
      res.redirect('/');
      return;
    }
    // RP-initiated logout: the SSO ends its session (and this app's tokens), then comes back here.
    res.redirect(oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: `${baseUrl}/` }).href);
  });

  return app;
}
