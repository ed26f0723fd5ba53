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
}

/** The client with this id (the app's id), active or not. */
export function findClientRecord(db: Db, id: string): Promise<ClientRecord | undefined> {
  return one<ClientRecord>(db,
    `SELECT id, name, audience, client_type AS "clientType", client_secret_hash AS "clientSecretHash",
            redirect_uris AS "redirectUris", post_logout_redirect_uris AS "postLogoutRedirectUris",
            allowed_scopes AS "allowedScopes", is_active AS "isActive"
       FROM apps WHERE id = $1`, [id]);
}
