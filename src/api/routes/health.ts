import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

const Check = z.object({ ok: z.boolean(), error: z.string().optional() });

export interface HealthRoutesDeps {
  version: string;
  mode: { database: 'embedded' | 'external'; queue: 'postgres' | 'bullmq' };
  authRequired: boolean;
  pingDatabase(): Promise<void>;
  pingQueue(): Promise<void>;
}

export const healthRoutes =
  (deps: HealthRoutesDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/health',
      {
        config: { public: true, probe: true },
        schema: {
          tags: ['health'],
          summary: 'Liveness: the process answers',
          response: {
            200: z.object({
              status: z.literal('ok'),
              version: z.string(),
              mode: z.object({ database: z.enum(['embedded', 'external']), queue: z.enum(['postgres', 'bullmq']) }),
              auth: z.enum(['required', 'open']),
            }),
          },
        },
      },
      async () => ({
        status: 'ok' as const,
        version: deps.version,
        mode: deps.mode,
        auth: deps.authRequired ? ('required' as const) : ('open' as const),
      }),
    );

    app.get(
      '/ready',
      {
        config: { public: true, probe: true },
        schema: {
          tags: ['health'],
          summary: 'Readiness: database and queue answer',
          response: {
            200: z.object({ status: z.literal('ready'), database: Check, queue: Check }),
            503: z.object({ status: z.literal('unavailable'), database: Check, queue: Check }),
          },
        },
      },
      async (_req, reply) => {
        const check = async (fn: () => Promise<void>) => {
          try {
            await withTimeout(fn(), 2000);
            return { ok: true };
          } catch (err) {
            return { ok: false, error: err instanceof Error ? err.message : String(err) };
          }
        };
        const [database, queue] = await Promise.all([check(deps.pingDatabase), check(deps.pingQueue)]);
        if (database.ok && queue.ok) return { status: 'ready' as const, database, queue };
        return reply.status(503).send({ status: 'unavailable' as const, database, queue });
      },
    );
  };

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
