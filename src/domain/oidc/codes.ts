import { createHash, randomBytes } from 'node:crypto';
import { sha256Hex } from '../../auth/index.js';
import {
  consumeCode,
  deleteStaleCodes,
  findUsedCode,
  insertCode,
  recordIssuedSession,
  type CodeRecord,
} from '../../db/repositories/oidc-codes.js';
import { revokeSession } from '../../db/repositories/sessions.js';
import type { Db } from '../../db/repositories/sql.js';
import { AppError } from '../../errors/index.js';

/** How long a code lives: long enough for a redirect and a back-channel exchange, no longer (RFC 9700: short). */
export const codeTtlSeconds = 60;

/** What the authorization endpoint grants a client, bound into the code. */
export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  /** The PKCE S256 challenge; absent only for a confidential client that sent none. */
  codeChallenge?: string;
  nonce?: string;
  /** The OpenID Connect scopes granted. */
  scopes: string[];
  userId: string;
  /** The SSO (browser) session the user signed in with: the code's tokens end with it. */
  browserSessionId: string;
}

/** Issues a single-use code (256 random bits; only its hash is kept). */
export async function issueCode(db: Db, grant: CodeGrant): Promise<string> {
  const code = randomBytes(32).toString('base64url');
  await insertCode(db, {
    codeHash: sha256Hex(code),
    clientId: grant.clientId,
    redirectUri: grant.redirectUri,
    codeChallenge: grant.codeChallenge ?? null,
    nonce: grant.nonce ?? null,
    scopes: grant.scopes,
    userId: grant.userId,
    browserSessionId: grant.browserSessionId,
    ttlSeconds: codeTtlSeconds,
  });
  // Now and then, clear codes long dead, so the table stays the size of the traffic.
  if (Math.random() < 0.01) void deleteStaleCodes(db).catch(() => {});
  return code;
}

const verifierPattern = /^[A-Za-z0-9._~-]{43,128}$/;

/** RFC 7636 S256: BASE64URL(SHA256(verifier)) equals the challenge. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  if (!verifierPattern.test(verifier)) return false;
  return createHash('sha256').update(verifier, 'ascii').digest('base64url') === challenge;
}

/** A redeemed code: its grant, and the hash to record what its exchange issues. */
export interface RedeemedCode {
  record: CodeRecord;
  codeHash: string;
}

/**
 * Redeems a code for the client that authenticated (or named itself, if public): the code must
 * be unused, unexpired, issued to that client for that redirect URI, and, when it carries a PKCE
 * challenge, the verifier must match (a verifier sent for a code without one is refused too, as
 * RFC 9700 advises against downgrade). A code presented a second time means it leaked: what its
 * first exchange issued is revoked. Every refusal is INVALID_GRANT.
 */
export async function redeemCode(
  db: Db,
  input: { code: string; clientId: string; redirectUri: string; codeVerifier: string },
): Promise<RedeemedCode> {
  if (!input.code) throw new AppError('MISSING_FIELD', 'code is required.');
  const codeHash = sha256Hex(input.code);
  const record = await consumeCode(db, codeHash);
  if (!record) {
    const used = await findUsedCode(db, codeHash);
    if (used?.issuedSessionId) await revokeSession(db, used.issuedSessionId, 'authorization_code_reuse');
    throw new AppError(
      'INVALID_GRANT',
      used ? 'The authorization code was already used; what it issued is revoked.' : 'The authorization code is invalid.',
    );
  }
  if (!record.live) throw new AppError('INVALID_GRANT', 'The authorization code has expired.');
  if (record.clientId !== input.clientId) throw new AppError('INVALID_GRANT', 'The authorization code was issued to another client.');
  if (record.redirectUri !== input.redirectUri)
    throw new AppError('INVALID_GRANT', 'redirect_uri does not match the authorization request.');
  if (record.codeChallenge !== null) {
    if (!pkceMatches(input.codeVerifier, record.codeChallenge))
      throw new AppError('INVALID_GRANT', 'The PKCE code_verifier does not match.');
  } else if (input.codeVerifier) {
    throw new AppError('INVALID_GRANT', 'A code_verifier was sent for a code issued without a PKCE challenge.');
  }
  return { record, codeHash };
}

/** Remembers what a code's exchange issued, so a replay of the code can revoke it. */
export function bindIssuedSession(db: Db, redeemed: RedeemedCode, sessionId: string): Promise<void> {
  return recordIssuedSession(db, redeemed.codeHash, sessionId);
}
