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
 * A counting semaphore whose waiters go in by lowest order, first come first within an order. A
 * slot freed is handed straight to the next waiter, so a caller that arrives in between cannot
 * jump the queue. Orders waiting at once are few, so the lowest is found by a look over them.
 */
export interface OrderedGate {
  enter(order: number): Promise<void>;
  leave(): void;
  /** Holders now. */
  readonly active: number;
  /** Callers waiting for a slot. */
  readonly waiting: number;
}

export function createOrderedGate(limit: number): OrderedGate {
  if (!(limit >= 1)) throw new RangeError('limit must be at least 1');
  let active = 0;
  let waiting = 0;
  const queues = new Map<number, (() => void)[]>();
  return {
    get active() {
      return active;
    },
    get waiting() {
      return waiting;
    },
    enter(order) {
      if (active < limit && waiting === 0) {
        active++;
        return Promise.resolve();
      }
      waiting++;
      return new Promise<void>((resolve) => {
        const queue = queues.get(order);
        if (queue) queue.push(resolve);
        else queues.set(order, [resolve]);
      });
    },
    leave() {
      if (waiting === 0) {
        active--;
        return;
      }
      let lowest = Infinity;
      for (const o of queues.keys()) if (o < lowest) lowest = o;
      const queue = queues.get(lowest) as (() => void)[];
      const next = queue.shift() as () => void;
      if (queue.length === 0) queues.delete(lowest);
      waiting--;
      next();
    },
  };
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
  const gate = createOrderedGate(limit);
  return {
    get active() {
      return gate.active;
    },
    get waiting() {
      return gate.waiting;
    },
    async run(fn, opts = {}) {
      await gate.enter(opts.retry ? 0 : 1);
      try {
        return await fn();
      } finally {
        gate.leave();
      }
    },
  };
}
