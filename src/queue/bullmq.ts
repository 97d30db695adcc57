/**
 * The BullMQ queue adapter (distributed mode, REDIS_URL set): one BullMQ Queue, named jobs, a
 * BullMQ Worker per `work()` call.
 *
 * How it meets the contract (queue/types.ts):
 * - Leases are BullMQ job locks (`lockDuration` = `lockMs`, renewed at half of it); the stalled
 *   checker (every `lockMs`) puts the job of a dead worker back in the wait list. BullMQ counts
 *   those separately from attempts: a job may stall `maxStalledCount` times (default 3) before
 *   it fails; the Postgres adapter instead counts a lost lease as an attempt.
 * - Retries: `attempts` with `exponential` backoff (`backoffMs`, jitter 0.5, the same curve as
 *   the Postgres adapter); PermanentJobError becomes BullMQ's UnrecoverableError (no retry).
 * - Completed jobs are removed; the last `keepFailed` failed jobs are kept.
 * - Deterministic ids: BullMQ forbids ':' and integer-looking custom ids, so ids are escaped
 *   (reversibly; handlers see the caller's id). BullMQ would also ignore an id whose previous job
 *   sits in the failed set; here a failed job with that id is removed first so that adding it
 *   again retries it, as in the Postgres adapter.
 * - Priorities: BullMQ runs jobs without a priority before prioritised ones, so priority 0 (the
 *   default) maps to "no priority" and 1..2^21 map to themselves; negative priorities are
 *   clamped to 0 (both adapters).
 * - Close: abort the handlers' signals, let BullMQ's `worker.close()` wait for them; a handler
 *   that stops because of the abort, or is still running at the timeout, has its job moved back
 *   to wait (`moveToWait` + WaitingError), which does not count as an attempt.
 */
import type { Redis } from 'ioredis';
import { type Job, type JobsOptions, Queue, type RedisOptions, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import {
  type EnqueueOptions,
  type JobQueue,
  PermanentJobError,
  type QueueCounts,
  type QueueHandler,
  type QueueJob,
  type QueueWorker,
} from './types.ts';
import { closeRedisClient, createRedisClient, redisOptions } from '../redis.ts';
import { consoleLogger, errorText, normaliseEnqueue, type QueueLogger } from './shared.ts';

export interface BullmqQueueOptions {
  /** Redis URL (redis:// or rediss://). */
  connection: string;
  /** BullMQ queue name; processes sharing work use the same. Default "docsight". */
  queueName?: string;
  /** Redis key prefix. Default "bull". */
  prefix?: string;
  /** Job lock duration: the job of a dead worker runs again after about 2-3× this. Default 30 s. */
  lockMs?: number;
  /** First retry delay; doubles per attempt, with up to 50% jitter taken off. Default 1 s. */
  backoffMs?: number;
  /** Failed jobs kept (BullMQ removeOnFail count). Default 10,000. */
  keepFailed?: number;
  /** Times a job may lose its worker before it fails. Default 3. */
  maxStalledCount?: number;
  /** Default attempts when `add` does not say. Default 5. */
  defaultAttempts?: number;
  /** Default QueueWorker.close timeout. Default 10 s. */
  closeTimeoutMs?: number;
  logger?: QueueLogger;
}

const ADD_CHUNK = 1_000;
const PING_TIMEOUT_MS = 2_000;

/**
 * Escapes a caller's job id into one BullMQ accepts: '%' and ':' are percent-encoded and an
 * all-digits id gets a "%N" prefix (which no escaped id can produce), so the mapping is reversible.
 */
export function encodeJobId(id: string): string {
  if (/^\d+$/.test(id)) return `%N${id}`;
  return id.replace(/[%:]/g, (c) => (c === '%' ? '%25' : '%3A'));
}

export function decodeJobId(id: string): string {
  if (id.startsWith('%N')) return id.slice(2);
  return id.replace(/%(25|3A)/g, (_m, code: string) => (code === '25' ? '%' : ':'));
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

interface InFlight {
  controller: AbortController;
  /** Resolves when close() gives up waiting for this handler. */
  giveUp: Promise<'released'>;
  releaseNow(): void;
}

class BullmqWorker implements QueueWorker {
  private readonly worker: Worker;
  private readonly inFlight = new Set<InFlight>();
  private stopping = false;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly q: BullmqQueue,
    private readonly handler: QueueHandler,
    concurrency: number,
  ) {
    // Three parameters: BullMQ passes an abort signal only to processors that declare one.
    const processor = (job: Job, token?: string, signal?: AbortSignal) => this.process(job, token, signal);
    this.worker = new Worker(q.queueName, processor, {
      connection: q.workerConnection,
      prefix: q.prefix,
      concurrency,
      lockDuration: q.lockMs,
      stalledInterval: q.lockMs,
      maxStalledCount: q.maxStalledCount,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: q.keepFailed },
    });
    // An EventEmitter 'error' without a listener would throw and kill the process; BullMQ emits
    // connection errors here while ioredis reconnects.
    this.worker.on('error', (err) => q.log.warn({ queue: q.queueName, err: errorText(err) }, 'queue worker error'));
    this.worker.on('stalled', (jobId) => q.log.warn({ queue: q.queueName, job: decodeJobId(jobId) }, 'job stalled (its worker was lost); it will run again'));
  }

  private async process(job: Job, token: string | undefined, bullSignal: AbortSignal | undefined): Promise<void> {
    const jobId = decodeJobId(job.id ?? '');
    if (this.stopping && token) {
      // Fetched while close() began: give it straight back.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    const controller = new AbortController();
    const onBullAbort = () => controller.abort(bullSignal?.reason ?? new Error('job cancelled'));
    bullSignal?.addEventListener('abort', onBullAbort, { once: true });
    let releaseNow: () => void = () => undefined;
    const giveUp = new Promise<'released'>((resolve) => {
      releaseNow = () => resolve('released');
    });
    const entry: InFlight = { controller, giveUp, releaseNow };
    this.inFlight.add(entry);
    const maxAttempts = job.opts.attempts ?? 1;
    const queueJob: QueueJob = {
      id: jobId,
      name: job.name,
      payload: job.data as unknown,
      attempt: job.attemptsMade + 1,
      maxAttempts,
      signal: controller.signal,
    };
    try {
      const outcome = await Promise.race([
        this.handler(queueJob).then(
          () => ({ ok: true as const }),
          (err: unknown) => ({ ok: false as const, err }),
        ),
        giveUp,
      ]);
      if (outcome === 'released') {
        // The handler ignored the abort for longer than the close timeout. It keeps running in
        // the background (JavaScript cannot stop it), but the job goes to another worker now.
        if (token) await job.moveToWait(token);
        throw new WaitingError();
      }
      if (outcome.ok) return;
      const err = outcome.err;
      if (err instanceof PermanentJobError) throw new UnrecoverableError(errorText(err));
      if (this.stopping && controller.signal.aborted && token) {
        // The handler honoured the abort: hand the job back without using up an attempt.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      this.q.log.debug({ queue: this.q.queueName, job: jobId, name: job.name, attempt: queueJob.attempt, err: errorText(err) }, 'job attempt failed');
      throw err instanceof Error ? err : new Error(errorText(err));
    } finally {
      this.inFlight.delete(entry);
      bullSignal?.removeEventListener('abort', onBullAbort);
    }
  }

  close(timeoutMs = this.q.closeTimeoutMs): Promise<void> {
    this.closing ??= this.shutdown(timeoutMs);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.stopping = true;
    for (const entry of this.inFlight) entry.controller.abort(new Error('worker closing'));
    const giveUp = setTimeout(() => {
      for (const entry of this.inFlight) entry.releaseNow();
    }, timeoutMs);
    try {
      // Stops fetching, waits for processors (bounded by giveUp above), closes its connections.
      // The extra margin covers moving released jobs back; if Redis is unreachable we stop
      // waiting and the locks expire instead.
      await withTimeout(this.worker.close(), timeoutMs + 5_000, 'worker close');
    } catch (err) {
      this.q.log.error({ queue: this.q.queueName, err: errorText(err) }, 'queue worker did not close cleanly; its jobs run again after their locks expire');
    } finally {
      clearTimeout(giveUp);
      this.q.detach(this);
    }
  }
}

class BullmqQueue implements JobQueue {
  readonly kind = 'bullmq' as const;
  readonly queueName: string;
  readonly prefix: string;
  readonly lockMs: number;
  readonly keepFailed: number;
  readonly maxStalledCount: number;
  readonly closeTimeoutMs: number;
  readonly log: QueueLogger;
  readonly workerConnection: RedisOptions;
  private readonly backoffMs: number;
  private readonly defaultAttempts: number;
  /** Ours, shared with the BullMQ Queue (which leaves it open): producer commands and ping. */
  private readonly redis: Redis;
  private readonly queue: Queue;
  private readonly workers = new Set<BullmqWorker>();

  constructor(opts: BullmqQueueOptions) {
    this.queueName = opts.queueName ?? 'docsight';
    this.prefix = opts.prefix ?? 'bull';
    this.lockMs = opts.lockMs ?? 30_000;
    this.backoffMs = opts.backoffMs ?? 1_000;
    this.keepFailed = opts.keepFailed ?? 10_000;
    this.maxStalledCount = opts.maxStalledCount ?? 3;
    this.defaultAttempts = opts.defaultAttempts ?? 5;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 10_000;
    this.log = opts.logger ?? consoleLogger;
    // Workers' connections are created and owned by BullMQ (a main and a blocking one each).
    this.workerConnection = redisOptions(opts.connection, 'queue-worker');
    // BullMQ forwards this connection's errors as the Queue's 'error' (logged below); onError only
    // keeps them at debug level here.
    this.redis = createRedisClient(opts.connection, 'queue-producer', {
      name: `docsight:${this.queueName}:producer`,
      onError: (err) => this.log.debug({ queue: this.queueName, err: errorText(err) }, 'queue connection error'),
    });
    this.queue = new Queue(this.queueName, {
      connection: this.redis,
      prefix: this.prefix,
      defaultJobOptions: {
        removeOnComplete: true,
        removeOnFail: { count: this.keepFailed },
        attempts: this.defaultAttempts,
        backoff: { type: 'exponential', delay: this.backoffMs, jitter: 0.5 },
      },
    });
    this.queue.on('error', (err) => this.log.warn({ queue: this.queueName, err: errorText(err) }, 'queue error'));
  }

  private jobOptions(opts: EnqueueOptions | undefined): JobsOptions {
    const o = normaliseEnqueue(opts, this.defaultAttempts);
    return {
      ...(o.jobId !== undefined ? { jobId: encodeJobId(o.jobId) } : {}),
      ...(o.delayMs > 0 ? { delay: o.delayMs } : {}),
      ...(o.priority > 0 ? { priority: o.priority } : {}),
      attempts: o.attempts,
    };
  }

  /** Removes failed jobs holding these ids, so that adding them again retries them. */
  private async clearFailed(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const scores = await this.redis.zmscore(this.queue.toKey('failed'), ...ids);
    const failed = ids.filter((_id, i) => scores[i] !== null);
    for (const id of failed) await this.queue.remove(id);
  }

  async add(name: string, payload: unknown, opts?: EnqueueOptions): Promise<void> {
    const jobOpts = this.jobOptions(opts);
    if (jobOpts.jobId) await this.clearFailed([jobOpts.jobId]);
    await this.queue.add(name, payload ?? null, jobOpts);
  }

  async addBulk(items: { name: string; payload: unknown; opts?: EnqueueOptions }[]): Promise<void> {
    for (let i = 0; i < items.length; i += ADD_CHUNK) {
      const jobs = items.slice(i, i + ADD_CHUNK).map((item) => ({ name: item.name, data: item.payload ?? null, opts: this.jobOptions(item.opts) }));
      await this.clearFailed(jobs.flatMap((j) => (j.opts.jobId ? [j.opts.jobId] : [])));
      await this.queue.addBulk(jobs);
    }
  }

  work(handler: QueueHandler, opts: { concurrency: number }): QueueWorker {
    const worker = new BullmqWorker(this, handler, Math.max(1, Math.floor(opts.concurrency)));
    this.workers.add(worker);
    return worker;
  }

  detach(worker: BullmqWorker): void {
    this.workers.delete(worker);
  }

  async counts(): Promise<QueueCounts> {
    const c = await this.queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed');
    const n = (k: string) => c[k] ?? 0;
    return { waiting: n('wait') + n('prioritized'), active: n('active'), delayed: n('delayed'), failed: n('failed') };
  }

  async ping(): Promise<void> {
    const answer = await withTimeout(this.redis.ping(), PING_TIMEOUT_MS, 'Redis ping');
    if (answer !== 'PONG') throw new Error(`Unexpected Redis ping answer: ${answer}`);
  }

  /** Closes workers still open (releasing their jobs at once), the BullMQ Queue and our connection. */
  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.close(0)));
    try {
      await withTimeout(this.queue.close(), 5_000, 'queue close');
    } catch (err) {
      this.log.warn({ queue: this.queueName, err: errorText(err) }, 'queue did not close cleanly');
    }
    await closeRedisClient(this.redis);
  }
}

export function createBullmqQueue(opts: BullmqQueueOptions): JobQueue {
  return new BullmqQueue(opts);
}
