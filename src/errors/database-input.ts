/**
 * SQLSTATEs by which PostgreSQL refuses a value rather than fails: class 22 (data exception:
 * NUL in text 22021, untranslatable character 22P05, value too long 22001, bad number or date
 * formats, out of range) and 54000 (a value too large for an index row). Input validation should
 * refuse such values first; if one slips through, the caller still sent something unacceptable,
 * which is a 400, not a 500.
 */
export function isRefusedValue(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = typeof e.code === 'string' ? e.code : e.driverError?.code;
  // Only errors from the database carry a five-character SQLSTATE (Node's own codes are longer).
  return typeof code === 'string' && /^(22[0-9A-Z]{3}|54000)$/.test(code) && ('query' in e || 'driverError' in e || 'severity' in e);
}
