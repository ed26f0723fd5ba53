import { openDatabase } from '../src/db/data-source.js';
import { grantColumns } from '../src/db/repositories/grants.js';
const url = process.env.BENCH_DATABASE_URL;
const db = await openDatabase(url ? { kind: 'postgres', url, schema: process.env.SCHEMA } : { kind: 'embedded' });
const ds = db.dataSource;
if (!url || process.env.SEED) {
await ds.query(`INSERT INTO users (is_active) SELECT g % 50 <> 0 FROM generate_series(1, 100000) g`);
await ds.query(`INSERT INTO user_identifiers (user_id, type, value, is_primary) SELECT id, 'email', 'bench' || number || '@example.com', true FROM users`);
const [role] = await ds.query(`INSERT INTO roles (name, slug, scopes) VALUES ('Editor', 'editor', '{read:posts,write:posts}') RETURNING id`);
await ds.query(`INSERT INTO user_roles (user_id, role_id) SELECT id, $1 FROM users WHERE number % 10 = 0`, [role.id]);
await ds.query('VACUUM ANALYZE');
}
const qs: [string, unknown[]][] = [
  ['SELECT count(*)::int FROM users u', []],
  ['SELECT u.number FROM users u ORDER BY u.number LIMIT 10 OFFSET 99900', []],
  [`WITH picked AS (SELECT u.number FROM users u ORDER BY u.number LIMIT 10 OFFSET 99900) SELECT u.id, ${grantColumns(null)} FROM picked p JOIN users u ON u.number = p.number`, []],
  [`SELECT count(*) FROM users u WHERE EXISTS (SELECT 1 FROM user_identifiers i WHERE i.user_id = u.id AND lower(i.value) LIKE '%bench4242@%')`, []],
  [`SELECT count(*) FROM users u WHERE u.id IN (SELECT user_id FROM user_identifiers i WHERE i.value LIKE '%bench4242@%')`, []],
  [`SELECT count(*) FROM user_identifiers i WHERE i.value LIKE '%bench4242@%'`, []],
  [`SELECT count(*) FROM user_identifiers i WHERE strpos(i.value, 'bench4242@') > 0`, []],
  [`SELECT count(*) FROM users u WHERE u.id IN (SELECT ur.user_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE r.slug = 'editor' AND r.workspace_id IS NULL)`, []],
  [`SELECT u.number FROM users u WHERE u.id IN (SELECT ur.user_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE r.slug = 'editor' AND r.workspace_id IS NULL) ORDER BY u.number LIMIT 10 OFFSET 9900`, []],
];
for (const [q, p] of qs) {
  const plan = await ds.query(`EXPLAIN (ANALYZE, BUFFERS OFF) ${q}`, p);
  console.log('---', q.slice(0, 150));
  for (const r of plan) console.log(r['QUERY PLAN']);
}
await db.close();
