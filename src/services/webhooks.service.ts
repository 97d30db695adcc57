/**
 * Webhooks as an admin manages them: subscribe a URL to events (optionally under one folder),
 * read, change, remove, and read the delivery log. The signing secret is made here, shown once
 * (like an API key) and stored sealed (secrets.ts): the deliverer needs it back to sign.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { canSee, isScoped, type Principal } from '../domain/access.ts';
import { badRequest, notFound } from '../domain/errors.ts';
import { normalizeRelativePath } from '../domain/paths.ts';
import { WEBHOOK_EVENTS, type WebhookEvent } from '../domain/vocabulary.ts';
import type { AttemptRecord, WebhookRecord, WebhooksRepository } from '../store/webhooks.repository.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { SecretBox } from './secrets.ts';

export interface WebhooksServiceDeps {
  repo: WebhooksRepository;
  secrets: SecretBox;
  /** The URL as stored, or a `url_not_allowed` error (webhook-sender.ts: checkWebhookUrl). */
  checkUrl(url: string): Promise<string>;
}

export interface WebhookInput {
  url: string;
  events: WebhookEvent[];
  /** Only events about this folder or inside it; absent or '.': every folder. */
  folder?: string | null;
}

const cursorSchema = z.object({ id: z.string().regex(/^\d+$/) });

function events(list: WebhookEvent[]): WebhookEvent[] {
  const unique = [...new Set(list)];
  if (unique.length === 0) throw badRequest(`Subscribe to at least one event of ${WEBHOOK_EVENTS.join(', ')}`);
  return WEBHOOK_EVENTS.filter((e) => unique.includes(e));
}

export function createWebhooksService(deps: WebhooksServiceDeps) {
  const { repo } = deps;

  /** A caller scoped to folders sees only webhooks on folders in its scopes; others are "not found". */
  const visible = (p: Principal, w: WebhookRecord) => !isScoped(p) || (w.folderPath !== null && canSee(p, w.folderPath));

  function folderFor(p: Principal, folder: string | null | undefined): string | null {
    const rel = folder == null ? '' : normalizeRelativePath(folder);
    if (isScoped(p) && (rel === '' || !canSee(p, rel))) {
      throw badRequest('A key scoped to folders must give a folder inside its scopes');
    }
    return rel === '' ? null : rel;
  }

  async function find(id: string, p: Principal): Promise<WebhookRecord> {
    const w = await repo.findById(id);
    if (!w || !visible(p, w)) throw notFound(`Webhook not found: ${id}`);
    return w;
  }

  return {
    async create(input: WebhookInput, p: Principal): Promise<{ webhook: WebhookRecord; secret: string }> {
      const folderPath = folderFor(p, input.folder);
      const url = await deps.checkUrl(input.url);
      const secret = `whsec_${randomBytes(32).toString('base64url')}`;
      const webhook = await repo.create({ url, events: events(input.events), folderPath, sealedSecret: deps.secrets.seal(secret), createdBy: p.keyId });
      return { webhook, secret };
    },

    async list(p: Principal): Promise<WebhookRecord[]> {
      return (await repo.list()).filter((w) => visible(p, w));
    },

    get: find,

    async update(id: string, patch: Partial<WebhookInput> & { enabled?: boolean }, p: Principal): Promise<WebhookRecord> {
      await find(id, p);
      const updated = await repo.update(id, {
        ...(patch.url !== undefined ? { url: await deps.checkUrl(patch.url) } : {}),
        ...(patch.events !== undefined ? { events: events(patch.events) } : {}),
        ...(patch.folder !== undefined ? { folderPath: folderFor(p, patch.folder) } : {}),
        ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
      });
      if (!updated) throw notFound(`Webhook not found: ${id}`);
      return updated;
    },

    async remove(id: string, p: Principal): Promise<WebhookRecord> {
      const w = await find(id, p);
      if (!(await repo.remove(id))) throw notFound(`Webhook not found: ${id}`);
      return w;
    },

    /** The delivery log, newest attempt first, a page at a time. */
    async deliveries(id: string, p: Principal, q: { limit: number; cursor?: string }): Promise<{ items: AttemptRecord[]; nextCursor: string | null }> {
      await find(id, p);
      const before = q.cursor ? decodeCursor(q.cursor, cursorSchema).id : undefined;
      const items = await repo.attempts(id, { limit: q.limit + 1, ...(before !== undefined ? { before } : {}) });
      const page = items.slice(0, q.limit);
      const last = page.at(-1);
      return { items: page, nextCursor: items.length > q.limit && last ? encodeCursor({ id: last.id }) : null };
    },
  };
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;
