import type { IdentifierRecord } from '../../db/repositories/users.js';

/** The standard claims about a user, as ID tokens and UserInfo carry them (OpenID Connect Core 5.1). */
export interface UserClaims {
  email?: string;
  email_verified?: boolean;
  preferred_username?: string;
  name?: string;
  phone_number?: string;
  phone_number_verified?: boolean;
  updated_at?: number;
}

/**
 * What the granted scopes release of a user (Core 5.4): `email` the e-mail address, `phone` the
 * phone number, `profile` the username (also as `name`, the only name the directory keeps) and
 * the last change. `openid` alone releases only `sub`.
 */
export function claimsFor(user: { identifiers: IdentifierRecord[]; updatedAt: Date }, scopes: readonly string[]): UserClaims {
  const of = (type: string) => user.identifiers.find((i) => i.type === type);
  const claims: UserClaims = {};
  const email = of('email');
  if (scopes.includes('email') && email) {
    claims.email = email.value;
    claims.email_verified = email.verified;
  }
  const phone = of('phone');
  if (scopes.includes('phone') && phone) {
    claims.phone_number = phone.value;
    claims.phone_number_verified = phone.verified;
  }
  if (scopes.includes('profile')) {
    const username = of('username')?.value ?? user.identifiers[0]?.value;
    if (username) {
      claims.preferred_username = username;
      claims.name = username;
    }
    claims.updated_at = Math.floor(user.updatedAt.getTime() / 1000);
  }
  return claims;
}

/** RFC 8176 names for how a session was proven, as ID tokens state them. */
export function rfc8176Amr(amr: readonly string[]): string[] {
  return [...new Set(amr.map((m) => (m === 'password' ? 'pwd' : m)))];
}
