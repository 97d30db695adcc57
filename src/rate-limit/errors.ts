/** The rate limiter's failures, as values with stable codes; callers map them into their own vocabulary. */

/** The shared store (Redis) could not be reached: transient, the work may be retried. */
export class RateLimiterUnavailableError extends Error {
  override readonly name = 'RateLimiterUnavailableError';
  readonly code = 'rate_limiter_unavailable';
  readonly retryable = true;
}

/** The caller's signal fired while it waited for its slot; its booking was given back. */
export class RateLimitWaitCancelledError extends Error {
  override readonly name = 'RateLimitWaitCancelledError';
  readonly code = 'cancelled';
  readonly retryable = true;
  constructor(signal: AbortSignal | undefined) {
    const reason: unknown = signal?.reason;
    super(`The wait for a rate-limit slot was cancelled${reason instanceof Error ? `: ${reason.message}` : ''}`, { cause: reason });
  }
}
