/**
 * A pool of worker threads that run extract/thread.ts, with a wall-clock limit per document:
 * a document that passes it fails with `timeout`, and its thread is terminated and replaced, so
 * a parser that spins forever cannot block the worker.
 */
import { Piscina } from 'piscina';
import type { ThreadOutcome, ThreadTask } from './thread.ts';

export interface ExtractionPool {
  run(task: ThreadTask): Promise<ThreadOutcome>;
  readonly threads: number;
  close(): Promise<void>;
}

/** Worker threads need the TypeScript loader too when we run from sources (tsx). */
function loaderArgs(): string[] {
  // Heap flags are per isolate: threads get theirs from resourceLimits (and refuse these).
  const inherited = process.execArgv.filter((a) => !/^--max-(old|semi)-space-size/.test(a));
  const hasLoader = inherited.some((a) => a.includes('tsx'));
  if (hasLoader || !import.meta.url.endsWith('.ts')) return inherited;
  return [...inherited, '--import', import.meta.resolve('tsx')];
}

export function createExtractionPool(threads: number): ExtractionPool {
  const piscina = new Piscina({
    filename: new URL('./thread.ts', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    execArgv: loaderArgs(),
    // Bounded heaps keep the service's memory flat; a document that needs more fails alone
    // (the thread dies and is replaced) instead of growing the process.
    resourceLimits: { maxOldGenerationSizeMb: 384, maxYoungGenerationSizeMb: 32 },
  });
  return {
    threads,
    async run(task) {
      const signal = AbortSignal.timeout(task.limits.timeoutMs);
      try {
        // A bucket object's bytes move to the thread instead of being copied.
        const transferList = 'bytes' in task ? [task.bytes.buffer as ArrayBuffer] : undefined;
        return (await piscina.run(task, { signal, ...(transferList ? { transferList } : {}) })) as ThreadOutcome;
      } catch (err) {
        if (signal.aborted) {
          return {
            kind: 'failed',
            size: 0,
            sha256: null,
            code: 'timeout',
            message: `Extraction took longer than ${task.limits.timeoutMs} ms`,
          };
        }
        // The thread died (out of memory on a hostile file, a native crash): this file fails alone.
        const message = err instanceof Error ? err.message : String(err);
        return { kind: 'failed', size: 0, sha256: null, code: 'corrupt', message: `Extraction crashed: ${message}` };
      }
    },
    close: () => piscina.destroy(),
  };
}
