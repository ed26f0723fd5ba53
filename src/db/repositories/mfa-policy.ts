import { one, type Db } from './sql.js';

export interface MfaPolicyRecord {
  requiredForAll: boolean;
  requiredForAdmins: boolean;
  requiredRoles: string[];
  updatedAt: Date;
}

const columns = `required_for_all AS "requiredForAll", required_for_admins AS "requiredForAdmins", required_roles AS "requiredRoles", updated_at AS "updatedAt"`;

export async function readMfaPolicy(db: Db): Promise<MfaPolicyRecord> {
  return (await one<MfaPolicyRecord>(db, `SELECT ${columns} FROM mfa_policy WHERE id`))!;
}

export async function writeMfaPolicy(db: Db, p: Omit<MfaPolicyRecord, 'updatedAt'>): Promise<MfaPolicyRecord> {
  return (await one<MfaPolicyRecord>(
    db,
    `UPDATE mfa_policy SET required_for_all = $1, required_for_admins = $2, required_roles = $3, updated_at = now() WHERE id RETURNING ${columns}`,
    [p.requiredForAll, p.requiredForAdmins, p.requiredRoles],
  ))!;
}

/**
 * Whether the policy covers a user: everyone, administrators, or a holder of a listed role
 * (a global role, or one held in any workspace the user belongs to).
 */
export async function policyCovers(db: Db, userId: string): Promise<boolean> {
  const row = await one<{ covered: boolean }>(db, `SELECT ${policyCoversSql} AS covered`, [userId]);
  return row!.covered;
}

/** The rule above as one boolean SQL expression over the user `$1` (never null). */
export const policyCoversSql = `COALESCE((
    SELECT p.required_for_all
           OR (p.required_for_admins AND u.is_admin)
           OR EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                       WHERE ur.user_id = u.id AND r.slug = ANY(p.required_roles))
           OR EXISTS (SELECT 1 FROM workspace_member_roles m JOIN roles r ON r.id = m.role_id
                       WHERE m.user_id = u.id AND r.slug = ANY(p.required_roles))
      FROM users u CROSS JOIN mfa_policy p WHERE u.id = $1 AND p.id), false)`;
