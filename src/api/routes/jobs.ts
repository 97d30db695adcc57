import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isActiveJobStatus, JOB_KINDS, JOB_STATUSES } from '../../domain/vocabulary.ts';
import type { JobsService } from '../../services/jobs.service.ts';
import { ErrorSchema, JobSchema } from '../schemas.ts';

export interface JobRoutesDeps {
  jobs: JobsService;
  /** How often the events stream reads the job (default 500 ms). */
  eventsPollMs?: number;
}

export const jobRoutes =
  (deps: JobRoutesDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/scans',
      {
        config: { audit: 'scan.start' },
        schema: {
          tags: ['jobs'],
          summary: 'Scan a folder (recursively): record its documents and extract their metadata and text',
          description:
            'Answers at once with the scan job (202). While an identical scan is queued or running, answers 200 with that job instead of starting another.',
          body: z.strictObject({ path: z.string().max(4096).describe('Folder relative to the documents root ("." for the root)') }),
          response: { 200: JobSchema, 202: JobSchema, 400: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema },
        },
      },
      async (req, reply) => {
        const { job, created } = await deps.jobs.startScan({ path: req.body.path, requestId: req.id, access: req.principal });
        return reply.status(created ? 202 : 200).send(job);
      },
    );

    app.get(
      '/v1/jobs',
      {
        schema: {
          tags: ['jobs'],
          summary: 'List jobs, newest first',
          querystring: z.strictObject({
            status: z.enum(JOB_STATUSES).optional(),
            kind: z.enum(JOB_KINDS).optional(),
            folder: z.string().max(4096).optional(),
            cursor: z.string().max(500).optional(),
            limit: z.coerce.number().int().min(1).max(200).default(50),
          }),
          response: { 200: z.object({ items: z.array(JobSchema), nextCursor: z.string().nullable() }), 400: ErrorSchema },
        },
      },
      async (req) => deps.jobs.list(req.query, req.principal),
    );

    app.get(
      '/v1/jobs/:id/events',
      {
        schema: {
          tags: ['jobs'],
          summary: 'Server-sent events: `progress` with the job (as GET /v1/jobs/{id}) whenever it changes, until it ends',
          description:
            'Each event is `event: progress` with the job JSON as data; the stream ends after the job reaches completed, failed or cancelled (a final `event: end`). Comments every 15 s keep proxies from closing it.',
          params: z.object({ id: z.uuid() }),
          response: { 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req, reply) => {
        let job = await deps.jobs.get(req.params.id, {}, req.principal);
        const raw = reply.raw;
        reply.hijack();
        raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          // nginx: pass events through unbuffered
          'x-accel-buffering': 'no',
        });
        let closed = false;
        req.raw.on('close', () => {
          closed = true;
        });
        const send = (event: string, data: unknown) => {
          if (!closed) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        };
        send('progress', job);
        let lastSent = JSON.stringify(job.progress) + job.status;
        let lastBeat = Date.now();
        while (!closed && isActiveJobStatus(job.status)) {
          await new Promise((r) => setTimeout(r, deps.eventsPollMs ?? 500));
          try {
            job = await deps.jobs.get(req.params.id, {}, req.principal);
          } catch (err) {
            req.log.warn({ err: String(err) }, 'job events: read failed; retrying');
            continue;
          }
          const key = JSON.stringify(job.progress) + job.status;
          if (key !== lastSent) {
            send('progress', job);
            lastSent = key;
          } else if (Date.now() - lastBeat > 15_000 && !closed) {
            raw.write(': keep-alive\n\n');
            lastBeat = Date.now();
          }
        }
        if (!closed) {
          if (!isActiveJobStatus(job.status)) send('end', { id: job.id, status: job.status });
          raw.end();
        }
      },
    );

    app.post(
      '/v1/jobs/:id/cancel',
      {
        config: { audit: 'job.cancel' },
        schema: {
          tags: ['jobs'],
          summary: 'Cancel a job: queued work stops at once, in-flight work at its next safe point (a whole batch)',
          params: z.object({ id: z.uuid() }),
          response: { 200: JobSchema, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (req) => deps.jobs.cancel(req.params.id, req.principal),
    );

    app.post(
      '/v1/jobs/:id/retry',
      {
        config: { audit: 'job.retry' },
        schema: {
          tags: ['jobs'],
          summary: 'Run the failed documents of an ended job again, as a new job (202; 200 with the retry already running)',
          params: z.object({ id: z.uuid() }),
          response: { 200: JobSchema, 202: JobSchema, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (req, reply) => {
        const { job, created } = await deps.jobs.retry(req.params.id, req.principal, req.id);
        return reply.status(created ? 202 : 200).send(job);
      },
    );

    app.get(
      '/v1/jobs/:id',
      {
        schema: {
          tags: ['jobs'],
          summary: 'A job: status, progress counters, rate, timings, error and failed documents',
          params: z.object({ id: z.uuid() }),
          response: { 200: JobSchema, 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req) => deps.jobs.get(req.params.id, { failures: 100 }, req.principal),
    );
  };
