/**
 * The one place Redis connections are made, with the options each use needs. Every client
 * reconnects quickly after a Redis restart (ioredis's own backoff waits up to 20 s between tries).
 */
import { Redis } from 'ioredis';

/**
 * - `queue-producer`: adds jobs and answers /ready; fails fast while Redis is down (the API
 *   answers 503) instead of queueing commands until it comes back.
 * - `queue-worker`: BullMQ's workers make their own connections from these options; a blocking
 *   connection must wait through an outage, so commands never give up.
 * - `rate-limit`: the process's shared rate-limit store; never queues a command while
 *   disconnected, so the API falls back to its own count at once and a waiting LLM call learns
 *   of the outage instead of stalling.
 */
export type RedisRole = 'queue-producer' | 'queue-worker' | 'rate-limit';

const retryStrategy = (times: number) => Math.min(100 * 2 ** Math.min(times, 6), 5_000);

/** The options that differ by role (assignable both to ioredis's options and to BullMQ's). */
export interface RoleOptions {
  maxRetriesPerRequest: number | null;
  enableOfflineQueue?: boolean;
  retryStrategy: (times: number) => number;
}

const ROLE_OPTIONS: Record<RedisRole, RoleOptions> = {
  'queue-producer': { maxRetriesPerRequest: 2, retryStrategy },
  'queue-worker': { maxRetriesPerRequest: null, retryStrategy },
  'rate-limit': { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy },
};

/** Connection options for `role` (for libraries that open their own connections, as BullMQ's workers do). */
export function redisOptions(url: string, role: RedisRole, name?: string): RoleOptions & { url: string; connectionName?: string } {
  if (!/^rediss?:\/\//.test(url)) throw new Error('The Redis connection must be a redis:// or rediss:// URL');
  return { url, ...ROLE_OPTIONS[role], ...(name !== undefined ? { connectionName: name } : {}) };
}

export interface RedisClientOptions {
  /** CLIENT SETNAME, to tell connections apart in `CLIENT LIST`. */
  name?: string;
  /**
   * Hears connection errors while the client reconnects by itself. Without a listener ioredis
   * reports every one as unhandled.
   */
  onError?: (err: Error) => void;
}

/** A client the caller owns (and closes with `closeRedisClient`). */
export function createRedisClient(url: string, role: RedisRole, opts: RedisClientOptions = {}): Redis {
  const { url: _url, ...options } = redisOptions(url, role, opts.name);
  const client = new Redis(url, options);
  client.on('error', opts.onError ?? (() => undefined));
  return client;
}

/**
 * Resolves once the client is connected, or after `timeoutMs` either way: a client that never
 * queues commands would otherwise refuse the first ones sent while it is still connecting.
 */
export function whenConnected(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    client.once('ready', done);
  });
}

/** quit() waits for Redis; when it is down, disconnect() is the only way to stop reconnecting. */
export async function closeRedisClient(client: Redis, timeoutMs = 2_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('redis quit timed out')), timeoutMs);
  });
  await Promise.race([client.quit(), timeout])
    .catch(() => client.disconnect())
    .finally(() => clearTimeout(timer));
}
