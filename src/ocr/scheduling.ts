/**
 * What both engines share around a page: a fixed set of slots (one tesseract.js worker pair or
 * one child process each) that pages wait for in arrival order, and a deadline that turns a
 * timeout or a caller's abort into a coded failure and tells the engine to stop the page's work.
 */
import { OcrError } from './types.ts';

export class Slots<T> {
  private readonly free: T[];
  private readonly waiting: Array<{ take: (slot: T) => void; reject: (err: Error) => void }> = [];
  private closed = false;

  constructor(slots: readonly T[]) {
    this.free = [...slots];
  }

  /** Waits for a free slot; rejects with `cancelled` when the signal aborts first or the slots close. */
  acquire(signal?: AbortSignal): Promise<T> {
    if (this.closed) return Promise.reject(new OcrError('cancelled', 'the OCR engine is closed'));
    if (signal?.aborted) return Promise.reject(cancelled(signal));
    const slot = this.free.shift();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        take: (s: T) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(s);
        },
        reject,
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(cancelled(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  release(slot: T): void {
    const next = this.waiting.shift();
    if (next) next.take(slot);
    else this.free.push(slot);
  }

  /** Rejects every waiting page; slots in use come back through `release` and stay unused. */
  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new OcrError('cancelled', 'the OCR engine is closed'));
  }
}

/**
 * Runs `work` under a wall-clock limit and the caller's signal. When either ends the page first,
 * `stop` is called (it kills the child or terminates the worker) and the page rejects with
 * `timeout` or `cancelled`; errors of `work` that are not `OcrError`s become `ocr_engine_failed`.
 */
export async function withDeadline<R>(work: () => Promise<R>, timeoutMs: number, signal: AbortSignal | undefined, stop: () => void): Promise<R> {
  if (signal?.aborted) throw cancelled(signal);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const ended = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OcrError('timeout', `OCR of the page took longer than ${timeoutMs} ms`)), timeoutMs);
    onAbort = () => reject(cancelled(signal));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  const running = work();
  try {
    return await Promise.race([running, ended]);
  } catch (err) {
    if (err instanceof OcrError && (err.code === 'timeout' || err.code === 'cancelled')) {
      stop();
      // The stopped work rejects in its own time; nobody waits for it.
      running.catch(() => undefined);
      throw err;
    }
    if (err instanceof OcrError) throw err;
    throw new OcrError('ocr_engine_failed', err instanceof Error ? err.message : String(err));
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

function cancelled(signal: AbortSignal | undefined): OcrError {
  const reason: unknown = signal?.reason;
  return new OcrError('cancelled', reason instanceof Error ? `OCR cancelled: ${reason.message}` : 'OCR cancelled');
}
