/**
 * Waiting on a state instead of a fixed sleep: poll a probe until its value satisfies a condition,
 * and fail with what was awaited and the last value seen when the deadline passes.
 */

export interface WaitOptions<T> {
  /** What the test waits for, for the failure message ("the job to end"). */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
  /** When the probe's value is the one awaited; by default, when it is truthy. */
  until?: (value: T) => boolean;
  /** More to say when the wait times out (a child process's last output). */
  detail?: () => string;
}

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function describeValue(value: unknown): string {
  if (typeof value === 'boolean' || value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return ` (last seen: ${text.length > 500 ? `${text.slice(0, 500)}…` : text})`;
}

/** A probe that never settles (a request to a server that accepts and never answers) still ends at the deadline. */
async function beforeDeadline<T>(value: T | Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}: the last check did not finish`)), Math.max(0, deadline - Date.now()) + 1_000);
  });
  try {
    return await Promise.race([value, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves with the probe's first value that satisfies `until` (checked at once, then every
 * `intervalMs`). A probe that throws ends the wait with its error: a probe that tolerates a
 * failure (a server that is restarting) catches it and returns a value that does not satisfy.
 */
export function waitFor<T, S extends T>(probe: () => T | Promise<T>, opts: WaitOptions<T> & { until: (value: T) => value is S }): Promise<S>;
export function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions<T> & { until: (value: T) => boolean }): Promise<T>;
export function waitFor<T>(probe: () => T | Promise<T>, opts: Omit<WaitOptions<T>, 'until'>): Promise<Truthy<T>>;
export async function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions<T>): Promise<T> {
  const { what, timeoutMs = 10_000, intervalMs = 50, until = Boolean, detail } = opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await beforeDeadline(probe(), deadline, what);
    if (until(value)) return value;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describeValue(value)}${detail ? `:\n${detail()}` : ''}`);
    }
    await pause(intervalMs);
  }
}
