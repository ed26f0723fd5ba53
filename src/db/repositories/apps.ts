import { one, rows, run, setClauses, type Db, type Page } from './sql.js';

// First-party clients (the SSO's own console, `apps.first_party`) are not apps an administrator
// manages: every statement of the app API below leaves them out, so they cannot be listed,
// read, changed, re-keyed, deleted, assigned or asked for as a token audience there. Only
// domain/oidc/first-party.ts writes them, and the OpenID Connect endpoints read them as
// clients (oidc-clients.ts).

/** An OpenID Connect client is `confidential` (it holds a secret) or `public` (PKCE only). */
export type ClientType = 'confidential' | 'public';

export interface AppRecord {
  id: string;
  number: number;
  name: string;
  url: string;
  description: string;
  audience: string;
  redirectUris: string[];
  allowedOrigins: string[];
  clientType: ClientType;
  postLogoutRedirectUris: string[];
  allowedScopes: string[];
  keyPrefix: string;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** What verification needs of the app that owns a key: the stored hash to compare against. */
export interface AppKeyRecord {
  id: string;
  keyHash: string;
  isActive: boolean;
}

/** The stored parts of an API key (never the plaintext). */
export interface StoredKey {
  keyId: string;
  keyHash: string;
  keyPrefix: string;
}

/** The columns of an AppRecord, from `apps a`. */
export const appColumns = `a.id, a.number, a.name, a.url, a.description, a.audience, a.redirect_uris AS "redirectUris",
  a.allowed_origins AS "allowedOrigins", a.client_type AS "clientType",
  a.post_logout_redirect_uris AS "postLogoutRedirectUris", a.allowed_scopes AS "allowedScopes", a.key_prefix AS "keyPrefix", a.is_active AS "isActive",
  a.created_at AS "createdAt", a.updated_at AS "updatedAt"`;

/** An app's descriptive fields: what its owner sets. */
export type AppDescription = Pick<
  AppRecord,
  | 'name'
  | 'url'
  | 'description'
  | 'audience'
  | 'redirectUris'
  | 'allowedOrigins'
  | 'clientType'
  | 'postLogoutRedirectUris'
  | 'allowedScopes'
>;

export interface NewApp extends AppDescription {
  id: string;
  key: StoredKey;
  /** SHA-256 hex of a confidential client's secret; null for a public client. */
  clientSecretHash: string | null;
}

/** Inserts an app; a taken audience surfaces as the unique violation `apps_audience_key`. */
export async function insertApp(db: Db, app: NewApp): Promise<AppRecord> {
  return (await one<AppRecord>(
    db,
    `INSERT INTO apps AS a (id, name, url, description, audience, redirect_uris, allowed_origins, key_id, key_hash, key_prefix,
       client_type, client_secret_hash, post_logout_redirect_uris, allowed_scopes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING ${appColumns}`,
    [
      app.id,
      app.name,
      app.url,
      app.description,
      app.audience,
      app.redirectUris,
      app.allowedOrigins,
      app.key.keyId,
      app.key.keyHash,
      app.key.keyPrefix,
      app.clientType,
      app.clientSecretHash,
      app.postLogoutRedirectUris,
      app.allowedScopes,
    ],
  ))!;
}

export function findAppById(db: Db, id: string): Promise<AppRecord | undefined> {
  return one<AppRecord>(db, `SELECT ${appColumns} FROM apps a WHERE a.id = $1 AND NOT a.first_party`, [id]);
}

export function findAppByNumber(db: Db, number: number): Promise<AppRecord | undefined> {
  return one<AppRecord>(db, `SELECT ${appColumns} FROM apps a WHERE a.number = $1 AND NOT a.first_party`, [number]);
}

/** The app owning a key id (the public part of the key), for verification. */
export function findAppKey(db: Db, keyId: string): Promise<AppKeyRecord | undefined> {
  return one<AppKeyRecord>(
    db,
    'SELECT id, key_hash AS "keyHash", is_active AS "isActive" FROM apps WHERE key_id = $1 AND NOT first_party',
    [keyId],
  );
}

/** Apps in registration order; without a page, all of them (the legacy list). */
export async function listApps(db: Db, page?: Page): Promise<{ items: AppRecord[]; total: number }> {
  const items = await rows<AppRecord & { total: string }>(
    db,
    `SELECT ${appColumns}, count(*) OVER () AS total FROM apps a WHERE NOT a.first_party ORDER BY a.number
      ${page ? 'OFFSET $1 LIMIT $2' : ''}`,
    page ? [page.offset, page.limit] : [],
  );
  const total = items[0] ? Number(items[0].total) : page ? await countApps(db) : 0;
  return { items: items.map(({ total: _, ...app }) => app), total };
}

async function countApps(db: Db): Promise<number> {
  return Number((await one<{ n: string }>(db, 'SELECT count(*) AS n FROM apps WHERE NOT first_party'))!.n);
}

/** The changeable fields; undefined means "leave as is". */
export interface AppChanges {
  name?: string;
  url?: string;
  description?: string;
  audience?: string;
  redirectUris?: string[];
  allowedOrigins?: string[];
  postLogoutRedirectUris?: string[];
  allowedScopes?: string[];
  isActive?: boolean;
  /** Also decides the client secret (see updateApp). */
  clientType?: ClientType;
}

type ColumnChange = Exclude<keyof AppChanges, 'clientType'>;

const changeColumns: [ColumnChange, string][] = [
  ['name', 'name'],
  ['url', 'url'],
  ['description', 'description'],
  ['audience', 'audience'],
  ['redirectUris', 'redirect_uris'],
  ['allowedOrigins', 'allowed_origins'],
  ['isActive', 'is_active'],
  ['postLogoutRedirectUris', 'post_logout_redirect_uris'],
  ['allowedScopes', 'allowed_scopes'],
];

/** An updated app, and whether the offered secret became its client secret. */
export interface UpdatedApp {
  app: AppRecord;
  secretIssued: boolean;
}

/**
 * Applies the given changes in one statement; undefined when the app does not exist. Setting the
 * client type decides the secret in the same statement, from the row's current state (so two
 * concurrent updates cannot both think they issued one): public drops it, confidential keeps the
 * one it has or takes `secretHash` when it has none.
 */
export async function updateApp(db: Db, id: string, changes: AppChanges, secretHash?: string): Promise<UpdatedApp | undefined> {
  const params: unknown[] = [id];
  const sets = setClauses(params, Object.fromEntries(changeColumns.map(([key, column]) => [column, changes[key]])));
  let issued = 'false';
  if (changes.clientType !== undefined) {
    params.push(changes.clientType, secretHash ?? null);
    const type = `$${params.length - 1}::text`;
    const hash = `$${params.length}::text`;
    sets.push(
      `client_type = ${type}`,
      `client_secret_hash = CASE WHEN ${type} = 'public' THEN NULL ELSE coalesce(a.client_secret_hash, ${hash}) END`,
    );
    issued = `coalesce(a.client_secret_hash = ${hash}, false)`;
  }
  if (sets.length === 0) {
    const app = await findAppById(db, id);
    return app && { app, secretIssued: false };
  }
  const row = await one<AppRecord & { secretIssued: boolean }>(
    db,
    `UPDATE apps AS a SET ${sets.join(', ')}, updated_at = now() WHERE a.id = $1 AND NOT a.first_party
      RETURNING ${appColumns}, ${issued} AS "secretIssued"`,
    params,
  );
  if (!row) return undefined;
  const { secretIssued, ...app } = row;
  return { app, secretIssued };
}

/** Replaces the app's key: the old one stops matching in the same statement. */
export function replaceAppKey(db: Db, id: string, key: StoredKey): Promise<AppRecord | undefined> {
  return one<AppRecord>(
    db,
    `UPDATE apps AS a SET key_id = $2, key_hash = $3, key_prefix = $4, updated_at = now()
      WHERE a.id = $1 AND NOT a.first_party RETURNING ${appColumns}`,
    [id, key.keyId, key.keyHash, key.keyPrefix],
  );
}

/**
 * Replaces a confidential client's secret hash: the old secret stops matching in the same
 * statement. Undefined when no confidential app has this id (absent, or a public client).
 */
export function replaceClientSecret(db: Db, id: string, secretHash: string): Promise<AppRecord | undefined> {
  return one<AppRecord>(
    db,
    `UPDATE apps AS a SET client_secret_hash = $2, updated_at = now()
      WHERE a.id = $1 AND a.client_type = 'confidential' AND NOT a.first_party RETURNING ${appColumns}`,
    [id, secretHash],
  );
}

/** Deletes an app (its assignments go with it); whether one was deleted. */
export async function deleteApp(db: Db, id: string): Promise<boolean> {
  return (await run(db, 'DELETE FROM apps WHERE id = $1 AND NOT first_party', [id])).count > 0;
}

/** The active app that uses this token audience, if any. */
export async function appIdForAudience(db: Db, audience: string): Promise<string | undefined> {
  return (await one<{ id: string }>(db, 'SELECT id FROM apps WHERE audience = $1 AND is_active AND NOT first_party', [audience]))?.id;
}
