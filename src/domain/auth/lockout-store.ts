import type { ThrottleRecord } from '../../db/repositories/login-throttles.js';

/**
 * What the login guard needs of storage: an atomic read-change-write of some throttle rows. The
 * rule itself (lockout.ts) runs inside `change`; the store only promises that no other update of
 * these keys, from this server or another instance, falls between the read and the write (the
 * PostgreSQL one locks the rows: db/repositories/login-throttles.ts). A fake for tests is a Map
 * and a loop.
 */
export interface ThrottleStore {
  /**
   * Reads the rows of `keys`, hands them to `change`, and writes back the rows it returns. With
   * `create`, a key without a row reads as `create(key)`; without, it is left out (and `change`
   * may see fewer rows than keys).
   */
  update(
    keys: readonly string[],
    change: (rows: ThrottleRecord[]) => ThrottleRecord[],
    create?: (key: string) => ThrottleRecord,
  ): Promise<void>;
}
