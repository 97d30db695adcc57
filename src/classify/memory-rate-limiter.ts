/** The in-process rate limiter: exact for one process (embedded mode, tests). */
import { cancelledError } from './errors.ts';
import { abortableSleep, type Bucket, type RateLimiter, type RateLimitOptions, reserve, toBuckets } from './rate-limit.ts';

export interface MemoryRateLimiterOptions extends RateLimitOptions {
  /** Clock, for tests. */
  now?: () => number;
}

export function createMemoryRateLimiter(opts: MemoryRateLimiterOptions): RateLimiter {
  const buckets = toBuckets(opts);
  const now = opts.now ?? Date.now;
  const tat = { requests: 0, tokens: 0 };
  let waitedMs = 0;

  const book = (kind: 'requests' | 'tokens', bucket: Bucket | undefined, cost: number, t: number): number => {
    if (!bucket || cost <= 0) return 0;
    const r = reserve(t, tat[kind], cost, bucket);
    tat[kind] = r.tatMs;
    return r.waitMs;
  };
  const refund = (kind: 'requests' | 'tokens', bucket: Bucket | undefined, cost: number) => {
    if (bucket && cost > 0) tat[kind] -= cost * bucket.intervalMs;
  };

  return {
    get waitedMs() {
      return waitedMs;
    },
    async acquire(tokens, signal) {
      if (signal?.aborted) throw cancelledError(signal);
      const t = now();
      // Single-threaded: both bookings happen together, so they are atomic.
      const wait = Math.max(book('requests', buckets.requests, 1, t), book('tokens', buckets.tokens, tokens, t));
      if (wait <= 0) return;
      const started = Date.now();
      try {
        await abortableSleep(wait, signal);
      } catch (error) {
        refund('requests', buckets.requests, 1);
        refund('tokens', buckets.tokens, tokens);
        throw error;
      } finally {
        waitedMs += Date.now() - started;
      }
    },
  };
}
