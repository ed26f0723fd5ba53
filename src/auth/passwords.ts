// Password hashing with bcrypt.
//
// Two properties matter beyond "hash and compare":
//  * Timing: an unknown user must cost the same as a wrong password, otherwise
//    response times reveal which usernames exist. We always run one full bcrypt
//    compare at the configured cost, against a dummy hash when there is no
//    stored hash.
//  * bcrypt silently ignores everything after the first 72 bytes, so two long
//    passwords sharing a 72-byte prefix would be equal. We refuse to create
//    such hashes instead of silently weakening them.
import bcrypt from 'bcrypt';

/** bcrypt's input limit, in UTF-8 bytes (not characters). */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;

const MIN_COST = 4;
const MAX_COST = 31;

// A well-formed bcrypt hash: $2a$/$2b$/$2y$, two-digit cost, 22-char salt + 31-char digest.
const BCRYPT_HASH = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;

// Dummy hashes are shared per cost across instances: computing one costs as
// much as a login, so do it once per process. Cached as a promise so
// concurrent first callers don't each compute one.
const dummyHashes = new Map<number, Promise<string>>();
const DUMMY_PASSWORD = 'dummy-password-for-constant-time-compare';

function dummyHashFor(cost: number): Promise<string> {
  let pending = dummyHashes.get(cost);
  if (!pending) {
    pending = bcrypt.hash(DUMMY_PASSWORD, cost);
    // Don't cache a failure forever.
    pending.catch(() => dummyHashes.delete(cost));
    dummyHashes.set(cost, pending);
  }
  return pending;
}

/** Cost factor encoded in a bcrypt hash, or undefined when the hash is not a bcrypt hash. */
export function bcryptCost(hash: string): number | undefined {
  const m = BCRYPT_HASH.exec(hash);
  return m ? Number(m[1]) : undefined;
}

function tooLong(plain: string): boolean {
  return Buffer.byteLength(plain, 'utf8') > BCRYPT_MAX_PASSWORD_BYTES;
}

export class PasswordHasher {
  readonly cost: number;

  constructor(cost: number) {
    if (!Number.isInteger(cost) || cost < MIN_COST || cost > MAX_COST) {
      throw new RangeError(`bcrypt cost must be an integer between ${MIN_COST} and ${MAX_COST}`);
    }
    this.cost = cost;
  }

  async hash(plain: string): Promise<string> {
    if (typeof plain !== 'string') throw new TypeError('password must be a string');
    if (tooLong(plain)) {
      throw new RangeError(`password is longer than ${BCRYPT_MAX_PASSWORD_BYTES} bytes`);
    }
    return bcrypt.hash(plain, this.cost);
  }

  /**
   * Checks `plain` against a stored hash. Always performs exactly one bcrypt
   * compare at (at least) the configured cost, whatever the input, so callers
   * can pass `null` for an unknown user without leaking that through timing.
   * `needsRehash` tells the caller to store a fresh hash (cost changed).
   */
  async verify(plain: string, hash: string | null | undefined): Promise<{ ok: boolean; needsRehash: boolean }> {
    const storedCost = typeof hash === 'string' ? bcryptCost(hash) : undefined;
    const usable = typeof plain === 'string' && !tooLong(plain) && storedCost !== undefined;
    if (!usable) {
      // Burn the same time as a real compare, then fail.
      await bcrypt.compare(DUMMY_PASSWORD, await dummyHashFor(this.cost));
      return { ok: false, needsRehash: false };
    }
    const ok = await bcrypt.compare(plain, hash as string);
    return { ok, needsRehash: ok && storedCost !== this.cost };
  }
}
