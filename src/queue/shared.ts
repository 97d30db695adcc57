/** What both queue adapters share, so they validate options and log the same way. */
import type { EnqueueOptions } from './types.ts';

/** What the adapters log through (a pino Logger fits). */
export interface QueueLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Used when no logger is given (scripts, benchmarks): warnings and errors as JSON lines. */
export const consoleLogger: QueueLogger = {
  debug: () => undefined,
  info: (obj, msg) => console.info(JSON.stringify({ level: 'info', msg, ...obj })),
  warn: (obj, msg) => console.warn(JSON.stringify({ level: 'warn', msg, ...obj })),
  error: (obj, msg) => console.error(JSON.stringify({ level: 'error', msg, ...obj })),
};

/** Priorities are clamped to BullMQ's range so both adapters order the same way. */
export const MAX_PRIORITY = 2_097_152;
const MAX_ERROR_CHARS = 2_000;

/** Normalised enqueue options, shared by both adapters' validation. */
export interface NormalisedEnqueue {
  jobId: string | undefined;
  delayMs: number;
  attempts: number;
  priority: number;
}

export function normaliseEnqueue(opts: EnqueueOptions | undefined, defaultAttempts: number): NormalisedEnqueue {
  const int = (v: number | undefined, dflt: number, min: number, max: number) =>
    v === undefined || !Number.isFinite(v) ? dflt : Math.min(max, Math.max(min, Math.round(v)));
  if (opts?.jobId !== undefined && opts.jobId.length === 0) throw new Error('jobId must not be empty');
  return {
    jobId: opts?.jobId,
    delayMs: int(opts?.delayMs, 0, 0, 2 ** 31 - 1),
    attempts: int(opts?.attempts, defaultAttempts, 1, 1_000),
    priority: int(opts?.priority, 0, 0, MAX_PRIORITY),
  };
}

/** An error as one bounded line, for logs and the failed job's record. */
export function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}
