/**
 * Every transaction-level advisory lock the service takes, in one list so that no two
 * unrelated rules share a key (they would wait on each other for nothing). Migrations take their
 * own session-level lock (db/migrate.ts).
 */
export const advisoryLocks = {
  /** First-user bootstrap: exactly one user becomes the administrator. */
  bootstrapAdmin: 7_134_228_001,
  /** Changes that could remove the last administrator (demote, deactivate, delete). */
  lastAdminGuard: 7_134_228_002,
  /** The signing-key set: two instances starting or rotating at once make one key, not two. */
  signingKeys: 7_134_228_003,
} as const;
