import type { Db } from './sql.js';

/** Whether a registered app uses this token audience. */
export async function isRegisteredAudience(_db: Db, _audience: string): Promise<boolean> {
  return false;
}
