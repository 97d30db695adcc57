/**
 * Errors are values with a stable code. Services throw these; the API maps them to HTTP in one
 * place (api/plugins/errors.ts) and the worker maps them to retry-or-not in one place (jobs/).
 */
import { isPermanentJobError, type JobErrorCode, type RequestErrorCode } from './vocabulary.ts';

/** The codes a request can fail with, one list in vocabulary.ts. */
export type AppErrorCode = RequestErrorCode;

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

/**
 * A folder-level job cannot go on, for a reason with a code. Whether the queue retries it is
 * decided from the code alone (vocabulary.ts: PERMANENT_JOB_ERROR_CODES), in one place.
 */
export class JobFailure extends Error {
  constructor(
    readonly code: JobErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'JobFailure';
  }

  get permanent(): boolean {
    return isPermanentJobError(this.code);
  }
}
