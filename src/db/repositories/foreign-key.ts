/** PostgreSQL's foreign_key_violation: the row referred to is gone (or never existed). */
export function foreignKeyViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } };
  return (e?.code ?? e?.driverError?.code) === '23503';
}
