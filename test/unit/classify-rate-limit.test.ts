import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProviderError } from '../../src/classify/errors.ts';
import { createMemoryRateLimiter } from '../../src/classify/memory-rate-limiter.ts';
import { reserve, toBuckets } from '../../src/classify/rate-limit.ts';

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
    await assert.rejects(waiting, (e: unknown) => e instanceof ProviderError && e.code === 'cancelled');
    // Had the cancelled booking been kept, the next slot would be two windows away, not one.
    now = 60_000;
    await limiter.acquire(0, AbortSignal.timeout(5000));
    const already = new AbortController();
    already.abort();
    await assert.rejects(limiter.acquire(0, already.signal), (e: unknown) => e instanceof ProviderError && e.code === 'cancelled');
  });

  it('without limits never waits', async () => {
    const limiter = createMemoryRateLimiter({});
    await Promise.all(Array.from({ length: 100 }, () => limiter.acquire(10_000)));
    assert.equal(limiter.waitedMs, 0);
  });
});
