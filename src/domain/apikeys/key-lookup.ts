import { parseApiKey, safeEqualHex, sha256Hex } from '../../auth/index.js';
import { findKeyStanding, touchApiKey } from '../../db/repositories/api-keys.js';
import type { Db } from '../../db/repositories/sql.js';
import { AppError } from '../../errors/index.js';
import { cachedStanding } from '../auth/standing-cache.js';
import { intersectScopes, isUnrestricted } from '../scopes.js';

/** The owner kinds, also the `kind` part of the keys' plaintext (`sso_agent_...`, `sso_user_...`). */
export type KeyOwnerKind = 'user' | 'agent';

export function isKeyOwnerKind(kind: string): kind is KeyOwnerKind {
  return kind === 'user' || kind === 'agent';
}

/** What a presented key stands for right now. */
export interface ResolvedApiKey {
  keyId: string;
  kind: KeyOwnerKind;
  ownerId: string;
  /** The key's scopes as far as the owner still holds them. */
  scopes: string[];
  roles: string[];
  /** Only an administrator's unrestricted (`*`) key acts as an administrator. */
  isAdmin: boolean;
  createdAt: Date;
  expiresAt: Date | null;
}

/** How often a key's `last_used_at` is written at most: often enough to tell live keys from dead ones. */
const touchInterval = 60_000;
/** Keys this instance touched lately, so a burst of calls writes once, not once per call. */
const touchedAt = new Map<string, number>();

/**
 * Records the use in the background: `last_used_at` is advisory, so the call neither waits for it
 * nor fails with it.
 */
function touch(db: Db, keyId: string, lastUsedAt: Date | null): void {
  const now = Date.now();
  if (lastUsedAt && now - lastUsedAt.getTime() < touchInterval) return;
  if (now - (touchedAt.get(keyId) ?? 0) < touchInterval) return;
  if (touchedAt.size > 10_000) touchedAt.clear();
  touchedAt.set(keyId, now);
  touchApiKey(db, keyId).catch(() => touchedAt.delete(keyId));
}

function invalid(): AppError {
  return new AppError('INVALID_API_KEY');
}

/**
 * Checks a presented key: its format, then one indexed read by the lookup id it carries, then a
 * constant-time comparison of SHA-256 digests (keys carry 256 random bits: nothing to slow down
 * with bcrypt), then that it is live and its owner active. Every refusal looks the same. A key
 * that passes is kept by the revocation cache under its digest (never the key): revocation,
 * expiry, deactivation and lost grants still hold from the next call on, on every instance
 * (domain/auth/standing-cache.ts says why).
 */
export async function resolveApiKey(db: Db, plaintext: string): Promise<ResolvedApiKey> {
  const parsed = parseApiKey(plaintext);
  if (!parsed || !isKeyOwnerKind(parsed.kind)) throw invalid();
  const kind = parsed.kind;
  const digest = sha256Hex(plaintext);
  const row = await cachedStanding(
    db,
    `key ${digest}`,
    () => findKeyStanding(db, parsed.id, kind),
    (r) =>
      r?.live && r.ownerActive && safeEqualHex(digest, r.keyHash)
        ? {
            // A user's key also holds the grants of the user's global roles.
            tags: [`k:${r.id}`, ...(r.agentId ? [`a:${r.agentId}`] : [`u:${r.userId}`, 'roles'])],
            expiresAt: r.expiresAt?.getTime() ?? null,
          }
        : undefined,
  );
  if (!row || !safeEqualHex(digest, row.keyHash)) throw invalid();
  if (!row.live || !row.ownerActive) throw invalid();
  touch(db, row.id, row.lastUsedAt);
  const isAdmin = row.ownerAdmin && isUnrestricted(row.scopes);
  return {
    keyId: row.id,
    kind,
    ownerId: (row.agentId ?? row.userId)!,
    scopes: isAdmin ? ['*'] : intersectScopes(row.scopes, row.ownerAdmin ? ['*'] : (row.ownerScopes ?? [])),
    roles: row.ownerRoles ?? [],
    isAdmin,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
  };
}
