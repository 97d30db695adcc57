/**
 * The shared rate limiter (the Redis store) on the real Redis at 127.0.0.1:6379: the LLM limits
 * that wait and the API limits that admit or refuse. Each test uses its own key prefix. Timing
 * assertions are lower bounds (the limit held), never speeds.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import {
  admitLocallyDuringOutage,
  bucketFor,
  createMemoryStore,
  createRateLimiter,
  createRedisStore,
  type RateLimitOptions,
  RateLimiterUnavailableError,
  RateLimitWaitCancelledError,
} from '../../src/rate-limit/index.ts';

/** The LLM limiter as the container builds it in Redis mode: keys `${keyPrefix}:llm:requests` and `…:tokens`. */
const createRedisRateLimiter = (opts: RateLimitOptions & { redis: Redis; keyPrefix: string }) =>
  createRateLimiter({ ...opts, store: createRedisStore(opts.redis, opts.keyPrefix), key: 'llm' });

const EARLY_TOLERANCE_MS = 15;
let redis: Redis;
let other: Redis;
const prefixes: string[] = [];

function prefix(): string {
  const p = `docsight-test:rate:${randomUUID()}`;
  prefixes.push(p);
  return p;
}

describe('Redis rate limiter', () => {
  before(() => {
    redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: false, maxRetriesPerRequest: 1 });
    // A second connection stands in for a second worker process.
    other = new Redis('redis://127.0.0.1:6379', { lazyConnect: false, maxRetriesPerRequest: 1 });
  });
  after(async () => {
    for (const p of prefixes) {
      const keys = await redis.keys(`${p}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    redis.disconnect();
    other.disconnect();
  });

  it('two limiters sharing Redis together respect one request limit', async () => {
    const keyPrefix = prefix();
    const options = { requestsPerWindow: 10, windowMs: 1000, burstFraction: 0.2, keyPrefix };
    const a = createRedisRateLimiter({ ...options, redis });
    const b = createRedisRateLimiter({ ...options, redis: other });
    const start = Date.now();
    const grants = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).acquire(0).then(() => Date.now() - start)));
    grants.sort((x, y) => x - y);
    // Burst of 2, then one every 100 ms: grant i no earlier than (i - 1) * 100 ms.
    grants.forEach((t, i) => assert.ok(t >= (i - 1) * 100 - EARLY_TOLERANCE_MS, `grant ${i} at ${t} ms`));
    assert.ok(a.waitedMs > 0 && b.waitedMs > 0, 'both limiters waited for the shared limit');
  });

  it('shares the token limit too', async () => {
    const keyPrefix = prefix();
    const options = { tokensPerWindow: 2000, windowMs: 1000, burstFraction: 0.25, keyPrefix };
    const a = createRedisRateLimiter({ ...options, redis });
    const b = createRedisRateLimiter({ ...options, redis: other });
    const start = Date.now();
    // 4 × 500 tokens at 2 tokens/ms with a burst of 500: the 4th no earlier than 750 ms.
    const grants = await Promise.all([a, b, a, b].map((l) => l.acquire(500).then(() => Date.now() - start)));
    grants.sort((x, y) => x - y);
    assert.ok((grants[3] ?? 0) >= 750 - EARLY_TOLERANCE_MS, `4th grant at ${grants[3]} ms`);
  });

  it('a cancelled wait rejects with a coded error and gives its booking back', async () => {
    const keyPrefix = prefix();
    const limiter = createRedisRateLimiter({ requestsPerWindow: 5, windowMs: 1000, burstFraction: 0.2, keyPrefix, redis });
    await limiter.acquire(0);
    const controller = new AbortController();
    const waiting = limiter.acquire(0, controller.signal);
    setTimeout(() => controller.abort(), 5);
    await assert.rejects(waiting, (e: unknown) => e instanceof RateLimitWaitCancelledError && e.code === 'cancelled');
    const [[, tat], [, time]] = (await redis.multi().get(`${keyPrefix}:llm:requests`).time().exec()) as [[null, string], [null, [string, string]]];
    const now = Number(time[0]) * 1000 + Number(time[1]) / 1000;
    // Kept, the booking would put the next free slot ~400 ms ahead; given back, ~200 ms.
    assert.ok(Number(tat) - now <= 300, `next slot ${Number(tat) - now} ms ahead`);
  });

  it('keys live under the configured prefix and expire', async () => {
    const keyPrefix = prefix();
    const limiter = createRedisRateLimiter({ requestsPerWindow: 60, tokensPerWindow: 10_000, keyPrefix, redis });
    await limiter.acquire(100);
    assert.ok((await redis.pttl(`${keyPrefix}:llm:requests`)) > 0);
    assert.ok((await redis.pttl(`${keyPrefix}:llm:tokens`)) > 0);
  });

  it('reports an unreachable Redis as a retryable coded error', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    const limiter = createRedisRateLimiter({ requestsPerWindow: 10, keyPrefix: prefix(), redis: dead });
    await assert.rejects(limiter.acquire(1), (e: unknown) => e instanceof RateLimiterUnavailableError && e.retryable);
    dead.disconnect();
  });
  it('admits N a minute in a burst of N across connections, then refuses with a wait, spending nothing', async () => {
    const keyPrefix = prefix();
    const a = createRedisStore(redis, keyPrefix);
    const b = createRedisStore(other, keyPrefix);
    const bucket = bucketFor(5);
    if (!bucket) return assert.fail('a limit of 5 has a bucket');
    const charge = { key: 'api:ip:203.0.113.9', bucket, cost: 1 };
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await (i % 2 === 0 ? a : b).admit(charge));
    assert.deepEqual(
      answers.map((x) => x.allowed),
      [true, true, true, true, true, false, false],
    );
    assert.deepEqual(
      answers.slice(0, 5).map((x) => x.remaining),
      [4, 3, 2, 1, 0],
    );
    const refused = answers[6];
    assert.ok(refused && refused.retryAfterMs > 0 && refused.retryAfterMs <= 12_000, `retry after ${refused?.retryAfterMs} ms`);
    // Had the refusals been booked, the stored arrival time would be 7 intervals ahead, not 5.
    const [[, tat], [, time]] = (await redis.multi().get(`${keyPrefix}:api:ip:203.0.113.9`).time().exec()) as [[null, string], [null, [string, string]]];
    const now = Number(time[0]) * 1000 + Number(time[1]) / 1000;
    assert.ok(Number(tat) - now <= 60_000, `next slot ${Number(tat) - now} ms ahead`);
    assert.equal((await a.admit({ ...charge, key: 'api:key:other' })).allowed, true, 'another key has its own budget');
  });

  it('while Redis is unreachable, admissions fall back to the process and bookings report the outage', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    const store = admitLocallyDuringOutage(createRedisStore(dead, prefix()), createMemoryStore());
    const bucket = { intervalMs: 60_000, burst: 1 };
    assert.equal((await store.admit({ key: 'api:ip:x', bucket, cost: 1 })).allowed, true);
    assert.equal((await store.admit({ key: 'api:ip:x', bucket, cost: 1 })).allowed, false, 'the local count still limits');
    await assert.rejects(store.reserve([{ key: 'llm:requests', bucket, cost: 1 }]), (e: unknown) => e instanceof RateLimiterUnavailableError);
    dead.disconnect();
  });
});
