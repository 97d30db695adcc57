/**
 * The arithmetic of the process's one rate limiter: GCRA (the generic cell rate algorithm, a token
 * bucket stored as one "theoretical arrival time" per key). Pure functions; the stores
 * (memory-store.ts, redis-store.ts) keep the arrival times and apply these rules atomically.
 *
 * Two ways to spend from a bucket:
 * - `reserve` books the earliest slot where the cost fits and says how long to wait for it (the LLM
 *   limits: booking instead of polling keeps the order fair and the rate exact);
 * - `admit` takes the cost only if it fits now and otherwise books nothing (the API: a request over
 *   its limit is refused, and a refused request does not push the next allowed one further away).
 */

/** Per-key GCRA parameters: ms of "cost" per unit and how many units may go at once. */
export interface Bucket {
  intervalMs: number;
  burst: number;
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

export interface Buckets {
  requests?: Bucket;
  tokens?: Bucket;
}

/**
 * Float sums of intervals (60 000 / 7 …) may land a hair past the exact slot; a slot that close is
 * the slot. The Redis script uses the same tolerance.
 */
export const SLACK_MS = 0.01;

/** One bucket for `perWindow` units a window with a burst of `burstFraction` of them; undefined: no limit. */
export function bucketFor(perWindow: number | undefined, windowMs = 60_000, burstFraction = 1): Bucket | undefined {
  if (!(windowMs > 0)) throw new RangeError('windowMs must be positive');
  if (!(burstFraction > 0 && burstFraction <= 1)) throw new RangeError('burstFraction must be in (0, 1]');
  if (perWindow === undefined || perWindow === 0) return undefined;
  if (!(perWindow > 0)) throw new RangeError('rate limits must be positive');
  return { intervalMs: windowMs / perWindow, burst: Math.max(1, Math.floor(perWindow * burstFraction)) };
}

export function toBuckets(opts: RateLimitOptions): Buckets {
  const windowMs = opts.windowMs ?? 60_000;
  const fraction = opts.burstFraction ?? 0.1;
  const buckets: Buckets = {};
  const requests = bucketFor(opts.requestsPerWindow, windowMs, fraction);
  const tokens = bucketFor(opts.tokensPerWindow, windowMs, fraction);
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

/** What `admit` decided; `tatMs` is the arrival time to store (unchanged when refused). */
export interface Admission {
  allowed: boolean;
  /** Units the bucket still holds right now, after this one. */
  remaining: number;
  /** When refused: ms until the cost would fit. 0 when allowed. */
  retryAfterMs: number;
}

/** Takes `cost` units if they fit now; a refusal books nothing. */
export function admit(nowMs: number, tatMs: number, cost: number, bucket: Bucket): Admission & { tatMs: number } {
  const r = reserve(nowMs, tatMs, cost, bucket);
  if (r.waitMs > SLACK_MS) return { allowed: false, remaining: 0, retryAfterMs: r.waitMs, tatMs };
  return { allowed: true, remaining: remainingAt(nowMs, r.tatMs, bucket), retryAfterMs: 0, tatMs: r.tatMs };
}

/** Units a bucket whose arrival time is `tatMs` lets through at `nowMs`. */
export function remainingAt(nowMs: number, tatMs: number, bucket: Bucket): number {
  const used = Math.max(0, tatMs - nowMs) / bucket.intervalMs;
  return Math.max(0, Math.floor(bucket.burst - used + SLACK_MS / bucket.intervalMs));
}
