import type { FieldMask } from '@bufbuild/protobuf/wkt';
import { AppError } from '../errors/index.js';

/** `isActive` -> `is_active`: mask paths are proto field names; a binary caller may send either form. */
function snakeCase(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Which fields an update changes, the same way for every service (AIP-134):
 * - with a non-empty `update_mask`, exactly the fields it names (the REST layer fills it with the
 *   body's keys, so a PATCH changes what it sends); a path naming no updatable field is refused
 *   with 400, since silently ignoring it would leave the caller believing it changed something;
 * - without one (or with an empty one), the fields the caller set: optional fields present,
 *   repeated fields non-empty.
 * `fields` maps each updatable field (proto name) to whether the request sets it. The resource's
 * `id` may appear in a mask and changes nothing.
 */
export function fieldsToChange(mask: FieldMask | undefined, fields: Record<string, boolean>): (field: string) => boolean {
  const paths = (mask?.paths ?? []).map(snakeCase).filter((p) => p !== 'id');
  if (paths.length === 0) return (field) => fields[field] === true;
  const unknown = paths.find((p) => !(p in fields));
  if (unknown !== undefined)
    throw new AppError('INVALID_ARGUMENT', `update_mask names a field that cannot be changed: "${unknown.slice(0, 80)}".`);
  const named = new Set(paths);
  return (field) => named.has(field);
}
