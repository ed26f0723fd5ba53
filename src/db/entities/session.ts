import { EntitySchema } from 'typeorm';

/** A signed-in session; the refresh token in the client's hands is bound to it. */
export class Session {
  declare id: string;
  declare userId: string;
  /** SHA-256 (hex) of the current refresh token's jti; the token itself is never stored. */
  declare refreshHash: string;
  /** Bumped on every refresh; a token from an older generation is a reuse. */
  declare generation: number;
  declare audience: string;
  declare workspaceId: string | null;
  declare amr: string[];
  declare userAgent: string | null;
  declare ip: string | null;
  declare createdAt: Date;
  declare lastUsedAt: Date;
  declare expiresAt: Date;
  declare revokedAt: Date | null;
  declare revokedReason: string | null;
  /** `api`, `browser` (the SSO session behind the hosted page's cookie) or `oidc` (one client's). */
  declare kind: string;
  /** The browser session an `oidc` session was granted under. */
  declare parentId: string | null;
  declare clientId: string | null;
  declare oidcScopes: string[];
  declare authTime: Date;
}

export const SessionSchema = new EntitySchema<Session>({
  name: 'Session',
  target: Session,
  tableName: 'sessions',
  columns: {
    id: { name: 'id', type: 'uuid', primary: true, generated: 'uuid' },
    userId: { name: 'user_id', type: 'uuid' },
    refreshHash: { name: 'refresh_hash', type: 'text' },
    generation: { name: 'generation', type: 'integer', default: 0 },
    audience: { name: 'audience', type: 'text' },
    workspaceId: { name: 'workspace_id', type: 'uuid', nullable: true },
    amr: { name: 'amr', type: 'text', array: true, default: () => "'{}'" },
    userAgent: { name: 'user_agent', type: 'text', nullable: true },
    ip: { name: 'ip', type: 'text', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true, default: () => 'now()' },
    lastUsedAt: { name: 'last_used_at', type: 'timestamptz', default: () => 'now()' },
    expiresAt: { name: 'expires_at', type: 'timestamptz' },
    revokedAt: { name: 'revoked_at', type: 'timestamptz', nullable: true },
    revokedReason: { name: 'revoked_reason', type: 'text', nullable: true },
    kind: { name: 'kind', type: 'text', default: 'api' },
    parentId: { name: 'parent_id', type: 'uuid', nullable: true },
    clientId: { name: 'client_id', type: 'uuid', nullable: true },
    oidcScopes: { name: 'oidc_scopes', type: 'text', array: true, default: () => "'{}'" },
    authTime: { name: 'auth_time', type: 'timestamptz', default: () => 'now()' },
  },
});
