/**
 * Authentication and role checks for every route. A key comes as `Authorization: Bearer <key>`
 * or `X-API-Key`. When auth is required, a request without a valid key gets 401; when auth is open
 * (the loopback default), a request without a key acts with full access, and a request with a key
 * acts as that key (so scoped keys behave the same everywhere). Each route declares the least role
 * it needs in `config.role` (default: viewer for reads, editor for writes); public routes say
 * `config.public`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OPEN_ACCESS, type Principal, type Role, roleAllows } from '../../domain/access.ts';
import { AppError } from '../../domain/errors.ts';
import type { KeysService } from '../../services/keys.service.ts';
import { sendError } from './errors.ts';
import { isQueueDashboardPath, queueSessionKey } from './queue-session.ts';
import { enforceRateLimit, type RateLimitOptions } from './security.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** The least role this route needs. */
    role?: Role;
    /** No key needed (health, docs, the dashboard's static files). */
    public?: boolean;
    /**
     * An orchestrator's probe (/health, /ready): no key is read and no rate limit applies, so
     * nobody's failed attempts, from whatever address, can make the probes fail.
     */
    probe?: boolean;
    /** Record successful calls in the audit log under this action name. */
    audit?: string;
  }
}

/** Paths served without a key: probes, the API docs, the dashboard shell and its assets. */
const PUBLIC_PREFIXES = ['/health', '/ready', '/docs', '/openapi.json', '/assets/'];
const DASHBOARD_PAGES = /^\/(folders|documents|jobs|taxonomies|search|sources|review|evaluations|webhooks)?(\/.*)?$/;

export function presentedKey(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
    throw new AppError('unauthorized', 'Authorization must be "Bearer <key>"');
  }
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  // The queue dashboard's session cookie counts on the queue dashboard's paths only.
  return isQueueDashboardPath(req.url) ? queueSessionKey(req) : undefined;
}

function isPublic(req: FastifyRequest): boolean {
  if (req.routeOptions.config?.public) return true;
  const path = req.url.split('?')[0] ?? '';
  if (PUBLIC_PREFIXES.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`) || path === p)) return true;
  // The dashboard's HTML shell (GET only; it asks for a key itself); never the API.
  return req.method === 'GET' && !path.startsWith('/v1') && !path.startsWith('/folder-insights') && !path.startsWith('/document-classification') && path !== '/metrics' && DASHBOARD_PAGES.test(path);
}

export function registerAuth(app: FastifyInstance, opts: { keys: KeysService; required: boolean; rateLimit: RateLimitOptions }): void {
  app.decorateRequest('principal', null as unknown as Principal);

  async function admit(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    req.principal = OPEN_ACCESS;
    if (req.routeOptions.config?.probe) return;
    let key: string | undefined;
    try {
      key = presentedKey(req);
      if (key !== undefined) {
        const p = await opts.keys.authenticate(key);
        req.principal = { keyId: p.keyId, role: p.role, scopes: p.scopes };
      } else if (opts.required && !isPublic(req)) {
        throw new AppError('unauthorized', 'An API key is required: send "Authorization: Bearer <key>"');
      }
    } catch (err) {
      // Failed attempts count against the caller's IP: guessing keys is rate-limited too. A valid
      // key is counted against itself only, so an address's failures never lock it out.
      if (err instanceof AppError && err.code === 'unauthorized') await enforceRateLimit(opts.rateLimit, reply, { ip: req.ip });
      throw err;
    }
    await enforceRateLimit(opts.rateLimit, reply, req.principal.keyId ? { keyId: req.principal.keyId } : { ip: req.ip });
    if (isPublic(req)) return;
    const needs: Role = req.routeOptions.config?.role ?? (req.method === 'GET' || req.method === 'HEAD' ? 'viewer' : 'editor');
    if (!roleAllows(req.principal.role, needs)) {
      throw new AppError('forbidden', `This needs the ${needs} role; the key has ${req.principal.role}`);
    }
  }

  app.addHook('onRequest', async (req, reply) => {
    try {
      await admit(req, reply);
    } catch (err) {
      // bull-board's routes have its own error handler (a 500 for anything): answer here instead.
      if (isQueueDashboardPath(req.url) && err instanceof AppError) return sendError(err, req, reply);
      throw err;
    }
  });

  // The audit log: who started, cancelled, retried, created or revoked what.
  app.addHook('onResponse', async (req, reply) => {
    const action = req.routeOptions.config?.audit;
    if (!action || reply.statusCode >= 400) return;
    const params = (req.params ?? {}) as Record<string, unknown>;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const target = [params.id, body.path, body.name].find((v) => typeof v === 'string') as string | undefined;
    await opts.keys
      .audit({ keyId: req.principal?.keyId ?? null, action, target: target ?? null, status: reply.statusCode, ip: req.ip, requestId: req.id })
      .catch((err: unknown) => req.log.error({ err: String(err) }, 'audit log write failed'));
  });
}
