import { AppError } from '../errors/index.js';

/** The paging rule of every list: offset >= 0; limit 1..100, 0 meaning the default 10. */
export function page(offset: number, limit: number): { offset: number; limit: number } {
  if (offset < 0 || limit < 0 || limit > 100) throw new AppError('INVALID_PAGINATION');
  return { offset, limit: limit === 0 ? 10 : limit };
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

/** A path or body id must be a UUID; anything else is a 400, never a database error. */
export function uuid(value: string, what = 'id'): string {
  if (!isUuid(value)) throw new AppError('INVALID_ID', `${what} is not a valid UUID.`);
  return value.toLowerCase();
}
