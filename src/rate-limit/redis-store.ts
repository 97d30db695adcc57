/**
 * The shared store: one GCRA arrival time per key in Redis, read and written by one atomic Lua
 * script, so every process on every machine draws from the same allowance. Time comes from the
 * Redis server (TIME), so clock skew between machines does not matter.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Admission } from './gcra.ts';
import { SLACK_MS } from './gcra.ts';
import { RateLimiterUnavailableError } from './errors.ts';
import type { Charge, GcraStore } from './store.ts';

// ARGV: mode (1 reserve, -1 release, 0 admit the one charge), then per key: cost, intervalMs, burst.
// reserve answers the wait in whole ms; admit answers {allowed 1/0, remaining, retry-after ms}.
// Mirrors reserve() and admit() in gcra.ts.
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local slack = ${SLACK_MS}
local mode = tonumber(ARGV[1])
local wait = 0
local updates = {}
for i = 1, #KEYS do
  local cost = tonumber(ARGV[i * 3 - 1])
  local interval = tonumber(ARGV[i * 3])
  local burst = tonumber(ARGV[i * 3 + 1])
  if cost > 0 then
    local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
    if mode == -1 then
      updates[i] = tat - cost * interval
    else
      local nextTat = math.max(tat, now) + cost * interval
      local allowAt = nextTat - math.max(burst, cost) * interval
      if mode == 0 then
        if allowAt - now > slack then return {0, 0, math.ceil(allowAt - now)} end
        redis.call('SET', KEYS[i], string.format('%.3f', nextTat), 'PX', math.ceil(nextTat - now) + 1000)
        return {1, math.max(0, math.floor(burst - (nextTat - now) / interval + slack / interval)), 0}
      end
      wait = math.max(wait, allowAt - now)
      updates[i] = nextTat
    end
  end
end
for i = 1, #KEYS do
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

/**
 * `redis`: a connected client the caller owns (and closes). Keys are `${prefix}:${charge.key}`;
 * every process sharing a limit uses the same prefix.
 */
export function createRedisStore(redis: Redis, prefix: string): GcraStore {
  const run = async (mode: 1 | -1 | 0, charges: readonly Charge[]): Promise<unknown> => {
    const keys = charges.map((c) => `${prefix}:${c.key}`);
    const argv = [mode, ...charges.flatMap((c) => [c.cost, c.bucket.intervalMs, c.bucket.burst])];
    try {
      try {
        return await redis.evalsha(SCRIPT_SHA, keys.length, ...keys, ...argv);
      } catch (error) {
        // First use on this server (or after SCRIPT FLUSH): send the script itself, which also caches it.
        if (!(error instanceof Error && error.message.includes('NOSCRIPT'))) throw error;
        return await redis.eval(SCRIPT, keys.length, ...keys, ...argv);
      }
    } catch (error) {
      throw new RateLimiterUnavailableError(`The shared rate limiter (Redis) failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  };

  return {
    async reserve(charges) {
      const reply = charges.length === 0 ? 0 : await run(1, charges);
      if (typeof reply !== 'number') throw new RateLimiterUnavailableError(`Unexpected reply from the rate-limit script: ${String(reply)}`);
      return reply;
    },
    async release(charges) {
      if (charges.length > 0) await run(-1, charges);
    },
    async admit(charge): Promise<Admission> {
      if (charge.cost <= 0) return { allowed: true, remaining: charge.bucket.burst, retryAfterMs: 0 };
      const reply = await run(0, [charge]);
      if (!Array.isArray(reply) || reply.length !== 3 || !reply.every((v) => typeof v === 'number')) {
        throw new RateLimiterUnavailableError(`Unexpected reply from the rate-limit script: ${String(reply)}`);
      }
      const [allowed, remaining, retryAfterMs] = reply as [number, number, number];
      return { allowed: allowed === 1, remaining, retryAfterMs };
    },
  };
}
