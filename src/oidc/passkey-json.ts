/**
 * A credential's JSON as the passkey script posts it (`PublicKeyCredential.toJSON()`): an object
 * with a string id, or undefined. Its fields are checked where it is verified
 * (@simplewebauthn/server, which refuses anything malformed), so this only keeps other values
 * (text, arrays, numbers) from reaching that far.
 */
export function parsePasskeyJson<T>(text: string): T | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return typeof (value as { id?: unknown }).id === 'string' ? (value as T) : undefined;
}
