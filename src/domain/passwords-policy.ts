import { AppError } from '../errors/index.js';

/** bcrypt reads 72 bytes at most; a longer password would be silently cut, so it is refused. */
export function checkNewPassword(password: string): void {
  const bytes = Buffer.byteLength(password, 'utf8');
  if (password.length < 8 || bytes > 72) throw new AppError('WEAK_PASSWORD');
}
