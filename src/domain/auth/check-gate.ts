/**
 * This process's password checks in flight, per throttle key: at most a key's limit of them at
 * once, the others queued first come, first served. The limit itself is kept by the database
 * (login_throttles counts every attempt before its check, across instances); this gate only keeps
 * a burst on one name (64 parallel logins of a service account) from meeting a lock that its own
 * first attempts set before any of them could succeed and lift it. A queued attempt costs no
 * database work until it is let through.
 */
export class CheckGate {
  private readonly keys = new Map<string, { inUse: number; queue: (() => void)[] }>();

  /**
   * Takes a place on every key (in key order, so two attempts sharing keys cannot wait on each
   * other) and returns the function that gives them back; calling it again does nothing.
   */
  async enter(keys: readonly { key: string; limit: number }[]): Promise<() => void> {
    const sorted = [...keys].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const k of sorted) await this.take(k.key, Math.max(1, k.limit));
    let left = false;
    return () => {
      if (left) return;
      left = true;
      for (const k of sorted) this.give(k.key);
    };
  }

  private take(key: string, limit: number): Promise<void> | undefined {
    let slot = this.keys.get(key);
    if (!slot) this.keys.set(key, (slot = { inUse: 0, queue: [] }));
    if (slot.inUse < limit) {
      slot.inUse++;
      return undefined;
    }
    const queue = slot.queue;
    return new Promise((resolve) => queue.push(resolve));
  }

  /** Hands the place to the next in line (it stays in use), or frees it. */
  private give(key: string): void {
    const slot = this.keys.get(key);
    if (!slot) return;
    const next = slot.queue.shift();
    if (next) return next();
    slot.inUse--;
    if (slot.inUse === 0) this.keys.delete(key);
  }
}
