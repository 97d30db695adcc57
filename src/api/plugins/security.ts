/**
 * Abuse resistance at the edge: per-key (or per-IP) rate limits through the process's rate limiter
 * (shared across replicas through Redis when there is one), security headers on every answer, and
 * CORS only for configured origins.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../../domain/errors.ts';
import { bucketFor, type GcraStore } from '../../rate-limit/index.ts';

export interface RateLimitOptions {
  /** The process's rate-limit store (shared through Redis when there is one). */
  store: GcraStore;
  /** Requests per minute per key, in a burst of up to as many (0: no limit). */
  perKeyPerMinute: number;
  /** Requests per minute per IP without a valid key, failed attempts included (0: no limit). */
  anonymousPerMinute: number;
}

export interface SecurityOptions extends RateLimitOptions {
  corsOrigins: string[];
}

/**
 * Count one request against its bucket: a valid key's own budget, or else the caller's IP (so
 * guessing keys is limited too). Over the limit: 429 with Retry-After, and the refused request
 * uses up nothing.
 */
export async function enforceRateLimit(
  opts: RateLimitOptions,
  reply: FastifyReply,
  caller: { keyId: string } | { ip: string },
): Promise<void> {
  const limit = 'keyId' in caller ? opts.perKeyPerMinute : opts.anonymousPerMinute;
  const bucket = bucketFor(limit);
  if (!bucket) return;
  const key = 'keyId' in caller ? `api:key:${caller.keyId}` : `api:ip:${caller.ip}`;
  const admission = await opts.store.admit({ key, bucket, cost: 1 });
  void reply.header('x-ratelimit-limit', String(limit)).header('x-ratelimit-remaining', String(admission.remaining));
  if (!admission.allowed) {
    throw new AppError('rate_limited', `Too many requests: ${limit} a minute`, { retryAfterSeconds: Math.max(1, Math.ceil(admission.retryAfterMs / 1000)) });
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
