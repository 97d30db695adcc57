/**
 * A limit on requests and tokens per window that callers wait for (the LLM limits), shared by
 * every caller whose limiter uses the same store and key: one process with the memory store,
 * every worker on every machine with the Redis store, so ten workers do not trip the provider's
 * limit ten times harder. A cancelled wait gives its booking back.
 */
import { RateLimitWaitCancelledError } from './errors.ts';
import { type RateLimitOptions, toBuckets } from './gcra.ts';
import type { Charge, GcraStore } from './store.ts';

export interface RateLimiter {
  /**
   * Resolves when one request of `tokens` tokens may be sent. Rejects with a
   * RateLimitWaitCancelledError if `signal` fires while waiting, and with a
   * RateLimiterUnavailableError if the store cannot be reached.
   */
  acquire(tokens: number, signal?: AbortSignal): Promise<void>;
  /** Total milliseconds callers have spent waiting in `acquire` (a counter, for metrics). */
  readonly waitedMs: number;
}

export interface RateLimiterOptions extends RateLimitOptions {
  store: GcraStore;
  /** The store keys are `${key}:requests` and `${key}:tokens`; limiters sharing a limit use the same key. */
  key: string;
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const buckets = toBuckets(opts);
  const { store } = opts;
  let waitedMs = 0;

  const charges = (tokens: number): Charge[] => {
    const list: Charge[] = [];
    if (buckets.requests) list.push({ key: `${opts.key}:requests`, bucket: buckets.requests, cost: 1 });
    if (buckets.tokens && tokens > 0) list.push({ key: `${opts.key}:tokens`, bucket: buckets.tokens, cost: Math.ceil(tokens) });
    return list;
  };

  return {
    get waitedMs() {
      return waitedMs;
    },
    async acquire(tokens, signal) {
      if (signal?.aborted) throw new RateLimitWaitCancelledError(signal);
      const booked = charges(tokens);
      if (booked.length === 0) return;
      const wait = await store.reserve(booked);
      if (wait <= 0) return;
      const started = Date.now();
      try {
        await abortableSleep(wait, signal);
      } catch (sleepError) {
        // Give the booking back so a cancelled job does not slow the others; if that fails too, the
        // booking simply expires, so the cancellation is what the caller must hear about.
        await store.release(booked).catch((releaseError: unknown) => {
          (sleepError as Error & { releaseError?: unknown }).releaseError = releaseError;
        });
        throw sleepError;
      } finally {
        waitedMs += Date.now() - started;
      }
    },
  };
}

/** setTimeout that rejects with a RateLimitWaitCancelledError when `signal` fires. */
function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new RateLimitWaitCancelledError(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new RateLimitWaitCancelledError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
