import { upsertFirstPartyClient } from '../../db/repositories/oidc-clients.js';
import type { Db } from '../../db/repositories/sql.js';
import { newAppKey } from '../apps/app-keys.js';

/**
 * The admin console's OpenID Connect client id: fixed and documented, the same on every
 * installation, so the console's page needs no configuration to find it.
 */
export const CONSOLE_CLIENT_ID = '00000000-0000-4000-8000-00000000c0de';

/** Where the console lives under the issuer, and where the hosted page sends its code back. */
export const CONSOLE_PATH = '/console/';

/** What the console asks for: its user's identity, and a refresh token to outlive the 15-minute access token. */
export const CONSOLE_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

/**
 * Why the console is a first-party client of its own server (and not a Login-RPC page, nor an
 * ordinary registered app):
 *
 * - It signs in like every other app, through the hosted sign-in page (authorization code +
 *   PKCE, public client: a page holds no secret), so the console gets single sign-on, the
 *   hosted page's lockout, second factors and audit for free, never sees a password, and
 *   signing out is the standard RP-initiated logout that also ends the SSO session.
 * - An ordinary app's access tokens are for the app's own audience, which the SSO's API
 *   refuses (WRONG_AUDIENCE): that is what keeps an app that receives a user's token from
 *   acting as the user at the SSO. The console exists to act at the SSO, so its tokens must be
 *   for the SSO's audience. That exception is a property of the client, `first_party`, which
 *   only the server itself sets (here, at start); the app API can neither set it nor see,
 *   change, re-key or delete such a client (repositories/apps.ts). Otherwise `update:apps`
 *   could point the console's redirect URI elsewhere and collect SSO-audience tokens of every
 *   administrator who signs in.
 * - Nobody is "assigned" to the console: it shows each principal only what its scopes allow,
 *   and the server enforces every call anyway, so anyone who may sign in may open it.
 *
 * Both rules are applied in one place, domain/oidc/clients.ts (`tokenAudienceOf`, `mayUseClient`).
 *
 * The row is written at every start (idempotently, in one statement) rather than by a migration
 * because its redirect URIs derive from SSO_ISSUER, which a migration does not know and which an
 * operator may change between starts.
 */
export async function ensureConsoleClient(db: Db, issuer: string): Promise<void> {
  const base = issuer.replace(/\/+$/, '');
  const { stored } = newAppKey();
  await upsertFirstPartyClient(db, {
    id: CONSOLE_CLIENT_ID,
    name: 'SSO admin console',
    audience: `urn:sso:first-party:${CONSOLE_CLIENT_ID}`,
    redirectUris: [`${base}${CONSOLE_PATH}`],
    postLogoutRedirectUris: [`${base}${CONSOLE_PATH}`],
    allowedScopes: CONSOLE_SCOPES,
    key: stored,
  });
}
