/**
 * A byte-weighted semaphore: holders together hold at most `capacity` bytes, first come first
 * served. One holder may always take what it asks when nothing is held, so a request the size of
 * the whole budget still goes through (alone).
 */
export interface ByteBudget {
  acquire(bytes: number): Promise<void>;
  release(bytes: number): void;
  readonly used: number;
}

export function createByteBudget(capacity: number): ByteBudget {
  let used = 0;
  const waiting: { bytes: number; grant: () => void }[] = [];
  const fits = (bytes: number) => used === 0 || used + bytes <= capacity;
  const pump = () => {
    for (let w = waiting[0]; w && fits(w.bytes); w = waiting[0]) {
      waiting.shift();
      used += w.bytes;
      w.grant();
    }
  };
  return {
    async acquire(bytes) {
      if (waiting.length === 0 && fits(bytes)) {
        used += bytes;
        return;
      }
      await new Promise<void>((grant) => waiting.push({ bytes, grant }));
    },
    release(bytes) {
      used -= bytes;
      pump();
    },
    get used() {
      return used;
    },
  };
}
