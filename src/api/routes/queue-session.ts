/**
 * `POST /v1/admin/queue-session`: how an administrator's browser opens bull-board when keys are
 * required (a page load cannot carry a Bearer header). See plugins/queue-dashboard.ts.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { presentedKey } from '../plugins/auth.ts';
import { QUEUE_DASHBOARD_PATH, queueSessionCookie } from '../plugins/queue-session.ts';
import { ErrorSchema } from '../schemas.ts';

export const queueSessionRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v1/admin/queue-session',
    {
      config: { role: 'admin', audit: 'queues.session' },
      schema: {
        tags: ['access'],
        summary: 'Open the queue dashboard (bull-board) in a browser: sets the admin key as a cookie for /admin/queues only',
        description:
          'Redis mode only. The cookie is HttpOnly, SameSite=Strict, limited to the queue dashboard path and kept for the browser session; the key is checked on every request, so revoking it ends the session. Unscoped admin keys only.',
        response: { 200: z.object({ url: z.string() }), 401: ErrorSchema, 403: ErrorSchema },
      },
    },
    async (req, reply) => {
      if (req.principal.scopes.length > 0) throw new AppError('forbidden', 'The queue dashboard shows every folder\'s jobs: it needs an unscoped admin key');
      const key = presentedKey(req);
      // Keyless (open, loopback) callers need no cookie: the dashboard lets them in directly.
      if (key !== undefined && /^[A-Za-z0-9_-]+$/.test(key)) reply.header('set-cookie', queueSessionCookie(key, req.protocol === 'https'));
      return { url: QUEUE_DASHBOARD_PATH };
    },
  );
};
