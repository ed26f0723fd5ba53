import { one, run, type Db } from './sql.js';

/** Replaces a user's recovery codes with new ones (hashes); run inside the caller's transaction. */
export async function replaceRecoveryCodes(db: Db, userId: string, codeHashes: string[]): Promise<void> {
  await run(db, 'DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
  await run(db, 'INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, unnest($2::text[])', [userId, codeHashes]);
}

/** Spends a code: one UPDATE that only an unused code passes, so each works once. */
export async function spendRecoveryCode(db: Db, userId: string, codeHash: string): Promise<boolean> {
  const { count } = await run(db, 'UPDATE recovery_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL', [
    userId,
    codeHash,
  ]);
  return count > 0;
}

export async function countUnusedRecoveryCodes(db: Db, userId: string): Promise<number> {
  return (
    (await one<{ n: number }>(db, 'SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL', [userId]))?.n ?? 0
  );
}

export async function hasRecoveryCodes(db: Db, userId: string): Promise<boolean> {
  return (await one(db, 'SELECT 1 FROM recovery_codes WHERE user_id = $1 LIMIT 1', [userId])) !== undefined;
}

export async function deleteRecoveryCodes(db: Db, userId: string): Promise<number> {
  return (await run(db, 'DELETE FROM recovery_codes WHERE user_id = $1', [userId])).count;
}
