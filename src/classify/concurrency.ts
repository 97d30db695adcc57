/**
 * Runs `fn` over `items` with at most `limit` in flight, in order of results. The first failure
 * aborts the siblings still running (their signal fires), since the whole document fails anyway
 * and their tokens would be wasted.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number, signal: AbortSignal) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const stop = new AbortController();
  const combined = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index, combined);
      } catch (error) {
        stop.abort(error);
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/**
 * A counting semaphore for HTTP attempts, FIFO within two classes: retries go before first
 * attempts. A retry belongs to a document that has already waited its turn (and its backoff);
 * behind every first attempt admitted after it, it would hold its whole batch open while the
 * batch's other slots sit idle.
 */
export interface RequestGate {
  run<T>(fn: () => Promise<T>, opts?: { retry?: boolean }): Promise<T>;
  /** Attempts holding a slot now. */
  readonly active: number;
  /** Attempts waiting for one. */
  readonly waiting: number;
}

export function createRequestGate(limit: number): RequestGate {
  if (!(limit >= 1)) throw new RangeError('limit must be at least 1');
  let active = 0;
  const retries: (() => void)[] = [];
  const firsts: (() => void)[] = [];
  // A slot freed is handed straight to the next waiter (active stays counted), so a caller that
  // arrives in between cannot jump the queue.
  const release = () => {
    const next = retries.shift() ?? firsts.shift();
    if (next) next();
    else active--;
  };
  return {
    get active() {
      return active;
    },
    get waiting() {
      return retries.length + firsts.length;
    },
    async run(fn, opts = {}) {
      if (active < limit) active++;
      else await new Promise<void>((resolve) => (opts.retry ? retries : firsts).push(resolve));
      try {
        return await fn();
      } finally {
        release();
      }
    },
  };
}
