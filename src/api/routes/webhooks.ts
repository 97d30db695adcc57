import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_EVENTS } from '../../domain/vocabulary.ts';
import type { Webhook, WebhookAttempt } from '../../contract.ts';
import type { WebhooksService } from '../../services/webhooks.service.ts';
import { ErrorSchema } from '../schemas.ts';

const WebhookSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    folder: z.string().nullable().describe('Only events about this folder or inside it; null: every folder'),
    enabled: z.boolean().describe('false: disabled on request or after WEBHOOK_DISABLE_AFTER events in a row were given up'),
    consecutiveFailures: z.number().int(),
    disabledAt: z.string().nullable(),
    disabledReason: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Webhook' });

const AttemptSchema = z
  .object({
    id: z.string(),
    eventId: z.uuid().describe('Also the `docsight-event-id` header: the same on every attempt of one event'),
    event: z.enum(WEBHOOK_EVENTS),
    attempt: z.number().int(),
    statusCode: z.number().int().nullable().describe('null: no answer (refused, unreachable, cut off by the timeout)'),
    error: z.string().nullable(),
    durationMs: z.number().int(),
    at: z.string(),
    deliveryStatus: z.enum(WEBHOOK_DELIVERY_STATUSES).describe("Where the event's delivery stands now"),
  })
  .meta({ id: 'WebhookAttempt' });

type WebhookRow = Awaited<ReturnType<WebhooksService['get']>>;
type Attempt = Awaited<ReturnType<WebhooksService['deliveries']>>['items'][number];

const view = (w: WebhookRow): Webhook => ({
  id: w.id,
  url: w.url,
  events: w.events,
  folder: w.folderPath,
  enabled: w.enabled,
  consecutiveFailures: w.consecutiveFailures,
  disabledAt: w.disabledAt?.toISOString() ?? null,
  disabledReason: w.disabledReason,
  createdAt: w.createdAt.toISOString(),
  updatedAt: w.updatedAt.toISOString(),
});

const attemptView = (a: Attempt): WebhookAttempt => ({
  id: a.id,
  eventId: a.eventId,
  event: a.event,
  attempt: a.attempt,
  statusCode: a.statusCode,
  error: a.error,
  durationMs: a.durationMs,
  at: a.at.toISOString(),
  deliveryStatus: a.deliveryStatus,
});

const Events = z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length);
const Folder = z.string().max(4096).nullable().describe('Only events about this folder or inside it (relative to the documents root); null or ".": every folder');
const Params = z.object({ id: z.uuid() });

export const webhookRoutes =
  (deps: { webhooks: WebhooksService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/webhooks',
      {
        config: { role: 'admin', audit: 'webhook.create' },
        schema: {
          tags: ['webhooks'],
          summary: 'Subscribe a URL to events (admin). The signing secret is in this answer only.',
          description:
            'Deliveries are signed (`docsight-signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`), retried with backoff for ' +
            'up to WEBHOOK_RETRY_FOR_MS, and logged (GET /v1/webhooks/{id}/deliveries). Only http(s) URLs; hosts that are or ' +
            'resolve to loopback, private, link-local and other non-public addresses are refused (`url_not_allowed`) unless ' +
            'WEBHOOK_ALLOW_PRIVATE=true.',
          body: z.strictObject({ url: z.string().min(1).max(2048), events: Events, folder: Folder.optional() }),
          response: { 201: WebhookSchema.extend({ secret: z.string().describe('Key of the HMAC signature; never shown again') }), 400: ErrorSchema, 403: ErrorSchema },
        },
      },
      async (req, reply) => {
        const { webhook, secret } = await deps.webhooks.create(req.body, req.principal);
        return reply.status(201).send({ ...view(webhook), secret });
      },
    );

    app.get(
      '/v1/webhooks',
      {
        config: { role: 'admin' },
        schema: { tags: ['webhooks'], summary: 'List webhooks (admin), without secrets', response: { 200: z.object({ items: z.array(WebhookSchema) }), 403: ErrorSchema } },
      },
      async (req) => ({ items: (await deps.webhooks.list(req.principal)).map(view) }),
    );

    app.get(
      '/v1/webhooks/:id',
      {
        config: { role: 'admin' },
        schema: { tags: ['webhooks'], summary: 'One webhook (admin), without its secret', params: Params, response: { 200: WebhookSchema, 403: ErrorSchema, 404: ErrorSchema } },
      },
      async (req) => view(await deps.webhooks.get(req.params.id, req.principal)),
    );

    app.patch(
      '/v1/webhooks/:id',
      {
        config: { role: 'admin', audit: 'webhook.update' },
        schema: {
          tags: ['webhooks'],
          summary: 'Change a webhook (admin); `enabled: true` resumes a disabled one and clears its failure count',
          params: Params,
          body: z.strictObject({ url: z.string().min(1).max(2048).optional(), events: Events.optional(), folder: Folder.optional(), enabled: z.boolean().optional() }),
          response: { 200: WebhookSchema, 400: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req) => view(await deps.webhooks.update(req.params.id, req.body, req.principal)),
    );

    app.delete(
      '/v1/webhooks/:id',
      {
        config: { role: 'admin', audit: 'webhook.delete' },
        schema: { tags: ['webhooks'], summary: 'Remove a webhook and its delivery log (admin)', params: Params, response: { 200: WebhookSchema, 403: ErrorSchema, 404: ErrorSchema } },
      },
      async (req) => view(await deps.webhooks.remove(req.params.id, req.principal)),
    );

    app.get(
      '/v1/webhooks/:id/deliveries',
      {
        config: { role: 'admin' },
        schema: {
          tags: ['webhooks'],
          summary: 'The delivery log of a webhook (admin): every attempt, newest first',
          params: Params,
          querystring: z.strictObject({ cursor: z.string().max(500).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
          response: { 200: z.object({ items: z.array(AttemptSchema), nextCursor: z.string().nullable() }), 400: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req) => {
        const page = await deps.webhooks.deliveries(req.params.id, req.principal, req.query);
        return { items: page.items.map(attemptView), nextCursor: page.nextCursor };
      },
    );
  };
