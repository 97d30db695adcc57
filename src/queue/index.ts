/**
 * Picks the queue adapter: BullMQ when a Redis URL is configured (distributed mode), otherwise
 * the PostgreSQL table queue (embedded and Postgres-only modes). Callers see only JobQueue.
 */
import { createBullmqQueue } from './bullmq.ts';
import { createPostgresQueue, type PostgresPool } from './postgres.ts';
import type { QueueLogger } from './shared.ts';
import type { JobQueue } from './types.ts';

export type { QueueLogger } from './shared.ts';

export interface CreateQueueOptions {
  /** When set, jobs travel through BullMQ on this Redis. */
  redisUrl?: string | undefined;
  /** The application's pool (the Postgres adapter's store; unused with Redis). Never closed here. */
  pool: PostgresPool;
  /** Processes that share work use the same name. Default "docsight". */
  queueName?: string | undefined;
  /** BullMQ key prefix (Redis only). Default "bull". */
  prefix?: string | undefined;
  /** Lease / lock length: a dead worker's job runs again after about this long. Default 30 s. */
  lockMs?: number | undefined;
  /** First retry delay, doubling per attempt with jitter. Default 1 s. */
  backoffMs?: number | undefined;
  /** Postgres only: idle poll interval (NOTIFY wakes workers sooner). Default 1 s. */
  pollMs?: number | undefined;
  logger?: QueueLogger | undefined;
}

export function createQueue(opts: CreateQueueOptions): JobQueue {
  const common = {
    ...(opts.queueName !== undefined ? { queueName: opts.queueName } : {}),
    ...(opts.lockMs !== undefined ? { lockMs: opts.lockMs } : {}),
    ...(opts.backoffMs !== undefined ? { backoffMs: opts.backoffMs } : {}),
    ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
  };
  if (opts.redisUrl) {
    return createBullmqQueue({ connection: opts.redisUrl, ...common, ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}) });
  }
  return createPostgresQueue({ pool: opts.pool, ...common, ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}) });
}
