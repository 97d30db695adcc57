/**
 * One limit on requests and tokens per window, shared by every caller that holds the same limiter
 * (one process: the memory limiter; every worker on every machine: the Redis limiter), so ten
 * workers do not trip the provider's limit ten times harder.
 *
 * Both implementations use GCRA (the generic cell rate algorithm, i.e. a token bucket stored as one
 * "theoretical arrival time" per resource) with reservations: `acquire` books the earliest slot where
 * both the request and its tokens fit and sleeps until then. Booking instead of polling keeps the
 * order fair (a large request is not starved by small ones) and the rate exact; a cancelled wait
 * gives its booking back.
 */
import { cancelledError } from './errors.ts';

export interface RateLimiter {
  /**
   * Resolves when one request of `tokens` tokens may be sent. Rejects with a `cancelled`
   * ProviderError if `signal` fires while waiting.
   */
  acquire(tokens: number, signal?: AbortSignal): Promise<void>;
  /** Total milliseconds callers have spent waiting in `acquire` (a counter, for metrics). */
  readonly waitedMs: number;
}

export interface RateLimitOptions {
  /** Requests allowed per window; 0 or absent: no request limit. */
  requestsPerWindow?: number;
  /** Tokens (input + expected output) allowed per window; 0 or absent: no token limit. */
  tokensPerWindow?: number;
  /** The window the limits are expressed in; 60 000 for the usual per-minute limits. */
  windowMs?: number;
  /**
   * Share of a window's allowance that may go out at once after a quiet period. Providers enforce
   * per-minute limits over shorter periods too, so a whole minute's worth in one burst would 429.
   */
  burstFraction?: number;
}

/** Per-resource GCRA parameters: ms of "cost" per unit and how many units may go at once. */
export interface Bucket {
  intervalMs: number;
  burst: number;
}

export interface Buckets {
  requests?: Bucket;
  tokens?: Bucket;
}

export function toBuckets(opts: RateLimitOptions): Buckets {
  const windowMs = opts.windowMs ?? 60_000;
  const fraction = opts.burstFraction ?? 0.1;
  if (!(windowMs > 0)) throw new RangeError('windowMs must be positive');
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError('burstFraction must be in (0, 1]');
  const bucket = (perWindow: number | undefined): Bucket | undefined => {
    if (perWindow === undefined || perWindow === 0) return undefined;
    if (!(perWindow > 0)) throw new RangeError('rate limits must be positive');
    return { intervalMs: windowMs / perWindow, burst: Math.max(1, Math.floor(perWindow * fraction)) };
  };
  const buckets: Buckets = {};
  const requests = bucket(opts.requestsPerWindow);
  const tokens = bucket(opts.tokensPerWindow);
  if (requests) buckets.requests = requests;
  if (tokens) buckets.tokens = tokens;
  return buckets;
}

/**
 * One GCRA reservation: given the stored arrival time, returns how long the caller waits and the
 * new stored time. A cost above the burst is let through once the bucket is full (and then paid
 * for by everyone after it), so a single large request can never wait forever.
 */
export function reserve(nowMs: number, tatMs: number, cost: number, bucket: Bucket): { waitMs: number; tatMs: number } {
  const base = Math.max(tatMs, nowMs);
  const next = base + cost * bucket.intervalMs;
  const allowAt = next - Math.max(bucket.burst, cost) * bucket.intervalMs;
  return { waitMs: Math.max(0, allowAt - nowMs), tatMs: next };
}

/** setTimeout that rejects with a `cancelled` error when `signal` fires. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(cancelledError(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelledError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
