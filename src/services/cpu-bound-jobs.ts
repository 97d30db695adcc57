/**
 * The CPU-bound pipeline jobs (scan, extraction) running in this process, told by the queue
 * handler, for the background work that gives way to them: the search indexer (a watcher: it stops
 * after its batch) and the OCR stage (it waits before its next page, `whenQuiet`).
 *
 * Per process on purpose, not per deployment: what OCR takes from extraction is CPU, and only work
 * on the same machine competes for it. A deployment-wide count (in PostgreSQL or Redis) would hold
 * OCR workers back for extraction running on other machines, and would need its own expiry for
 * workers that die mid-job. In the embedded default everything runs in one process; distributed,
 * a worker process (one per container) runs both queues, so its own jobs are what it competes with.
 */

export interface CpuBoundWatcher {
  jobStarted(): void;
  jobEnded(): void;
}

export interface CpuBoundJobs extends CpuBoundWatcher {
  /** A CPU-bound job runs, or the last one ended less than the settle time ago. */
  readonly busy: boolean;
  /** Callers now inside `whenQuiet` (what a test or a metric can look at). */
  readonly waiting: number;
  /** Resolves `true` once not busy; `false` after `maxMs` or when `signal` aborts first. */
  whenQuiet(maxMs: number, signal?: AbortSignal): Promise<boolean>;
}

export interface CpuBoundJobsOptions {
  /**
   * Quiet time after the last job ends before the process counts as idle: extraction batches
   * arrive back to back, and an OCR page started in the gap between two holds a core for seconds.
   */
  settleMs?: number;
  /** Told of every start and end as well (the search indexer). */
  watchers?: readonly CpuBoundWatcher[];
}

export function createCpuBoundJobs(opts: CpuBoundJobsOptions = {}): CpuBoundJobs {
  const settleMs = opts.settleMs ?? 250;
  const watchers = opts.watchers ?? [];
  let active = 0;
  let settling: NodeJS.Timeout | undefined;
  const waiters = new Set<() => void>();

  const busy = () => active > 0 || settling !== undefined;
  const wake = () => {
    for (const w of [...waiters]) w();
  };

  return {
    get busy() {
      return busy();
    },
    get waiting() {
      return waiters.size;
    },
    jobStarted() {
      active++;
      if (settling !== undefined) clearTimeout(settling);
      settling = undefined;
      for (const w of watchers) w.jobStarted();
    },
    jobEnded() {
      active = Math.max(0, active - 1);
      for (const w of watchers) w.jobEnded();
      if (active > 0) return;
      if (settling !== undefined) clearTimeout(settling);
      settling = setTimeout(() => {
        settling = undefined;
        wake();
      }, settleMs);
      settling.unref();
    },
    whenQuiet(maxMs, signal) {
      if (!busy()) return Promise.resolve(true);
      if (signal?.aborted || maxMs <= 0) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const done = (quiet: boolean) => {
          waiters.delete(onQuiet);
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(quiet);
        };
        const onQuiet = () => done(true);
        const onAbort = () => done(false);
        const timer = setTimeout(() => done(false), maxMs);
        waiters.add(onQuiet);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}
