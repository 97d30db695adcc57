/**
 * Webhooks, their outbox and delivery log. Deliveries are claimed with `for update skip locked`
 * and a lease, so however many workers run, one of them delivers a given event at a time.
 */
import { type Transaction, sql } from 'kysely';
import type { WebhookDeliveryStatus, WebhookEvent } from '../domain/vocabulary.ts';
import type { Db } from './database.ts';
import type { Database, JobStatus } from './schema.ts';

export interface WebhookRecord {
  id: string;
  url: string;
  events: WebhookEvent[];
  /** null: every folder. */
  folderPath: string | null;
  enabled: boolean;
  consecutiveFailures: number;
  disabledAt: Date | null;
  disabledReason: string | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewWebhook {
  url: string;
  events: WebhookEvent[];
  folderPath: string | null;
  /** Sealed (services/secrets.ts): the repository never sees the secret itself. */
  sealedSecret: string;
  createdBy: string | null;
}

export interface WebhookPatch {
  url?: string;
  events?: WebhookEvent[];
  folderPath?: string | null;
  /** true also clears the failure count and the reason it was disabled. */
  enabled?: boolean;
}

/** One attempt of the delivery log. */
export interface AttemptRecord {
  id: string;
  deliveryId: string;
  eventId: string;
  event: WebhookEvent;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: Date;
  /** Where the delivery stands now (after this and any later attempt). */
  deliveryStatus: WebhookDeliveryStatus;
}

/** A delivery claimed for one attempt. */
export interface DueDelivery {
  deliveryId: string;
  /** This attempt's number (1 for the first). */
  attempt: number;
  deliveryCreatedAt: Date;
  webhookId: string;
  url: string;
  sealedSecret: string;
  eventId: string;
  type: WebhookEvent;
  data: Record<string, unknown>;
  eventCreatedAt: Date;
}

export interface NewEvent {
  type: WebhookEvent;
  folderPath: string | null;
  data: Record<string, unknown>;
}

/** How an attempt ends its delivery: delivered, tried again at `retryAt`, or given up. */
export type AttemptOutcome = { kind: 'delivered' } | { kind: 'retry'; retryAt: Date } | { kind: 'failed' };

const cols = [
  'id',
  'url',
  'events',
  'folder_path',
  'enabled',
  'consecutive_failures',
  'disabled_at',
  'disabled_reason',
  'created_by',
  'created_at',
  'updated_at',
] as const;

type Raw = {
  id: string;
  url: string;
  events: WebhookEvent[];
  folder_path: string | null;
  enabled: boolean;
  consecutive_failures: number;
  disabled_at: Date | null;
  disabled_reason: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
};

const toWebhook = (r: Raw): WebhookRecord => ({
  id: r.id,
  url: r.url,
  events: r.events,
  folderPath: r.folder_path,
  enabled: r.enabled,
  consecutiveFailures: r.consecutive_failures,
  disabledAt: r.disabled_at,
  disabledReason: r.disabled_reason,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Webhooks that take an event of `type` under `folder`: theirs is the folder itself or one above it. */
const matching = (type: WebhookEvent, folder: string | null) =>
  sql<boolean>`w.enabled and ${type} = any(w.events) and (w.folder_path is null or (${folder}::text is not null and (
    ${folder} = w.folder_path or w.folder_path = '' or (${folder} >= w.folder_path || '/' and ${folder} < w.folder_path || '0'))))`;

export function createWebhooksRepository(db: Db) {
  return {
    async create(w: NewWebhook): Promise<WebhookRecord> {
      const r = await db
        .insertInto('webhooks')
        .values({ url: w.url, events: w.events, folder_path: w.folderPath, secret: w.sealedSecret, created_by: w.createdBy })
        .returning(cols)
        .executeTakeFirstOrThrow();
      return toWebhook(r as Raw);
    },

    async list(): Promise<WebhookRecord[]> {
      const rows = await db.selectFrom('webhooks').select(cols).orderBy('created_at', 'desc').orderBy('id').execute();
      return rows.map((r) => toWebhook(r as Raw));
    },

    async findById(id: string): Promise<WebhookRecord | undefined> {
      const r = await db.selectFrom('webhooks').select(cols).where('id', '=', id).executeTakeFirst();
      return r ? toWebhook(r as Raw) : undefined;
    },

    async update(id: string, patch: WebhookPatch): Promise<WebhookRecord | undefined> {
      const r = await db
        .updateTable('webhooks')
        .set({
          ...(patch.url !== undefined ? { url: patch.url } : {}),
          ...(patch.events !== undefined ? { events: patch.events } : {}),
          ...(patch.folderPath !== undefined ? { folder_path: patch.folderPath } : {}),
          ...(patch.enabled === true ? { enabled: true, consecutive_failures: 0, disabled_at: null, disabled_reason: null } : {}),
          ...(patch.enabled === false ? { enabled: false, disabled_at: sql`coalesce(disabled_at, now())`, disabled_reason: 'Disabled on request' } : {}),
          updated_at: sql`now()`,
        })
        .where('id', '=', id)
        .returning(cols)
        .executeTakeFirst();
      return r ? toWebhook(r as Raw) : undefined;
    },

    async remove(id: string): Promise<boolean> {
      const r = await db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    /** The delivery log of one webhook, newest first; `before` is the id of the last row of the previous page. */
    async attempts(webhookId: string, q: { limit: number; before?: string }): Promise<AttemptRecord[]> {
      let query = db
        .selectFrom('webhook_attempts as a')
        .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
        .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
        .select(['a.id', 'a.delivery_id', 'd.event_id', 'e.type', 'a.attempt', 'a.status_code', 'a.error', 'a.duration_ms', 'a.created_at', 'd.status'])
        .where('a.webhook_id', '=', webhookId)
        .orderBy('a.id', 'desc')
        .limit(q.limit);
      if (q.before !== undefined) query = query.where('a.id', '<', q.before);
      const rows = await query.execute();
      return rows.map((r) => ({
        id: String(r.id),
        deliveryId: r.delivery_id,
        eventId: r.event_id,
        event: r.type,
        attempt: r.attempt,
        statusCode: r.status_code,
        error: r.error,
        durationMs: r.duration_ms,
        at: r.created_at,
        deliveryStatus: r.status,
      }));
    },

    /** Job endings not yet turned into events, locked for the caller's transaction (others skip them). */
    async claimJobEndings(trx: Transaction<Database>, limit: number): Promise<{ id: string; jobId: string; status: JobStatus }[]> {
      const rows = await trx
        .selectFrom('job_endings')
        .select(['id', 'job_id', 'status'])
        .orderBy('id')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .execute();
      return rows.map((r) => ({ id: String(r.id), jobId: r.job_id, status: r.status }));
    },

    async deleteJobEndings(trx: Transaction<Database>, ids: string[]): Promise<void> {
      if (ids.length > 0) await trx.deleteFrom('job_endings').where('id', 'in', ids).execute();
    },

    /**
     * Record an event and owe it to every enabled webhook that takes it, in the caller's
     * transaction; nothing is stored when none does. Returns the deliveries owed.
     */
    async emit(trx: Transaction<Database>, e: NewEvent): Promise<number> {
      const r = await sql<{ n: number }>`
        with e as (
          insert into webhook_events (type, folder_path, data)
          select ${e.type}, ${e.folderPath}, ${JSON.stringify(e.data)}::jsonb
          where exists (select 1 from webhooks w where ${matching(e.type, e.folderPath)})
          returning id
        ), d as (
          insert into webhook_deliveries (webhook_id, event_id)
          select w.id, e.id from e, webhooks w where ${matching(e.type, e.folderPath)}
          returning 1
        )
        select count(*)::int as n from d`.execute(trx);
      return r.rows[0]?.n ?? 0;
    },

    /**
     * Claim up to `limit` due deliveries of enabled webhooks for one attempt each: locked with
     * skip locked (a deliverer never waits for another's rows) and leased for `leaseMs`, so a
     * deliverer that dies mid-attempt releases them when the lease runs out.
     */
    async claimDue(limit: number, leaseMs: number): Promise<DueDelivery[]> {
      const r = await sql<{
        delivery_id: string;
        attempts: number;
        delivery_created_at: Date;
        webhook_id: string;
        url: string;
        secret: string;
        event_id: string;
        type: WebhookEvent;
        data: Record<string, unknown>;
        event_created_at: Date;
      }>`
        with due as (
          select d.id from webhook_deliveries d join webhooks w on w.id = d.webhook_id
          where d.status = 'pending' and d.next_attempt_at <= now() and (d.leased_until is null or d.leased_until < now()) and w.enabled
          order by d.next_attempt_at
          limit ${limit}
          for update of d skip locked
        ), claimed as (
          update webhook_deliveries d set attempts = d.attempts + 1, leased_until = now() + ${leaseMs} * interval '1 millisecond'
          from due where d.id = due.id
          returning d.id, d.attempts, d.created_at, d.webhook_id, d.event_id
        )
        select c.id as delivery_id, c.attempts, c.created_at as delivery_created_at, w.id as webhook_id, w.url, w.secret,
               e.id as event_id, e.type, e.data, e.created_at as event_created_at
        from claimed c join webhooks w on w.id = c.webhook_id join webhook_events e on e.id = c.event_id`.execute(db);
      return r.rows.map((x) => ({
        deliveryId: x.delivery_id,
        attempt: x.attempts,
        deliveryCreatedAt: x.delivery_created_at,
        webhookId: x.webhook_id,
        url: x.url,
        sealedSecret: x.secret,
        eventId: x.event_id,
        type: x.type,
        data: x.data,
        eventCreatedAt: x.event_created_at,
      }));
    },

    /**
     * Log one attempt and settle its delivery in one transaction. A delivered event resets the
     * webhook's run of failures; a given-up one extends it, and the webhook is disabled when the
     * run reaches `disableAfter`.
     */
    async recordAttempt(
      d: { deliveryId: string; webhookId: string; attempt: number },
      result: { statusCode: number | null; error: string | null; durationMs: number },
      outcome: AttemptOutcome,
      disableAfter: number,
    ): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('webhook_attempts')
          .values({
            delivery_id: d.deliveryId,
            webhook_id: d.webhookId,
            attempt: d.attempt,
            status_code: result.statusCode,
            error: result.error,
            duration_ms: Math.round(result.durationMs),
          })
          .execute();
        await trx
          .updateTable('webhook_deliveries')
          .set({
            status: outcome.kind === 'retry' ? 'pending' : outcome.kind,
            leased_until: null,
            last_status_code: result.statusCode,
            last_error: result.error,
            ...(outcome.kind === 'retry' ? { next_attempt_at: outcome.retryAt } : { finished_at: sql`now()` }),
          })
          .where('id', '=', d.deliveryId)
          .execute();
        if (outcome.kind === 'delivered') {
          await trx.updateTable('webhooks').set({ consecutive_failures: 0 }).where('id', '=', d.webhookId).where('consecutive_failures', '>', 0).execute();
        } else if (outcome.kind === 'failed') {
          await sql`
            update webhooks set consecutive_failures = consecutive_failures + 1,
              enabled = enabled and consecutive_failures + 1 < ${disableAfter},
              disabled_at = case when enabled and consecutive_failures + 1 >= ${disableAfter} then now() else disabled_at end,
              disabled_reason = case when enabled and consecutive_failures + 1 >= ${disableAfter}
                then ${`Disabled after ${disableAfter} events in a row could not be delivered`} else disabled_reason end,
              updated_at = now()
            where id = ${d.webhookId}`.execute(trx);
        }
      });
    },

    /** Drop events (with their deliveries and attempts) older than `before` that nobody still owes. */
    async deleteEventsBefore(before: Date): Promise<number> {
      const r = await db
        .deleteFrom('webhook_events')
        .where('created_at', '<', before)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('webhook_deliveries').select('id').whereRef('event_id', '=', 'webhook_events.id').where('status', '=', 'pending'))),
        )
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type WebhooksRepository = ReturnType<typeof createWebhooksRepository>;
