import { safeEqualHex, sha256Hex } from '../../auth/index.js';
import { isAssigned } from '../../db/repositories/app-assignments.js';
import { findClientRecord, type ClientRecord } from '../../db/repositories/oidc-clients.js';
import type { Db } from '../../db/repositories/sql.js';
import { AppError } from '../../errors/index.js';
import type { ClientCredentials } from '../oauth/client-credentials.js';
import { isUuid } from '../paging.js';

export type OidcClient = Omit<ClientRecord, 'clientSecretHash'>;

/** The OpenID Connect scopes this server knows; an app may be allowed any of them. */
export const knownOidcScopes = ['openid', 'profile', 'email', 'phone', 'offline_access'] as const;

function publicPart(record: ClientRecord): OidcClient {
  const { clientSecretHash: _, ...client } = record;
  return client;
}

/**
 * The audience of the access (and refresh) tokens a client gets from the authorization code
 * flow: an app's own audience, so the SSO's API refuses them (WRONG_AUDIENCE) and an app cannot
 * act as its users at the SSO; but the SSO's own audience for a first-party client (the admin
 * console), which exists to act at the SSO. The one place that exception is made: refreshes
 * keep the audience of the session the exchange created.
 */
export function tokenAudienceOf(client: Pick<OidcClient, 'audience' | 'firstParty'>, ownAudience: string): string {
  return client.firstParty ? ownAudience : client.audience;
}

/**
 * Whether a user may sign in to a client: a registered app only once an administrator assigned
 * the user to it (the rule of POST /verify and audience logins); a first-party client (the
 * console) always, since it offers each principal only what its scopes allow and the server
 * checks every call. Asked at the authorization endpoint and again at the code exchange.
 */
export async function mayUseClient(db: Db, client: Pick<OidcClient, 'id' | 'firstParty'>, userId: string): Promise<boolean> {
  return client.firstParty || isAssigned(db, client.id, userId);
}

/** An active registered app as a client, by its client id; undefined for anything else. */
export async function findClient(db: Db, clientId: string): Promise<OidcClient | undefined> {
  if (!isUuid(clientId)) return undefined;
  const record = await findClientRecord(db, clientId.toLowerCase());
  return record && record.isActive ? publicPart(record) : undefined;
}

/**
 * Authenticates a client at the token, revocation and introspection endpoints. A confidential
 * client proves itself with its secret (client_secret_basic or client_secret_post), compared as
 * SHA-256 digests in constant time (the secret carries 256 random bits: nothing to slow down);
 * a public client sends only its id (token_endpoint_auth_method `none`), and its code exchange
 * is protected by PKCE instead. Every failure looks the same: INVALID_CLIENT.
 */
export async function authenticateClient(db: Db, creds: ClientCredentials): Promise<OidcClient> {
  const challenge: Record<string, string> = creds.viaBasic ? { 'www-authenticate': 'Basic realm="sso"' } : {};
  const fail = () => new AppError('INVALID_CLIENT', 'Unknown client, wrong secret, or a deactivated one.', challenge);
  if (!creds.id || !isUuid(creds.id)) throw fail();
  const record = await findClientRecord(db, creds.id.toLowerCase());
  if (!record || !record.isActive) throw fail();
  if (record.clientType === 'public') {
    if (creds.secret) throw fail();
    return publicPart(record);
  }
  if (!creds.secret || !record.clientSecretHash || !safeEqualHex(sha256Hex(creds.secret), record.clientSecretHash)) throw fail();
  return publicPart(record);
}
