import { one, type Db } from './sql.js';

/** An app as an OpenID Connect client: what the authorization and token endpoints need of it. */
export interface ClientRecord {
  id: string;
  name: string;
  audience: string;
  clientType: 'confidential' | 'public';
  /** SHA-256 of a confidential client's secret; null for a public client. */
  clientSecretHash: string | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  allowedScopes: string[];
  isActive: boolean;
  /** One of the SSO's own front ends (see domain/oidc/clients.ts for what that changes). */
  firstParty: boolean;
}

/**
 * The client with this id (the app's id), active or not. Named: every client authentication
 * (token exchange, introspection, revocation) reads it, prepared once per PostgreSQL connection.
 */
export function findClientRecord(db: Db, id: string): Promise<ClientRecord | undefined> {
  return one<ClientRecord>(
    db,
    `SELECT id, name, audience, client_type AS "clientType", client_secret_hash AS "clientSecretHash",
            redirect_uris AS "redirectUris", post_logout_redirect_uris AS "postLogoutRedirectUris",
            allowed_scopes AS "allowedScopes", is_active AS "isActive", first_party AS "firstParty"
       FROM apps WHERE id = $1`,
    [id],
    'client_record',
  );
}

/** A first-party client as the server defines it at start (domain/oidc/first-party.ts). */
export interface FirstPartyClientRow {
  id: string;
  name: string;
  /** Only a placeholder: the audience column must be unique, but a first-party client's tokens are for the SSO. */
  audience: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  allowedScopes: string[];
  /** An app key nobody is ever shown (the column is required; first-party apps are left out of key lookups). */
  key: { keyId: string; keyHash: string; keyPrefix: string };
}

/**
 * Creates the first-party client, or brings its definition up to date (the issuer, and so its
 * redirect URIs, may have changed since the last start), in one statement: instances starting
 * together agree on the row. Number 0 is outside the identity sequence, so the legacy numbers of
 * registered apps still start at 1. A registered app holding that id (impossible short of a
 * UUID collision) is never turned into a first-party one.
 */
export async function upsertFirstPartyClient(db: Db, c: FirstPartyClientRow): Promise<void> {
  const row = await one<{ id: string }>(
    db,
    `INSERT INTO apps AS a (id, number, name, audience, redirect_uris, post_logout_redirect_uris, allowed_scopes,
       client_type, client_secret_hash, key_id, key_hash, key_prefix, first_party)
     VALUES ($1, 0, $2, $3, $4, $5, $6, 'public', NULL, $7, $8, $9, true)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, redirect_uris = EXCLUDED.redirect_uris,
       post_logout_redirect_uris = EXCLUDED.post_logout_redirect_uris, allowed_scopes = EXCLUDED.allowed_scopes,
       client_type = 'public', client_secret_hash = NULL, is_active = true, updated_at = now()
       WHERE a.first_party
     RETURNING a.id`,
    [c.id, c.name, c.audience, c.redirectUris, c.postLogoutRedirectUris, c.allowedScopes, c.key.keyId, c.key.keyHash, c.key.keyPrefix],
  );
  if (!row) throw new Error(`app ${c.id} exists and is not a first-party client`);
}
