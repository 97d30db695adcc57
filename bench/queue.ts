/**
 * Benchmark: queue overhead. Enqueue N no-op jobs with addBulk, then drain them with one worker
 * of concurrency C, on each adapter: the PostgreSQL table queue (a private database on the
 * machine's server) and BullMQ (the machine's Redis). Prints enqueue and drain rates and peak RSS.
 *
 *   npm run bench:queue     (BENCH_JOBS=10000, BENCH_CONCURRENCY=8, BENCH_ADAPTERS=postgres,bullmq)
 */
import pg from 'pg';
import { createBullmqQueue } from '../src/queue/bullmq.ts';
import { createPostgresQueue } from '../src/queue/postgres.ts';
import type { JobQueue } from '../src/queue/types.ts';
import { createDatabase } from '../src/store/database.ts';
import { migrateToLatest } from '../src/store/migrate.ts';
import { envInt, machine, rssSampler, table } from './support.ts';

const N = envInt('BENCH_JOBS', 10_000);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 8);
const ADAPTERS = (process.env.BENCH_ADAPTERS ?? 'postgres,bullmq').split(',');
const PG_SERVER = process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUN = `qb${Date.now().toString(36)}`;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_SERVER });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function measure(adapter: string, queue: JobQueue): Promise<Record<string, string | number>> {
  const rss = rssSampler();
  const items = Array.from({ length: N }, (_, i) => ({ name: 'noop', payload: { i } }));
  const t0 = performance.now();
  await queue.addBulk(items);
  const enqueueMs = performance.now() - t0;

  let handled = 0;
  let allHandled: () => void = () => undefined;
  const handledP = new Promise<void>((resolve) => {
    allHandled = resolve;
  });
  const t1 = performance.now();
  const worker = queue.work(async () => {
    handled += 1;
    if (handled === N) allHandled();
  }, { concurrency: CONCURRENCY });
  await handledP;
  // Drained means removed from the queue too (the Postgres adapter deletes in batches).
  for (;;) {
    const c = await queue.counts();
    if (c.waiting + c.active + c.delayed === 0) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const drainMs = performance.now() - t1;
  await worker.close(5_000);
  return {
    adapter,
    jobs: N,
    concurrency: CONCURRENCY,
    'enqueue jobs/s': Math.round(N / (enqueueMs / 1000)),
    'drain jobs/s': Math.round(N / (drainMs / 1000)),
    'drain s': (drainMs / 1000).toFixed(2),
    'peak RSS MB': rss.stop(),
  };
}

async function benchPostgres(): Promise<Record<string, string | number>> {
  const dbName = `docsight_bench_${RUN}`;
  await admin(`create database ${dbName}`);
  const u = new URL(PG_SERVER);
  u.pathname = `/${dbName}`;
  const handle = createDatabase(u.toString(), { max: 10 });
  try {
    await migrateToLatest(handle.db);
    const queue = createPostgresQueue({ pool: handle.pool, queueName: RUN });
    try {
      return await measure('postgres', queue);
    } finally {
      await queue.close();
    }
  } finally {
    await handle.close();
    await admin(`drop database if exists ${dbName} with (force)`);
  }
}

async function benchBullmq(): Promise<Record<string, string | number>> {
  const queue = createBullmqQueue({ connection: REDIS_URL, queueName: RUN, prefix: RUN });
  try {
    return await measure('bullmq', queue);
  } finally {
    await queue.close();
    // Failed jobs would be the only leftovers; a no-op run leaves the queue's bookkeeping keys.
    const { Redis } = await import('ioredis');
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${RUN}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  }
}

const rows: Record<string, string | number>[] = [];
for (const adapter of ADAPTERS) {
  if (adapter === 'postgres') rows.push(await benchPostgres());
  else if (adapter === 'bullmq') rows.push(await benchBullmq());
  else throw new Error(`unknown adapter ${adapter}`);
}
console.log(`queue benchmark on ${machine()}`);
console.log(table(rows));
