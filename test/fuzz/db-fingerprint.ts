import type { DataSource } from 'typeorm';

/**
 * Tables a refused request may still change, by design: a failed sign-in is an audit event and
 * counts toward lockout. Everything else must be exactly as it was after a refusal.
 */
const changedByRefusals = new Set(['audit_events', 'login_throttles', 'migrations', 'typeorm_metadata']);

/**
 * A hash of the contents of every table in the server's schema (but those above), in one
 * statement: each table's rows as text, sorted, hashed, and the table hashes hashed together.
 */
export async function createFingerprint(ds: DataSource): Promise<() => Promise<string>> {
  const tables = (
    (await ds.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
    )) as { table_name: string }[]
  )
    .map((r) => r.table_name)
    .filter((t) => !changedByRefusals.has(t));
  if (tables.length === 0) throw new Error('no tables to fingerprint');
  const parts = tables.map((t) => `'${t}:' || (SELECT md5(coalesce(string_agg(r::text, ',' ORDER BY r::text), '')) FROM "${t}" r)`);
  const sql = `SELECT md5(${parts.join(` || '|' || `)}) AS fingerprint`;
  return async () => ((await ds.query(sql)) as { fingerprint: string }[])[0]!.fingerprint;
}
