/**
 * The one place errors become HTTP: AppError codes map to statuses, validation failures to 400,
 * everything unexpected to a 500 without internals. Every error body is {error: {code, message}}.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, type AppErrorCode } from '../../domain/errors.ts';

const STATUS: Record<AppErrorCode, number> = {
  bad_request: 400,
  path_outside_root: 400,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  unavailable: 503,
  provider_not_configured: 503,
  internal: 500,
};

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Connection failures of PostgreSQL or Redis mean a dependency is down: 503, not 500. */
function isDependencyOutage(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  const message = e?.message ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P03', '08006', '08003', '08001'].includes(code) ||
    /Connection terminated|connection timeout|Connection is closed|timeout exceeded when trying to connect|ECONNREFUSED/i.test(message)
  );
}

/** Answer an error as the API does everywhere (exported for scopes with their own error handler). */
export function sendError(err: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof AppError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.details) body.error.details = err.details;
    const status = STATUS[err.code];
    if (err.code === 'rate_limited' && typeof err.details?.retryAfterSeconds === 'number') {
      void reply.header('retry-after', String(err.details.retryAfterSeconds));
    }
    return reply.status(status).send(body);
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    return reply.status(400).send({
      error: {
        code: 'bad_request',
        message: 'Request does not match the schema',
        details: err.validation.map((v) => ({ path: v.instancePath, message: v.message })),
      },
    });
  }
  const fe = err as FastifyError;
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = fe.statusCode === 413 ? 'payload_too_large' : fe.statusCode === 415 ? 'unsupported_media_type' : 'bad_request';
    return reply.status(fe.statusCode).send({ error: { code, message: fe.message } });
  }
  if (isDependencyOutage(err)) {
    request.log.warn({ err: err.message }, 'dependency unavailable');
    return reply.status(503).send({
      error: { code: 'unavailable', message: 'A dependency (database or queue) is unavailable; try again shortly' },
    });
  }
  request.log.error({ err }, 'unhandled error');
  return reply.status(500).send({ error: { code: 'internal', message: 'Internal error' } });
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(sendError);

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: `No route for ${request.method} ${request.url.split('?')[0]}` } }),
  );
}
