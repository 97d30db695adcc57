/** The in-process store: exact for one process (embedded mode, tests, and the API's fallback while Redis is out). */
import { admit, reserve } from './gcra.ts';
import type { Charge, GcraStore } from './store.ts';

export interface MemoryStoreOptions {
  /** Clock, for tests. */
  now?: () => number;
}

/** Keys whose arrival time has passed hold nothing; past this many keys they are forgotten. */
const PRUNE_ABOVE = 100_000;

export function createMemoryStore(opts: MemoryStoreOptions = {}): GcraStore {
  const now = opts.now ?? Date.now;
  const tats = new Map<string, number>();

  const set = (key: string, tat: number, t: number) => {
    tats.set(key, tat);
    if (tats.size > PRUNE_ABOVE) for (const [k, v] of tats) if (v <= t) tats.delete(k);
  };

  return {
    // Single-threaded: every call's reads and writes happen together, so they are atomic.
    async reserve(charges) {
      const t = now();
      let wait = 0;
      for (const c of charges) {
        if (c.cost <= 0) continue;
        const r = reserve(t, tats.get(c.key) ?? 0, c.cost, c.bucket);
        set(c.key, r.tatMs, t);
        wait = Math.max(wait, r.waitMs);
      }
      return wait;
    },
    async release(charges: readonly Charge[]) {
      for (const c of charges) {
        const tat = tats.get(c.key);
        if (tat !== undefined && c.cost > 0) tats.set(c.key, tat - c.cost * c.bucket.intervalMs);
      }
    },
    async admit(c) {
      const t = now();
      const r = admit(t, tats.get(c.key) ?? 0, c.cost, c.bucket);
      if (r.allowed) set(c.key, r.tatMs, t);
      return { allowed: r.allowed, remaining: r.remaining, retryAfterMs: r.retryAfterMs };
    },
  };
}
