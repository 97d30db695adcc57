/**
 * The process's one rate limiter (GCRA, memory or Redis store): the API's per-key and per-address
 * limits admit or refuse through it, the LLM limits wait for it. Callers import from here.
 */
export { type Admission, type Bucket, bucketFor, type RateLimitOptions } from './gcra.ts';
export { RateLimiterUnavailableError, RateLimitWaitCancelledError } from './errors.ts';
export { admitLocallyDuringOutage, type Charge, type GcraStore } from './store.ts';
export { createMemoryStore, type MemoryStoreOptions } from './memory-store.ts';
export { createRedisStore } from './redis-store.ts';
export { createRateLimiter, type RateLimiter, type RateLimiterOptions } from './limiter.ts';
