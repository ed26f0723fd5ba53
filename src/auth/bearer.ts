/**
 * The credential of an `Authorization: Bearer <value>` header (RFC 6750), or undefined: one
 * token of non-space characters, the scheme matched case-insensitively.
 */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  if (!authorization) return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
}
