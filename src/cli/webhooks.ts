/** `docsight webhooks add | list | remove`: manage webhooks over the API (admin key). */
import type { CreatedWebhook, Webhook } from '../contract.ts';
import { WEBHOOK_EVENTS, type WebhookEvent } from '../domain/vocabulary.ts';
import type { Context } from './context.ts';
import { EXIT, UsageError } from './context.ts';
import { folderName, minute, table } from './render.ts';

export const WEBHOOKS_USAGE = 'docsight webhooks add <url> --events E[,E…] [--folder F] | list | remove <id> [--json] [--server URL] [--key KEY]';

function json(ctx: Context, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function parseEvents(list: string | undefined): WebhookEvent[] {
  const events = (list ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  if (events.length === 0) throw new UsageError(`--events is required: one or more of ${WEBHOOK_EVENTS.join(', ')}, comma-separated`);
  const unknown = events.filter((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e));
  if (unknown.length) throw new UsageError(`unknown event ${unknown.join(', ')}: events are ${WEBHOOK_EVENTS.join(', ')}`);
  return events as WebhookEvent[];
}

const state = (w: Webhook) => (w.enabled ? 'enabled' : `disabled${w.disabledReason ? ` (${w.disabledReason})` : ''}`);

export async function webhooks(ctx: Context, positionals: string[], o: { events?: string; folder?: string }): Promise<number> {
  const [action, ...rest] = positionals;
  switch (action) {
    case 'add': {
      if (rest.length !== 1) throw new UsageError('give one URL: docsight webhooks add <url> --events job.completed');
      const body = { url: rest[0], events: parseEvents(o.events), ...(o.folder !== undefined ? { folder: o.folder } : {}) };
      const { body: created } = await ctx.client.request<CreatedWebhook>('POST', '/v1/webhooks', body);
      if (ctx.json) json(ctx, created);
      else {
        ctx.stdout.write(
          `Webhook ${created.id}: ${created.url}\n  events  ${created.events.join(', ')}\n  folder  ${folderName(created.folder)}\n` +
            `  secret  ${created.secret}\nKeep the secret: it signs every delivery and is not shown again (docs/webhooks.md shows how to check it).\n`,
        );
      }
      return EXIT.ok;
    }
    case 'list': {
      if (rest.length) throw new UsageError('list takes no arguments');
      const { body } = await ctx.client.request<{ items: Webhook[] }>('GET', '/v1/webhooks');
      if (ctx.json) json(ctx, body);
      else if (!body.items.length) ctx.stdout.write('No webhooks.\n');
      else {
        ctx.stdout.write(
          table(
            ['ID', 'URL', 'EVENTS', 'FOLDER', 'STATE', 'CREATED'],
            body.items.map((w) => [w.id, w.url, w.events.join(','), folderName(w.folder), state(w), minute(w.createdAt)]),
            [],
            '',
          ),
        );
      }
      return EXIT.ok;
    }
    case 'remove': {
      if (rest.length !== 1) throw new UsageError('give the id of the webhook to remove (see docsight webhooks list)');
      const { body } = await ctx.client.request<Webhook>('DELETE', `/v1/webhooks/${encodeURIComponent(rest[0] as string)}`);
      if (ctx.json) json(ctx, body);
      else ctx.stdout.write(`Removed webhook ${body.id} (${body.url}).\n`);
      return EXIT.ok;
    }
    case undefined:
      throw new UsageError('what to do? add, list or remove');
    default:
      throw new UsageError(`unknown action ${action}: add, list or remove`);
  }
}
