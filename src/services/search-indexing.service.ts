/**
 * The search indexer: fills the body vectors of documents whose text changed (migration 0006 marks
 * them `search_pending`) when this worker has nothing else to do, so parsing text into a tsvector
 * (a large share of extraction's cost) is off the extraction path. Search is therefore eventually
 * consistent for body text: a document is found by its title, name, tags and summary at once, and
 * by its text moments after the workers' scans and extractions end (classification jobs, which
 * mostly wait on the LLM, do not hold it back); GET /v1/search tells how many wait (`unindexed`).
 *
 * Several workers share the work without waiting for each other (SKIP LOCKED, small batches); a
 * crash loses nothing (rows stay pending until a batch commits). No queue jobs: nothing to dedupe,
 * retry or count, and the queue's "waiting" stays what users started.
 */
import type { Logger } from 'pino';

export interface SearchIndexStore {
  /** Index up to `limit` pending documents; returns how many (0: none left). */
  indexPending(limit: number): Promise<number>;
}

export interface IdleSearchIndexer {
  /** A CPU-bound pipeline job started in this process: the indexer yields after its current batch. */
  jobStarted(): void;
  /** Such a job ended: when none is left running, index after a short quiet period. */
  jobEnded(): void;
  /** Index now if idle (also called periodically, for rows left by another process). */
  poke(): void;
  /** Stop indexing (no new batch, no sweep); resolves when the batch in flight has ended. */
  close(): Promise<void>;
}

export interface IdleIndexerOptions {
  /** Documents per transaction: small, so a job arriving waits for at most one batch. */
  batchSize?: number;
  /** Batches in flight at once (one database connection each): the parse is PostgreSQL's CPU. */
  parallel?: number;
  /** Quiet time after the last job before indexing starts: extraction batches arrive back to back. */
  idleMs?: number;
  /** Safety net for rows left pending by another process or a failed batch. */
  sweepMs?: number;
}

export function createIdleSearchIndexer(store: SearchIndexStore, log: Logger, opts: IdleIndexerOptions = {}): IdleSearchIndexer {
  const batchSize = opts.batchSize ?? 25;
  const parallel = Math.max(1, opts.parallel ?? 2);
  const idleMs = opts.idleMs ?? 250;
  let active = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  /** Index batches while nothing else runs; true when it stopped for a job (work may remain). */
  async function drainOne(): Promise<boolean> {
    while (!closed) {
      if (active > 0) return true;
      const n = await store.indexPending(batchSize);
      if (n === 0) return false;
    }
    return false;
  }

  async function drain(): Promise<boolean> {
    // SKIP LOCKED: the loops never take the same documents. allSettled: none is left running.
    const results = await Promise.allSettled(Array.from({ length: parallel }, drainOne));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      // The database is away (or closed at shutdown): the next job's end or the sweep retries.
      const err: unknown = failed.reason;
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'search indexing paused');
      return false;
    }
    return results.some((r) => r.status === 'fulfilled' && r.value);
  }

  function schedule(delay: number): void {
    if (closed || timer !== undefined || running !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (active > 0) return;
      running = drain().then((interrupted) => {
        running = undefined;
        // A job that started and ended while the last batch ran found `running` set and could
        // not schedule: pick the work up again here.
        if (interrupted && active === 0) schedule(idleMs);
      });
    }, delay);
    timer.unref();
  }

  const sweep =
    opts.sweepMs === 0
      ? undefined
      : setInterval(() => {
          if (active === 0) schedule(0);
        }, opts.sweepMs ?? 10_000);
  sweep?.unref();

  return {
    jobStarted() {
      active++;
      if (timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
    },
    jobEnded() {
      active = Math.max(0, active - 1);
      if (active === 0) schedule(idleMs);
    },
    poke() {
      if (active === 0) schedule(0);
    },
    async close() {
      closed = true;
      clearInterval(sweep);
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
