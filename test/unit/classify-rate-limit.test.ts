import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classificationFailure } from '../../src/classify/errors.ts';
import { admit, bucketFor, reserve, toBuckets } from '../../src/rate-limit/gcra.ts';
import { createMemoryStore, createRateLimiter, type MemoryStoreOptions, type RateLimitOptions, RateLimitWaitCancelledError } from '../../src/rate-limit/index.ts';

/** The LLM limiter over a fresh in-process store, as the container builds it without Redis. */
const createMemoryRateLimiter = (opts: RateLimitOptions & MemoryStoreOptions) => createRateLimiter({ ...opts, store: createMemoryStore(opts), key: 'llm' });
const isCancelled = (e: unknown) => e instanceof RateLimitWaitCancelledError && e.code === 'cancelled';

/** Timers may fire late but not (meaningfully) early: lower bounds on time are safe to assert. */
const EARLY_TOLERANCE_MS = 15;

describe('GCRA reservation', () => {
  const bucket = { intervalMs: 100, burst: 2 };

  it('lets a burst through, then spaces requests by the interval', () => {
    let tat = 0;
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = reserve(1000, tat, 1, bucket);
      tat = r.tatMs;
      waits.push(r.waitMs);
    }
    assert.deepEqual(waits, [0, 0, 100, 200, 300]);
  });

  it('lets a request larger than the burst through once the bucket is full, then charges for it', () => {
    const big = reserve(1000, 0, 10, bucket);
    assert.equal(big.waitMs, 0);
    const after = reserve(1000, big.tatMs, 1, bucket);
    assert.equal(after.waitMs, 900);
  });

  it('derives buckets from per-window limits', () => {
    assert.deepEqual(toBuckets({ requestsPerWindow: 600, tokensPerWindow: 0, windowMs: 60_000, burstFraction: 0.1 }), {
      requests: { intervalMs: 100, burst: 60 },
    });
    assert.throws(() => toBuckets({ requestsPerWindow: -1 }), RangeError);
  });
});

describe('memory rate limiter', () => {
  it('holds requests to the rate', async () => {
    const limiter = createMemoryRateLimiter({ requestsPerWindow: 10, windowMs: 1000, burstFraction: 0.1 });
    const start = Date.now();
    const granted = await Promise.all(Array.from({ length: 6 }, () => limiter.acquire(0).then(() => Date.now() - start)));
    granted.sort((a, b) => a - b);
    granted.forEach((t, i) => assert.ok(t >= i * 100 - EARLY_TOLERANCE_MS, `grant ${i} at ${t} ms`));
    assert.ok(limiter.waitedMs > 0);
  });

  it('holds tokens to the rate', async () => {
    const limiter = createMemoryRateLimiter({ tokensPerWindow: 1000, windowMs: 1000, burstFraction: 0.5 });
    const start = Date.now();
    const granted = await Promise.all([400, 400, 400].map((t) => limiter.acquire(t).then(() => Date.now() - start)));
    granted.sort((a, b) => a - b);
    assert.ok((granted[1] ?? 0) >= 300 - EARLY_TOLERANCE_MS);
    assert.ok((granted[2] ?? 0) >= 700 - EARLY_TOLERANCE_MS);
  });

  it('cancels a wait with a coded error and gives its booking back', async () => {
    let now = 0;
    const limiter = createMemoryRateLimiter({ requestsPerWindow: 1, windowMs: 60_000, burstFraction: 1, now: () => now });
    await limiter.acquire(0);
    const controller = new AbortController();
    const waiting = limiter.acquire(0, controller.signal);
    controller.abort();
    await assert.rejects(waiting, isCancelled);
    // Had the cancelled booking been kept, the next slot would be two windows away, not one.
    now = 60_000;
    await limiter.acquire(0, AbortSignal.timeout(5000));
    const already = new AbortController();
    already.abort();
    await assert.rejects(limiter.acquire(0, already.signal), isCancelled);
  });

  it('without limits never waits', async () => {
    const limiter = createMemoryRateLimiter({});
    await Promise.all(Array.from({ length: 100 }, () => limiter.acquire(10_000)));
    assert.equal(limiter.waitedMs, 0);
  });
});

describe('classification failures from the rate limiter', () => {
  it('a cancelled wait is a retryable cancellation, as a cancelled provider call is', () => {
    const controller = new AbortController();
    controller.abort(new Error('worker closing'));
    const failure = classificationFailure(new RateLimitWaitCancelledError(controller.signal));
    assert.equal(failure.code, 'cancelled');
    assert.equal(failure.retryable, true);
    assert.match(failure.message, /worker closing/);
  });
});

describe('GCRA admission (the API limits)', () => {
  it('N a minute means a burst of N, then one every minute / N', () => {
    const bucket = bucketFor(5);
    assert.deepEqual(bucket, { intervalMs: 12_000, burst: 5 });
    if (!bucket) return;
    let tat = 0;
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = admit(1_000_000, tat, 1, bucket);
      assert.ok(a.allowed, `request ${i} allowed`);
      tat = a.tatMs;
      remaining.push(a.remaining);
    }
    assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
    const refused = admit(1_000_000, tat, 1, bucket);
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterMs, 12_000);
    // A refusal books nothing: the next request is allowed exactly one interval later.
    assert.equal(refused.tatMs, tat);
    assert.equal(admit(1_000_000 + 11_999, tat, 1, bucket).allowed, false);
    assert.equal(admit(1_000_000 + 12_000, tat, 1, bucket).allowed, true);
  });

  it('admits the whole burst when the interval is not a whole number of ms', () => {
    const bucket = bucketFor(7);
    if (!bucket) return assert.fail('a limit of 7 has a bucket');
    let tat = 0;
    for (let i = 0; i < 7; i++) {
      const a = admit(5_000, tat, 1, bucket);
      assert.ok(a.allowed, `request ${i} of 7 allowed`);
      tat = a.tatMs;
    }
    assert.equal(admit(5_000, tat, 1, bucket).allowed, false);
  });

  it('no limit is no bucket', () => {
    assert.equal(bucketFor(0), undefined);
    assert.throws(() => bucketFor(-1), RangeError);
  });

  it('the memory store keeps one budget per key and refusals do not spend', async () => {
    let now = 0;
    const store = createMemoryStore({ now: () => now });
    const bucket = { intervalMs: 1000, burst: 2 };
    const take = (key: string) => store.admit({ key, bucket, cost: 1 }).then((a) => a.allowed);
    assert.deepEqual([await take('ip:a'), await take('ip:a'), await take('ip:a'), await take('ip:a')], [true, true, false, false]);
    assert.equal(await take('key:b'), true, 'another key has its own budget');
    now = 1000;
    assert.deepEqual([await take('ip:a'), await take('ip:a')], [true, false]);
  });
});
