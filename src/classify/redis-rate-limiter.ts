/**
 * The shared rate limiter: one GCRA state per resource in Redis, booked by an atomic Lua script, so
 * every worker on every machine draws from the same allowance. Time comes from the Redis server
 * (TIME), so clock skew between machines does not matter.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { cancelledError, RateLimiterUnavailableError } from './errors.ts';
import { abortableSleep, type Bucket, type RateLimiter, type RateLimitOptions, toBuckets } from './rate-limit.ts';

export interface RedisRateLimiterOptions extends RateLimitOptions {
  /** A connected client; the caller owns it (and closes it). */
  redis: Redis;
  /** Keys are `${keyPrefix}:requests` and `${keyPrefix}:tokens`; every limiter sharing a limit uses the same prefix. */
  keyPrefix?: string;
}

// ARGV: mode (1 book, -1 give back), then per resource: cost, intervalMs, burst (interval 0: no limit).
// Returns the wait in whole milliseconds. Mirrors reserve() in rate-limit.ts.
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local mode = tonumber(ARGV[1])
local wait = 0
local updates = {}
for i = 1, 2 do
  local cost = tonumber(ARGV[i * 3 - 1])
  local interval = tonumber(ARGV[i * 3])
  local burst = tonumber(ARGV[i * 3 + 1])
  if interval > 0 and cost > 0 then
    local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
    local nextTat
    if mode > 0 then
      local base = math.max(tat, now)
      nextTat = base + cost * interval
      local allowAt = nextTat - math.max(burst, cost) * interval
      wait = math.max(wait, allowAt - now)
    else
      nextTat = tat - cost * interval
    end
    updates[i] = nextTat
  end
end
for i = 1, 2 do
  local nextTat = updates[i]
  if nextTat ~= nil then
    if nextTat > now then
      redis.call('SET', KEYS[i], string.format('%.3f', nextTat), 'PX', math.ceil(nextTat - now) + 1000)
    else
      redis.call('DEL', KEYS[i])
    end
  end
end
return math.ceil(wait)
`;
const SCRIPT_SHA = createHash('sha1').update(SCRIPT).digest('hex');

export function createRedisRateLimiter(opts: RedisRateLimiterOptions): RateLimiter {
  const buckets = toBuckets(opts);
  const prefix = opts.keyPrefix ?? 'docsight:llm-rate';
  const keys = [`${prefix}:requests`, `${prefix}:tokens`];
  const { redis } = opts;
  let waitedMs = 0;

  const args = (mode: 1 | -1, tokens: number): (string | number)[] => {
    const part = (b: Bucket | undefined, cost: number) => (b ? [cost, b.intervalMs, b.burst] : [0, 0, 0]);
    return [mode, ...part(buckets.requests, 1), ...part(buckets.tokens, tokens)];
  };

  const run = async (mode: 1 | -1, tokens: number): Promise<number> => {
    const argv = args(mode, tokens);
    try {
      let reply: unknown;
      try {
        reply = await redis.evalsha(SCRIPT_SHA, keys.length, ...keys, ...argv);
      } catch (error) {
        // First use on this server (or after SCRIPT FLUSH): send the script itself, which also caches it.
        if (!(error instanceof Error && error.message.includes('NOSCRIPT'))) throw error;
        reply = await redis.eval(SCRIPT, keys.length, ...keys, ...argv);
      }
      if (typeof reply !== 'number') throw new Error(`unexpected reply from the rate-limit script: ${String(reply)}`);
      return reply;
    } catch (error) {
      throw new RateLimiterUnavailableError(`The shared rate limiter (Redis) failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  };

  return {
    get waitedMs() {
      return waitedMs;
    },
    async acquire(tokens, signal) {
      if (signal?.aborted) throw cancelledError(signal);
      if (!buckets.requests && !buckets.tokens) return;
      const wait = await run(1, Math.max(0, Math.ceil(tokens)));
      if (wait <= 0) return;
      const started = Date.now();
      try {
        await abortableSleep(wait, signal);
      } catch (sleepError) {
        // Give the booking back so a cancelled job does not slow the others; if that fails too, the
        // booking simply expires, so the cancellation is what the caller must hear about.
        await run(-1, Math.max(0, Math.ceil(tokens))).catch((refundError: unknown) => {
          (sleepError as Error & { refundError?: unknown }).refundError = refundError;
        });
        throw sleepError;
      } finally {
        waitedMs += Date.now() - started;
      }
    },
  };
}
