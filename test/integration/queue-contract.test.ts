/**
 * The queue contract (src/queue/types.ts), run identically against both adapters: BullMQ on the
 * machine's Redis and the PostgreSQL table queue on a private test database.
 *
 * A lost worker is simulated the way it happens in production: a child process (this same file,
 * started with QUEUE_CONTRACT_CHILD=1) takes a job and is killed with SIGKILL mid-handler.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createBullmqQueue } from '../../src/queue/bullmq.ts';
import { createPostgresQueue, type QueueLogger } from '../../src/queue/postgres.ts';
import { type JobQueue, PermanentJobError, type QueueCounts, type QueueJob, type QueueWorker } from '../../src/queue/types.ts';
import { createTestDatabase, SERVER_URL, type TestDatabase } from '../support/db.ts';
import { deferred } from '../support/deferred.ts';
import { waitFor as waitForValue } from '../support/wait.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUN = randomBytes(4).toString('hex');
const PREFIX = `dsqt${RUN}`;
/** Short leases and backoffs so lost workers and retries show up within a test's time. */
const TUNING = { lockMs: 1_000, backoffMs: 100, pollMs: 100 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  await waitForValue(cond, { what, timeoutMs, intervalMs: 20 });
}

/** Collects adapter logs; printed only with QUEUE_TEST_VERBOSE=1 (expected warnings are noise). */
const logs: { level: string; msg: string; obj: object }[] = [];
const record = (level: string) => (obj: object, msg: string) => {
  logs.push({ level, msg, obj });
  if (process.env.QUEUE_TEST_VERBOSE) console.error(level, msg, JSON.stringify(obj));
};
const logger: QueueLogger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };

interface Harness {
  readonly name: 'postgres' | 'bullmq';
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** `slowPoll`: an idle poll far longer than any delay in the tests (where the adapter has one). */
  make(queueName: string, opts?: { slowPoll?: boolean }): JobQueue;
  /** A queue pointed at a backend that does not answer. */
  makeUnreachable(): Pick<JobQueue, 'ping' | 'close'>;
  childEnv(queueName: string): Record<string, string>;
  /** Kills the server side of this queue's connections (a restart, as far as clients can tell). */
  dropConnections(queueName: string): Promise<number>;
}

function postgresHarness(): Harness {
  let db: TestDatabase | undefined;
  const database = () => {
    if (!db) throw new Error('test database not set up');
    return db;
  };
  return {
    name: 'postgres',
    async setup() {
      db = await createTestDatabase();
    },
    async teardown() {
      await db?.drop();
    },
    make: (queueName, opts) => createPostgresQueue({ pool: database().pool, queueName, ...TUNING, ...(opts?.slowPoll ? { pollMs: 60_000 } : {}), logger }),
    makeUnreachable() {
      const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 1_000 });
      pool.on('error', (err) => logger.warn({ err: String(err) }, 'unreachable pool error'));
      const q = createPostgresQueue({ pool, logger });
      return {
        ping: () => q.ping(),
        close: async () => {
          await q.close();
          await pool.end();
        },
      };
    },
    childEnv: (queueName) => ({ ADAPTER: 'postgres', PG_URL: database().url, QUEUE_NAME: queueName }),
    async dropConnections() {
      const admin = new pg.Client({ connectionString: SERVER_URL });
      await admin.connect();
      try {
        const res = await admin.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
          [database().name],
        );
        return res.rowCount ?? 0;
      } finally {
        await admin.end();
      }
    },
  };
}

function bullmqHarness(): Harness {
  let admin: Redis | undefined;
  return {
    name: 'bullmq',
    async setup() {
      admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
      await admin.ping();
    },
    async teardown() {
      if (!admin) return;
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await admin.del(...keys);
      } while (cursor !== '0');
      await admin.quit();
    },
    make: (queueName) => createBullmqQueue({ connection: REDIS_URL, prefix: PREFIX, queueName, lockMs: TUNING.lockMs, backoffMs: TUNING.backoffMs, logger }),
    makeUnreachable: () => createBullmqQueue({ connection: 'redis://127.0.0.1:1', prefix: PREFIX, logger }),
    childEnv: (queueName) => ({ ADAPTER: 'bullmq', REDIS_URL, PREFIX, QUEUE_NAME: queueName }),
    async dropConnections(queueName) {
      if (!admin) throw new Error('redis admin not set up');
      // BullMQ names its connections "<prefix>:<base64 queue name>…"; ours carry the queue name.
      const marks = [Buffer.from(queueName).toString('base64'), `docsight:${queueName}:`];
      const list = String(await admin.client('LIST'));
      const ids = list
        .split('\n')
        .map((line) => ({ id: /\bid=(\d+)/.exec(line)?.[1], name: /\bname=(\S*)/.exec(line)?.[1] ?? '' }))
        .filter((c) => c.id && marks.some((m) => c.name.includes(m)));
      for (const c of ids) await admin.client('KILL', 'ID', c.id as string);
      return ids.length;
    },
  };
}

/** Child-process role: take one job and hang in its handler until killed. */
async function runChild(): Promise<void> {
  const env = process.env;
  const queueName = env.QUEUE_NAME ?? 'missing';
  let q: JobQueue;
  if (env.ADAPTER === 'postgres') {
    const pool = new pg.Pool({ connectionString: env.PG_URL });
    pool.on('error', (err) => console.error('child pool error', err));
    q = createPostgresQueue({ pool, queueName, ...TUNING });
  } else {
    q = createBullmqQueue({ connection: env.REDIS_URL ?? REDIS_URL, prefix: env.PREFIX ?? PREFIX, queueName, lockMs: TUNING.lockMs });
  }
  q.work(async (job) => {
    process.stdout.write(`started ${job.id} ${job.attempt}\n`);
    await new Promise<never>(() => undefined);
  }, { concurrency: 1 });
}

async function startChild(env: Record<string, string>): Promise<{ child: ChildProcess; started: Promise<string> }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, QUEUE_CONTRACT_CHILD: '1' };
  delete childEnv.NODE_TEST_CONTEXT; // the child is a plain script, not a test runner subprocess
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const started = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('started '));
      if (line) resolve(line);
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before taking the job: ${stderr}`)));
  });
  return { child, started };
}

const isEmpty = (c: QueueCounts) => c.waiting === 0 && c.active === 0 && c.delayed === 0 && c.failed === 0;

if (process.env.QUEUE_CONTRACT_CHILD) {
  await runChild();
} else {
  for (const harness of [postgresHarness(), bullmqHarness()]) {
    describe(`queue contract: ${harness.name}`, () => {
      let n = 0;
      const queues: JobQueue[] = [];
      const workers: QueueWorker[] = [];
      const children: ChildProcess[] = [];
      /** A fresh queue name per test keeps tests independent on the shared backend. */
      const fresh = () => `q${RUN}n${++n}`;
      const make = (name: string, opts?: { slowPoll?: boolean }) => {
        const q = harness.make(name, opts);
        queues.push(q);
        return q;
      };
      const work = (q: JobQueue, handler: (job: QueueJob) => Promise<void>, concurrency = 1) => {
        const w = q.work(handler, { concurrency });
        workers.push(w);
        return w;
      };

      before(() => harness.setup());
      after(() => harness.teardown());
      afterEach(async () => {
        for (const c of children.splice(0)) c.kill('SIGKILL');
        await Promise.all(workers.splice(0).map((w) => w.close(0)));
        await Promise.all(queues.splice(0).map((q) => q.close()));
      });

      it('runs a job once with its name, payload and attempt, then removes it', async () => {
        const q = make(fresh());
        await q.add('greet', { hello: 'world', n: [1, 2] }, { jobId: 'doc:42/extract' });
        const seen: QueueJob[] = [];
        const w = work(q, async (job) => {
          seen.push(job);
        }, 2);
        await waitFor(() => seen.length === 1, 'the job to run');
        const job = seen[0] as QueueJob;
        assert.equal(job.name, 'greet');
        assert.deepEqual(job.payload, { hello: 'world', n: [1, 2] });
        assert.equal(job.id, 'doc:42/extract');
        assert.equal(job.attempt, 1);
        assert.equal(job.maxAttempts, 5);
        assert.equal(job.signal.aborted, false);
        await waitFor(async () => isEmpty(await q.counts()), 'the completed job to be removed');
        // Nothing is left to run and the worker has stopped: a second run would have happened by now.
        await w.close(1_000);
        assert.equal(seen.length, 1);
      });

      it('runs up to `concurrency` handlers at once', async () => {
        const q = make(fresh());
        await q.addBulk(Array.from({ length: 12 }, (_, i) => ({ name: 'slow', payload: { i } })));
        let active = 0;
        let peak = 0;
        let done = 0;
        work(q, async () => {
          active += 1;
          peak = Math.max(peak, active);
          await sleep(150);
          active -= 1;
          done += 1;
        }, 4);
        await waitFor(() => done === 12, 'all jobs to finish');
        assert.equal(peak, 4);
      });

      it('shares work between workers and queue instances, never running a job twice at once', async () => {
        const name = fresh();
        const q1 = make(name);
        const q2 = make(name);
        const total = 60;
        await q1.addBulk(Array.from({ length: total }, (_, i) => ({ name: 'share', payload: { i }, opts: { jobId: `share-${i}` } })));
        const runs = new Map<string, number>();
        const running = new Set<string>();
        const byWorker = new Map<string, number>();
        let overlaps = 0;
        const handler = (tag: string) => async (job: QueueJob) => {
          if (running.has(job.id)) overlaps += 1;
          running.add(job.id);
          runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
          byWorker.set(tag, (byWorker.get(tag) ?? 0) + 1);
          await sleep(5 + Math.random() * 20);
          running.delete(job.id);
        };
        const ws = [work(q1, handler('a'), 3), work(q1, handler('b'), 2), work(q2, handler('c'), 3)];
        await waitFor(() => runs.size === total, 'every job to run');
        await waitFor(async () => isEmpty(await q1.counts()), 'the queue to drain');
        // Nothing is left to run and every worker has stopped: the counts below are final.
        await Promise.all(ws.map((w) => w.close(1_000)));
        assert.equal(overlaps, 0);
        assert.deepEqual([...runs.values()].filter((v) => v !== 1), [], 'each job ran exactly once');
        assert.ok(byWorker.size >= 2, `work was shared (${JSON.stringify([...byWorker])})`);
      });

      it('ignores a job id that is already waiting, delayed or active', async () => {
        const q = make(fresh());
        await q.add('x', { v: 1 }, { jobId: 'dup' });
        await q.add('x', { v: 2 }, { jobId: 'dup' });
        await q.addBulk([
          { name: 'x', payload: { v: 3 }, opts: { jobId: 'dup' } },
          { name: 'x', payload: { v: 4 }, opts: { jobId: '42' } },
          { name: 'x', payload: { v: 5 }, opts: { jobId: '42' } },
        ]);
        await q.add('x', { v: 6 }, { jobId: 'later', delayMs: 60_000 });
        await q.add('x', { v: 7 }, { jobId: 'later' });
        assert.deepEqual(await q.counts(), { waiting: 2, active: 0, delayed: 1, failed: 0 });
        const seen: { id: string; v: unknown }[] = [];
        const w = work(q, async (job) => {
          seen.push({ id: job.id, v: (job.payload as { v: number }).v });
          // Adding the running job's id again must not queue a second run.
          await q.add('x', { v: 99 }, { jobId: job.id });
        });
        await waitFor(() => seen.length === 2, 'both jobs to run');
        // A re-added copy would be waiting or running until it had run: wait for neither, then stop.
        await waitFor(async () => {
          const c = await q.counts();
          return c.waiting === 0 && c.active === 0;
        }, 'the queue to hold only the delayed job');
        await w.close(1_000);
        assert.deepEqual(seen.sort((a, b) => a.id.localeCompare(b.id)), [{ id: '42', v: 4 }, { id: 'dup', v: 1 }]);
        assert.deepEqual(await q.counts(), { waiting: 0, active: 0, delayed: 1, failed: 0 });
      });

      it('accepts a failed job id again, so a failed job can be retried', async () => {
        const q = make(fresh());
        let runs = 0;
        work(q, async (job) => {
          runs += 1;
          if ((job.payload as { ok: boolean }).ok !== true) throw new Error('boom');
        });
        await q.add('x', { ok: false }, { jobId: 'retry-me', attempts: 1 });
        await waitFor(async () => (await q.counts()).failed === 1, 'the job to fail');
        await q.add('x', { ok: true }, { jobId: 'retry-me', attempts: 1 });
        await waitFor(() => runs === 2, 'the job to run again');
        await waitFor(async () => isEmpty(await q.counts()), 'the retried job to complete and the failed copy to go');
      });

      it('holds a delayed job back until its delay has passed', async () => {
        const q = make(fresh());
        const addedAt = Date.now();
        await q.add('later', {}, { delayMs: 700 });
        assert.deepEqual(await q.counts(), { waiting: 0, active: 0, delayed: 1, failed: 0 });
        let ranAt = 0;
        work(q, async () => {
          ranAt = Date.now();
        });
        await waitFor(() => ranAt > 0, 'the delayed job to run');
        assert.ok(ranAt - addedAt >= 650, `ran after ${ranAt - addedAt} ms`);
      });

      // Upper bounds here are generous (not a speed test): they only tell "when the delay ends"
      // from "at the next poll", which is a minute away in these queues.
      it('runs a delayed job when its delay ends, whoever added it, not at the next poll', async () => {
        const q = make(fresh(), { slowPoll: true });
        const runs: { name: string; at: number }[] = [];
        work(q, async (job) => {
          runs.push({ name: job.name, at: Date.now() });
          // As classify-plan does while it waits for its scan: the handler re-enqueues with a delay.
          if (job.name === 'first') await q.add('from-handler', {}, { delayMs: 200 });
        });
        await sleep(200); // the worker is idle, its first look at the queue done
        const addedAt = Date.now();
        await q.add('first', {}, { delayMs: 200 });
        await waitFor(() => runs.length === 2, 'the delayed job and the one its handler added', 5_000);
        const [first, second] = runs as [{ name: string; at: number }, { name: string; at: number }];
        assert.equal(first.name, 'first');
        assert.ok(first.at - addedAt >= 190 && first.at - addedAt < 900, `the delayed job started after ${first.at - addedAt} ms`);
        assert.equal(second.name, 'from-handler');
        assert.ok(second.at - first.at >= 190 && second.at - first.at < 900, `the handler's delayed job started ${second.at - first.at} ms after it`);
      });

      it('retries a failed job when its backoff ends, not at the next poll', async () => {
        const q = make(fresh(), { slowPoll: true });
        const attempts: number[] = [];
        work(q, async (job) => {
          attempts.push(Date.now());
          if (job.attempt === 1) throw new Error('transient');
        });
        await q.add('flaky', {}, { attempts: 2 });
        await waitFor(() => attempts.length === 2, 'the retry', 5_000);
        const [a1, a2] = attempts as [number, number];
        // backoffMs 100: the retry is due 50-100 ms after the failure.
        assert.ok(a2 - a1 < 900, `the retry started ${a2 - a1} ms after the failure`);
      });

      it('runs lower priorities first, in insertion order within a priority', async () => {
        const q = make(fresh());
        await q.addBulk([
          { name: 'p3', payload: {}, opts: { priority: 3 } },
          { name: 'p1a', payload: {}, opts: { priority: 1 } },
          { name: 'p2', payload: {}, opts: { priority: 2 } },
          { name: 'p0', payload: {} },
          { name: 'p1b', payload: {}, opts: { priority: 1 } },
        ]);
        const order: string[] = [];
        work(q, async (job) => {
          order.push(job.name);
        });
        await waitFor(() => order.length === 5, 'all jobs to run');
        assert.deepEqual(order, ['p0', 'p1a', 'p1b', 'p2', 'p3']);
      });

      it('retries a failing job with growing backoff until it succeeds', async () => {
        const q = make(fresh());
        const attempts: { attempt: number; max: number; at: number }[] = [];
        work(q, async (job) => {
          attempts.push({ attempt: job.attempt, max: job.maxAttempts, at: Date.now() });
          if (job.attempt < 3) throw new Error(`transient ${job.attempt}`);
        });
        await q.add('flaky', {}, { attempts: 3 });
        await waitFor(() => attempts.length === 3, 'three attempts');
        assert.deepEqual(attempts.map((a) => [a.attempt, a.max]), [[1, 3], [2, 3], [3, 3]]);
        const [a1, a2, a3] = attempts.map((a) => a.at) as [number, number, number];
        // Exponential with up to 50% jitter: retry 1 waits 50-100 ms, retry 2 100-200 ms.
        assert.ok(a2 - a1 >= 45, `first retry after ${a2 - a1} ms`);
        assert.ok(a3 - a2 >= 95, `second retry after ${a3 - a2} ms`);
        await waitFor(async () => isEmpty(await q.counts()), 'the job to complete');
      });

      it('fails a job for good after its last attempt and keeps it visible', async () => {
        const q = make(fresh());
        let runs = 0;
        const w = work(q, async () => {
          runs += 1;
          throw new Error('always');
        });
        await q.add('doomed', {}, { attempts: 2 });
        await waitFor(async () => (await q.counts()).failed === 1, 'the job to fail');
        // A failed job is not run again: with the worker stopped, the counts are final.
        await w.close(1_000);
        assert.equal(runs, 2);
        assert.deepEqual(await q.counts(), { waiting: 0, active: 0, delayed: 0, failed: 1 });
      });

      it('fails at once, without retrying, when the handler throws PermanentJobError', async () => {
        const q = make(fresh());
        let runs = 0;
        const w = work(q, async () => {
          runs += 1;
          throw new PermanentJobError('not a docx');
        });
        await q.add('bad', {}, { attempts: 5 });
        // A retried job would be delayed, not failed, until its fifth run.
        await waitFor(async () => (await q.counts()).failed === 1, 'the job to fail');
        await w.close(1_000);
        assert.equal(runs, 1);
        assert.deepEqual(await q.counts(), { waiting: 0, active: 0, delayed: 0, failed: 1 });
      });

      it('close() aborts running handlers and hands their jobs back without using an attempt', async () => {
        const name = fresh();
        const q = make(name);
        let started = false;
        let sawAbort = false;
        const w = work(q, async (job) => {
          started = true;
          await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve(), { once: true }));
          sawAbort = true;
          throw job.signal.reason instanceof Error ? job.signal.reason : new Error('aborted');
        });
        await q.add('long', { v: 1 }, { jobId: 'long-1' });
        await waitFor(() => started, 'the job to start');
        await w.close(5_000);
        assert.equal(sawAbort, true);
        assert.deepEqual(await q.counts(), { waiting: 1, active: 0, delayed: 0, failed: 0 });
        const seen: QueueJob[] = [];
        work(make(name), async (job) => {
          seen.push(job);
        });
        await waitFor(() => seen.length === 1, 'another worker to take the job');
        assert.equal(seen[0]?.id, 'long-1');
        assert.equal(seen[0]?.attempt, 1);
      });

      it('close(timeout) releases a job whose handler ignores the abort', async () => {
        const name = fresh();
        const q = make(name);
        let started = false;
        const w = work(q, async () => {
          started = true;
          await new Promise<never>(() => undefined);
        });
        await q.add('stubborn', {}, { jobId: 'stubborn-1' });
        await waitFor(() => started, 'the job to start');
        await w.close(300);
        assert.deepEqual(await q.counts(), { waiting: 1, active: 0, delayed: 0, failed: 0 });
        const seen: QueueJob[] = [];
        work(make(name), async (job) => {
          seen.push(job);
        });
        await waitFor(() => seen.length === 1, 'another worker to take the job');
        assert.equal(seen[0]?.id, 'stubborn-1');
      });

      it('runs the job of a killed worker process again once its lease expires', async () => {
        const name = fresh();
        const q = make(name);
        await q.add('crashy', { v: 1 }, { jobId: 'crash-1' });
        const { child, started } = await startChild(harness.childEnv(name));
        children.push(child);
        const line = await started;
        assert.match(line, /^started crash-1 1$/);
        child.kill('SIGKILL');
        await once(child, 'exit');
        assert.equal((await q.counts()).active, 1, 'the dead worker still holds the job');
        const seen: QueueJob[] = [];
        work(q, async (job) => {
          seen.push(job);
        });
        await waitFor(() => seen.length === 1, 'the job to run again', 15_000);
        assert.equal(seen[0]?.id, 'crash-1');
        await waitFor(async () => isEmpty(await q.counts()), 'the job to complete');
      });

      it('survives the backend dropping its connections and resumes work', async () => {
        const name = fresh();
        const q = make(name);
        const seen: string[] = [];
        work(q, async (job) => {
          seen.push(job.id);
        }, 2);
        await q.add('before', {}, { jobId: 'before' });
        await waitFor(() => seen.includes('before'), 'the first job');
        const dropped = await harness.dropConnections(name);
        assert.ok(dropped > 0, 'some connections were dropped');
        // The producer may see the dropped connection once, as the API would (it answers 503).
        await waitFor(async () => {
          try {
            await q.add('after', {}, { jobId: 'after' });
            return true;
          } catch {
            return false;
          }
        }, 'the queue to accept jobs again');
        await waitFor(() => seen.includes('after'), 'the worker to resume', 15_000);
        await q.ping();
      });

      it('ping() answers when the backend is up and rejects when it is not', async () => {
        const q = make(fresh());
        await q.ping();
        const down = harness.makeUnreachable();
        try {
          await assert.rejects(down.ping());
        } finally {
          await down.close();
        }
      });

      it('counts() reports waiting, active, delayed and failed jobs', async () => {
        const q = make(fresh());
        const gate = deferred();
        const running = new Set<string>();
        work(q, async (job) => {
          running.add(job.name);
          if (job.name === 'fail') throw new PermanentJobError('no');
          if (job.name === 'block') await gate.promise;
        });
        await q.add('fail', {});
        await waitFor(async () => (await q.counts()).failed === 1, 'the failure');
        await q.add('block', {});
        await waitFor(() => running.has('block'), 'the blocking job to start');
        await q.addBulk([{ name: 'w1', payload: {} }, { name: 'w2', payload: {} }, { name: 'd1', payload: {}, opts: { delayMs: 60_000 } }]);
        assert.deepEqual(await q.counts(), { waiting: 2, active: 1, delayed: 1, failed: 1 });
        gate.resolve();
        await waitFor(async () => (await q.counts()).waiting === 0 && (await q.counts()).active === 0, 'the queue to drain');
      });
    });
  }
}
