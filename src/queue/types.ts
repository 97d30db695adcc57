/**
 * The queue contract. Two adapters implement it: BullMQ on Redis (queue/bullmq.ts) and a
 * PostgreSQL table with SKIP LOCKED leases (queue/postgres.ts). Callers (jobs/) see only this.
 * Payloads hold ids and small parameters, never document text or secrets.
 */

export interface EnqueueOptions {
  /** Deterministic id: adding a job whose id already exists (waiting or active) is a no-op. */
  jobId?: string;
  /** Run no earlier than this many ms from now. */
  delayMs?: number;
  /** Total attempts before the job is failed for good (default 5). */
  attempts?: number;
  /** Lower runs first (default 0). */
  priority?: number;
}

export interface QueueJob {
  id: string;
  name: string;
  payload: unknown;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
  /** Aborted when the worker is closing and the job should stop at its next safe point. */
  signal: AbortSignal;
}

export type QueueHandler = (job: QueueJob) => Promise<void>;

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface QueueWorker {
  /**
   * Stop taking jobs, abort the signal of in-flight jobs, wait up to `timeoutMs` for them,
   * and release what is still held so another worker can take it.
   */
  close(timeoutMs?: number): Promise<void>;
}

export interface JobQueue {
  readonly kind: 'bullmq' | 'postgres';
  add(name: string, payload: unknown, opts?: EnqueueOptions): Promise<void>;
  addBulk(items: { name: string; payload: unknown; opts?: EnqueueOptions }[]): Promise<void>;
  work(handler: QueueHandler, opts: { concurrency: number }): QueueWorker;
  counts(): Promise<QueueCounts>;
  /** Resolves when the backing store answers; rejects otherwise (used by /ready). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown by a handler when retrying cannot help: the job fails at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}
