import type { DataSource } from 'typeorm';
import { findUserView } from '../../db/repositories/directory-users.js';
import { findSession } from '../../db/repositories/sessions.js';
import { AppError } from '../../errors/index.js';
import type { Principal } from '../principal.js';
import { claimsFor, type UserClaims } from './user-claims.js';

/** Everything a user's own session may read of itself (a login through the API, or the SSO's own token). */
const ownScopes = ['openid', 'profile', 'email', 'phone'];

/**
 * The UserInfo endpoint (OpenID Connect Core 5.3): the claims of the token's user that the scopes
 * granted to its client release. The caller is a user's access token, for the app it was issued
 * to or for the SSO itself; an agent has no user info.
 */
export async function userInfo(ds: DataSource, principal: Principal): Promise<{ sub: string } & UserClaims> {
  if (principal.kind !== 'user' || !principal.sessionId) throw new AppError('PERMISSION_DENIED', "UserInfo is for a user's access token.");
  const [session, user] = await Promise.all([findSession(ds, principal.sessionId), findUserView(ds, principal.id)]);
  if (!session || !user) throw new AppError('INVALID_TOKEN');
  const scopes = session.kind === 'oidc' ? session.oidcScopes : ownScopes;
  if (!scopes.includes('openid')) throw new AppError('PERMISSION_DENIED', 'The token was not granted the `openid` scope.');
  return { sub: user.id, ...claimsFor(user, scopes) };
}
