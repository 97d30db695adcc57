/**
 * bull-board, the BullMQ dashboard, on /admin/queues (Redis mode only). It reads and changes the
 * queue's Redis structures directly (retry, remove, pause), so it gets its own BullMQ Queue on the
 * same name and prefix as the adapter in queue/bullmq.ts, and sits behind an admin check:
 * `guard` when the auth layer supplies one, otherwise only direct loopback callers.
 *
 * A browser cannot put a Bearer header on bull-board's page and its requests, so an admin opens
 * it through `POST /v1/admin/queue-session` (the web dashboard's "Queues" link does): the answer
 * sets the key as a cookie that only this path receives (HttpOnly, SameSite=Strict, a browser
 * session long), and the auth layer reads it here and nowhere else. The key is checked on every
 * request, so revoking it ends the session; SameSite=Strict and the Origin check below keep other
 * sites from driving bull-board's retry/remove/pause calls with it.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Queue } from 'bullmq';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { QUEUE_DASHBOARD_PATH } from './queue-session.ts';

export { QUEUE_DASHBOARD_PATH } from './queue-session.ts';

/** A state-changing request whose Origin is another site (browsers send Origin on those). */
function crossOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (req.method === 'GET' || req.method === 'HEAD' || typeof origin !== 'string') return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

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
      if (!crossOrigin(req) && (await guard(req))) return;
      // Answered here, not thrown: bull-board installs its own error handler in this scope.
      await reply.code(403).send({
        error: {
          code: 'forbidden',
          message: 'The queue dashboard is for administrators: open it from the dashboard\'s Queues link with an admin key',
        },
      });
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
