/**
 * Errors are values with a stable code. Services throw these; the API maps them to HTTP in one
 * place (api/plugins/errors.ts) and the worker maps them to retry-or-not in one place (jobs/).
 */
export type AppErrorCode =
  | 'bad_request'
  | 'path_outside_root'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited'
  | 'unavailable'
  | 'provider_not_configured'
  | 'internal';

export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>) =>
  new AppError('bad_request', message, details);
export const notFound = (message: string) => new AppError('not_found', message);
export const unavailable = (message: string) => new AppError('unavailable', message);
