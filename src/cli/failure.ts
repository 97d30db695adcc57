/**
 * How a failed command reports itself: one line saying what went wrong and what to do, because a
 * stack trace tells a user nothing; the trace (with its causes) only when asked for, with --debug
 * or LOG_LEVEL=debug.
 */
import { inspect } from 'node:util';
import { AppError } from '../domain/errors.ts';

interface ErrorLike {
  message?: string;
  code?: unknown;
  address?: unknown;
  port?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** Socket errors of a server that is not there (or not reachable) at the configured address. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

/** PostgreSQL error classes (the first two characters of SQLSTATE) that a wrong DATABASE_URL causes. */
const DATABASE_URL_CLASSES: Record<string, string> = {
  '28': 'the database refused the login',
  '3D': 'the database does not exist',
};

/** The error and everything behind it: causes, and the attempts of an AggregateError. */
function chain(err: unknown, seen = new Set<unknown>()): ErrorLike[] {
  if (typeof err !== 'object' || err === null || seen.has(err)) return [];
  seen.add(err);
  const e = err as ErrorLike;
  const inner = Array.isArray(e.errors) ? (e.errors as unknown[]) : [];
  return [e, ...chain(e.cause, seen), ...inner.flatMap((i) => chain(i, seen))];
}

/** The one line a user reads (without the "docsight: " prefix). */
export function failureLine(err: unknown): string {
  if (err instanceof AppError) return err.message;
  const all = chain(err);
  const code = (e: ErrorLike) => (typeof e.code === 'string' ? e.code : '');
  const net = all.find((e) => UNREACHABLE.has(code(e)));
  if (net) {
    const where = all.find((e) => UNREACHABLE.has(code(e)) && e.address !== undefined);
    const at = where ? ` ${String(where.address)}${where.port === undefined ? '' : `:${String(where.port)}`}` : '';
    return `cannot connect to${at} (${code(net)}): check that the server runs there and that DATABASE_URL (or REDIS_URL) points to it`;
  }
  const pg = all.find((e) => DATABASE_URL_CLASSES[code(e).slice(0, 2)] !== undefined && code(e).length === 5);
  if (pg) return `${DATABASE_URL_CLASSES[code(pg).slice(0, 2)]} (${pg.message ?? code(pg)}): check DATABASE_URL`;
  const message = err instanceof Error ? err.message || code(err as ErrorLike) || err.name : String(err);
  return `${message} (run it again with --debug for the details)`;
}

/** Write the failure to stderr and return the exit code: 2 for an error with a code (usage, configuration), 1 otherwise. */
export function reportFailure(err: unknown, opts: { debug: boolean; stderr?: NodeJS.WritableStream }): number {
  const stderr = opts.stderr ?? process.stderr;
  stderr.write(`docsight: ${failureLine(err)}\n`);
  if (opts.debug) stderr.write(`${inspect(err, { depth: 6 })}\n`);
  return err instanceof AppError ? 2 : 1;
}

/** Log levels at which a failure shows its stack trace. */
export const showsTrace = (logLevel: string | undefined) => logLevel === 'debug' || logLevel === 'trace';
