import { appColumns, type AppRecord } from './apps.js';
import { one, rows, run, type Db, type Page } from './sql.js';

/**
 * Assigns a user to an app in one statement that also proves both exist (so a concurrent delete
 * cannot leave a dangling row or surface as a foreign-key error). Assigning twice is fine.
 * Returns whether the app and the user were found.
 */
export async function assignUser(db: Db, appId: string, userId: string): Promise<{ app: boolean; user: boolean }> {
  const row = await one<{ app: boolean; user: boolean }>(
    db,
    `WITH a AS (SELECT id FROM apps WHERE id = $1 AND NOT first_party), u AS (SELECT id FROM users WHERE id = $2),
     ins AS (INSERT INTO app_assignments (app_id, user_id) SELECT a.id, u.id FROM a, u ON CONFLICT DO NOTHING RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM a) AS app, EXISTS (SELECT 1 FROM u) AS "user", (SELECT count(*) FROM ins) AS n`,
    [appId, userId],
  );
  return { app: row!.app, user: row!.user };
}

/** The same by the legacy sequential numbers. */
export async function assignUserByNumbers(db: Db, appNumber: number, userNumber: number): Promise<{ app: boolean; user: boolean }> {
  const row = await one<{ app: boolean; user: boolean }>(
    db,
    `WITH a AS (SELECT id FROM apps WHERE number = $1 AND NOT first_party), u AS (SELECT id FROM users WHERE number = $2),
     ins AS (INSERT INTO app_assignments (app_id, user_id) SELECT a.id, u.id FROM a, u ON CONFLICT DO NOTHING RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM a) AS app, EXISTS (SELECT 1 FROM u) AS "user", (SELECT count(*) FROM ins) AS n`,
    [appNumber, userNumber],
  );
  return { app: row!.app, user: row!.user };
}

/** Removes an assignment; whether there was one. */
export async function unassignUser(db: Db, appId: string, userId: string): Promise<boolean> {
  return (await run(db, 'DELETE FROM app_assignments WHERE app_id = $1 AND user_id = $2', [appId, userId])).count > 0;
}

export async function isAssigned(db: Db, appId: string, userId: string): Promise<boolean> {
  // Named: every /verify and every refresh of an app's session asks it.
  return (
    (await one(db, 'SELECT 1 FROM app_assignments WHERE app_id = $1 AND user_id = $2', [appId, userId], 'app_assignment_exists')) !==
    undefined
  );
}

/** Ids of the users assigned to an app, oldest assignment first. */
export async function listAssignedUserIds(db: Db, appId: string, page: Page): Promise<{ ids: string[]; total: number }> {
  const [found, count] = await Promise.all([
    rows<{ userId: string }>(
      db,
      `SELECT s.user_id AS "userId" FROM app_assignments s JOIN users u ON u.id = s.user_id
        WHERE s.app_id = $1 ORDER BY s.created_at, u.number OFFSET $2 LIMIT $3`,
      [appId, page.offset, page.limit],
    ),
    one<{ n: string }>(db, 'SELECT count(*) AS n FROM app_assignments WHERE app_id = $1', [appId]),
  ]);
  return { ids: found.map((r) => r.userId), total: Number(count!.n) };
}

/** The apps a user is assigned to, in registration order. */
export async function listAssignedApps(db: Db, userId: string, page: Page): Promise<{ items: AppRecord[]; total: number }> {
  const [found, count] = await Promise.all([
    rows<AppRecord>(
      db,
      `SELECT ${appColumns} FROM app_assignments s JOIN apps a ON a.id = s.app_id
        WHERE s.user_id = $1 AND NOT a.first_party ORDER BY a.number OFFSET $2 LIMIT $3`,
      [userId, page.offset, page.limit],
    ),
    one<{ n: string }>(db, 'SELECT count(*) AS n FROM app_assignments WHERE user_id = $1', [userId]),
  ]);
  return { items: found, total: Number(count!.n) };
}
