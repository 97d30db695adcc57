/**
 * Failures as values with stable codes. The worker decides retry-or-not from `retryable` alone, so
 * the mapping from provider quirks to codes happens once, in the provider, and never in callers.
 */
import { RateLimiterUnavailableError, RateLimitWaitCancelledError } from '../rate-limit/index.ts';

export type ProviderErrorCode =
  | 'rate_limited'
  | 'timeout'
  | 'unavailable'
  | 'auth'
  | 'bad_request'
  | 'invalid_output'
  | 'context_length'
  | 'cancelled';

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly code: ProviderErrorCode;
  /** True when the same request may succeed later (rate limit, outage, timeout, cancellation). */
  readonly retryable: boolean;
  /** The provider's own hint (Retry-After), when it gave one. */
  readonly retryAfterMs?: number;
  /** HTTP status, when the failure came from a response. */
  readonly status?: number;

  constructor(
    code: ProviderErrorCode,
    message: string,
    opts: { retryable?: boolean; retryAfterMs?: number; status?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retryable = opts.retryable ?? DEFAULT_RETRYABLE[code];
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
    if (opts.status !== undefined) this.status = opts.status;
  }
}

const DEFAULT_RETRYABLE: Record<ProviderErrorCode, boolean> = {
  rate_limited: true,
  timeout: true,
  unavailable: true,
  auth: false,
  bad_request: false,
  // A model that failed its repair attempt will most likely fail again on the same text.
  invalid_output: false,
  context_length: false,
  // Nothing is wrong with the document: a cancelled run (shutdown) may be picked up again.
  cancelled: true,
};

/** Problems with the input itself, found before any request is sent. Never retryable. */
export type ClassifyInputErrorCode = 'empty_document' | 'invalid_taxonomy' | 'invalid_input' | 'budget_too_small' | 'document_too_long';

export class ClassifyInputError extends Error {
  override readonly name = 'ClassifyInputError';
  readonly retryable = false;
  constructor(
    readonly code: ClassifyInputErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// Callers of the library meet the limiter's outage error through this module.
export { RateLimiterUnavailableError };

export type ClassificationFailureCode = ProviderErrorCode | ClassifyInputErrorCode | 'rate_limiter_unavailable' | 'internal';

export interface ClassificationFailure {
  code: ClassificationFailureCode;
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
}

/**
 * Turns anything `classify` threw into a failure a job can record. Unknown errors are bugs, not
 * provider trouble: they are reported as `internal` and not retried, so they surface instead of looping.
 */
export function classificationFailure(error: unknown): ClassificationFailure {
  if (error instanceof ProviderError) {
    const failure: ClassificationFailure = { code: error.code, message: error.message, retryable: error.retryable };
    if (error.retryAfterMs !== undefined) failure.retryAfterMs = error.retryAfterMs;
    return failure;
  }
  if (error instanceof ClassifyInputError) return { code: error.code, message: error.message, retryable: false };
  if (error instanceof RateLimiterUnavailableError) return { code: error.code, message: error.message, retryable: true };
  if (error instanceof RateLimitWaitCancelledError) return { code: error.code, message: error.message, retryable: true };
  return { code: 'internal', message: error instanceof Error ? error.message : String(error), retryable: false };
}

/** The error to throw when a caller's signal fires while the library is waiting. */
export function cancelledError(signal: AbortSignal | undefined): ProviderError {
  const reason: unknown = signal?.reason;
  const detail = reason instanceof Error ? `: ${reason.message}` : '';
  return new ProviderError('cancelled', `Classification was cancelled${detail}`, { cause: reason });
}
