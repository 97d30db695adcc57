/**
 * bull-board, the BullMQ dashboard, on /admin/queues (Redis mode only). It reads and changes the
 * queue's Redis structures directly (retry, remove, pause), so it gets its own BullMQ Queue on the
 * same name and prefix as the adapter in queue/bullmq.ts, and sits behind an admin check:
 * `guard` when the auth layer supplies one, otherwise only direct loopback callers.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Queue } from 'bullmq';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

export interface QueueDashboardOptions {
  redisUrl: string;
  queueName: string;
  /** BullMQ key prefix; the adapter's default is "bull". */
  prefix?: string;
  guard?: ((req: FastifyRequest) => boolean | Promise<boolean>) | undefined;
}

const isLoopbackAddress = (a: string | undefined) => !!a && (a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.'));

/**
 * Without a guard: loopback callers only, and not through a proxy. A reverse proxy on the same
 * machine connects from 127.0.0.1 on behalf of anyone, so a request carrying forwarding headers is
 * treated as remote.
 */
export function loopbackOnly(req: FastifyRequest): boolean {
  const h = req.headers;
  const proxied = h['x-forwarded-for'] !== undefined || h.forwarded !== undefined || h['x-real-ip'] !== undefined;
  return !proxied && isLoopbackAddress(req.socket.remoteAddress);
}

export const queueDashboard =
  (opts: QueueDashboardOptions): FastifyPluginAsync =>
  async (app) => {
    const guard = opts.guard ?? loopbackOnly;
    app.addHook('onRequest', async (req, reply) => {
      if (await guard(req)) return;
      // Answered here, not thrown: bull-board installs its own error handler in this scope.
      await reply.code(403).send({ error: { code: 'forbidden', message: 'The queue dashboard is for administrators' } });
    });

    const queue = new Queue(opts.queueName, {
      prefix: opts.prefix ?? 'bull',
      connection: { url: opts.redisUrl, maxRetriesPerRequest: 2, enableOfflineQueue: false },
    });
    // Without a listener an 'error' event would crash the process while Redis reconnects.
    queue.on('error', (err) => app.log.debug({ err: err.message }, 'queue dashboard: Redis error'));
    app.addHook('onClose', async () => {
      await queue.close().catch(() => undefined);
    });

    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
    createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter, options: { uiConfig: { boardTitle: 'docsight queues' } } });
    await app.register(serverAdapter.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
  };
