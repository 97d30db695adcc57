/**
 * The one place errors become HTTP: AppError codes map to statuses, validation failures to 400,
 * everything unexpected to a 500 without internals. Every error body is {error: {code, message}}.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError } from '../../domain/errors.ts';
import type { RequestErrorCode } from '../../domain/vocabulary.ts';

/** Every request error code has one status (a new code in vocabulary.ts fails to compile until it is mapped here). */
const STATUS: Record<RequestErrorCode, number> = {
  bad_request: 400,
  path_outside_root: 400,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  unavailable: 503,
  provider_not_configured: 503,
  invalid_field: 400,
  internal: 500,
};

export interface ErrorBody {
  error: { code: RequestErrorCode; message: string; details?: unknown };
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

/** One error answer: the status and the {error: {code, message}} body every error has. */
function answer(reply: FastifyReply, status: number, code: RequestErrorCode, message: string, details?: unknown): FastifyReply {
  const body: ErrorBody = { error: details === undefined ? { code, message } : { code, message, details } };
  return reply.status(status).send(body);
}

/** Answer an error as the API does everywhere (exported for scopes with their own error handler). */
export function sendError(err: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof AppError) {
    if (err.code === 'rate_limited' && typeof err.details?.retryAfterSeconds === 'number') {
      void reply.header('retry-after', String(err.details.retryAfterSeconds));
    }
    return answer(reply, STATUS[err.code], err.code, err.message, err.details);
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const details = err.validation.map((v) => ({ path: v.instancePath, message: v.message }));
    return answer(reply, STATUS.bad_request, 'bad_request', 'Request does not match the schema', details);
  }
  const fe = err as FastifyError;
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code: RequestErrorCode = fe.statusCode === 413 ? 'payload_too_large' : fe.statusCode === 415 ? 'unsupported_media_type' : 'bad_request';
    return answer(reply, fe.statusCode, code, fe.message);
  }
  if (isDependencyOutage(err)) {
    request.log.warn({ err: err.message }, 'dependency unavailable');
    return answer(reply, STATUS.unavailable, 'unavailable', 'A dependency (database or queue) is unavailable; try again shortly');
  }
  request.log.error({ err }, 'unhandled error');
  return answer(reply, STATUS.internal, 'internal', 'Internal error');
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(sendError);

  app.setNotFoundHandler((request, reply) =>
    answer(reply, STATUS.not_found, 'not_found', `No route for ${request.method} ${request.url.split('?')[0]}`),
  );
}
