/**
 * Abuse resistance at the edge: per-key (or per-IP) rate limits shared across replicas through
 * Redis when there is one, security headers on every answer, and CORS only for configured origins.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { AppError } from '../../domain/errors.ts';

export interface RateLimitStore {
  /** Count one request for `key` in the current window; returns the count and ms until reset. */
  hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }>;
}

/** One process: a fixed window per key, forgotten when it ends. */
export function memoryRateLimitStore(): RateLimitStore {
  const windows = new Map<string, { count: number; resetAt: number }>();
  return {
    async hit(key, windowMs) {
      const now = Date.now();
      let w = windows.get(key);
      if (!w || w.resetAt <= now) {
        w = { count: 0, resetAt: now + windowMs };
        windows.set(key, w);
        if (windows.size > 100_000) for (const [k, v] of windows) if (v.resetAt <= now) windows.delete(k);
      }
      w.count++;
      return { count: w.count, resetMs: w.resetAt - now };
    },
  };
}

/** Every API replica: the same fixed window in Redis (INCR + PEXPIRE in one script). */
export function redisRateLimitStore(redis: Redis, prefix: string): RateLimitStore {
  const script = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;
  return {
    async hit(key, windowMs) {
      const [count, ttl] = (await redis.eval(script, 1, `${prefix}:${key}`, String(windowMs))) as [number, number];
      return { count, resetMs: ttl > 0 ? ttl : windowMs };
    },
  };
}

export interface RateLimitOptions {
  store: RateLimitStore;
  /** Requests per minute per key (0: no limit). */
  perKeyPerMinute: number;
  /** Requests per minute per IP without a valid key, failed attempts included (0: no limit). */
  anonymousPerMinute: number;
}

export interface SecurityOptions extends RateLimitOptions {
  corsOrigins: string[];
}

/**
 * Count one request against its bucket: a valid key's own budget, or else the caller's IP (so
 * guessing keys is limited too). Over the limit: 429 with Retry-After.
 */
export async function enforceRateLimit(
  opts: RateLimitOptions,
  reply: FastifyReply,
  bucket: { keyId: string } | { ip: string },
): Promise<void> {
  const limit = 'keyId' in bucket ? opts.perKeyPerMinute : opts.anonymousPerMinute;
  if (limit <= 0) return;
  const { count, resetMs } = await opts.store.hit('keyId' in bucket ? `key:${bucket.keyId}` : `ip:${bucket.ip}`, 60_000);
  void reply.header('x-ratelimit-limit', String(limit)).header('x-ratelimit-remaining', String(Math.max(0, limit - count)));
  if (count > limit) {
    throw new AppError('rate_limited', `Too many requests: ${limit} a minute`, { retryAfterSeconds: Math.ceil(resetMs / 1000) });
  }
}

const JSON_CSP = "default-src 'none'; frame-ancestors 'none'";
const PAGE_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

export function registerSecurity(app: FastifyInstance, opts: SecurityOptions): void {
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (typeof origin === 'string' && opts.corsOrigins.includes(origin)) {
      void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
      if (req.method === 'OPTIONS') {
        return reply
          .header('access-control-allow-methods', 'GET, POST, PUT, DELETE')
          .header('access-control-allow-headers', 'authorization, content-type, x-api-key, x-request-id')
          .header('access-control-max-age', '600')
          .status(204)
          .send();
      }
    }
  });

  app.addHook('onSend', async (req, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('cross-origin-opener-policy', 'same-origin');
    void reply.header('cross-origin-resource-policy', 'same-origin');
    if (!reply.hasHeader('content-security-policy')) {
      const type = String(reply.getHeader('content-type') ?? '');
      void reply.header('content-security-policy', type.includes('text/html') || req.url.startsWith('/docs') ? PAGE_CSP : JSON_CSP);
    }
    return payload;
  });
}
