import { safeEqualHex, sha256Hex } from '../../auth/index.js';
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
