/**
 * The webhook deliverer, a background loop in every worker process. Each round it
 *  1. turns job endings (written by a trigger in the transaction that ended the job: the outbox)
 *     into events: job.completed / job.failed for every job, documents.changed for a scan that
 *     found changes, classification.needs_review for a classification that left documents to
 *     review; each event is owed to the enabled webhooks that take it, in one transaction with
 *     the removal of the endings it came from;
 *  2. claims due deliveries (skip locked, leased: one deliverer per event at a time), signs and
 *     posts each, and settles it: delivered, retried later (exponential backoff with jitter), or
 *     given up once the retry window has passed (which may disable the webhook).
 */
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebhookEvent } from '../domain/vocabulary.ts';
import type { ClassificationsRepository } from '../store/classifications.repository.ts';
import type { JobRow, JobsRepository } from '../store/jobs.repository.ts';
import type { UnitOfWork } from '../store/unit-of-work.ts';
import type { AttemptOutcome, DueDelivery, NewEvent, WebhooksRepository } from '../store/webhooks.repository.ts';
import type { SecretBox } from './secrets.ts';
import type { SendResult } from './webhook-sender.ts';

export interface DeliverySettings {
  timeoutMs: number;
  retryForMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  disableAfter: number;
  pollMs: number;
  /** The review threshold classification used (REVIEW_CONFIDENCE_THRESHOLD), said in needs_review events. */
  reviewThreshold: number;
}

export interface WebhookDelivererDeps {
  webhooks: WebhooksRepository;
  jobs: Pick<JobsRepository, 'findById'>;
  classifications: Pick<ClassificationsRepository, 'needingReview'>;
  unitOfWork: UnitOfWork;
  secrets: SecretBox;
  /** Post one signed body (webhook-sender.ts: postOnce with the process's options). */
  post(url: string, body: string, headers: Record<string, string>): Promise<SendResult>;
  settings: DeliverySettings;
  userAgent: string;
  log: Logger;
}

/** Deliveries attempted at once by one process. */
const PARALLEL = 8;
/** Documents a needs_review event names (the count is always whole). */
const REVIEW_SAMPLE = 100;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (docs/webhooks.md shows how to check it). */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** Wait before attempt `attempt + 1`: doubling from the base, capped, with "equal jitter" (half fixed, half random). */
export function backoffMs(attempt: number, s: Pick<DeliverySettings, 'backoffBaseMs' | 'backoffMaxMs'>, random = Math.random): number {
  const ceiling = Math.min(s.backoffMaxMs, s.backoffBaseMs * 2 ** Math.min(attempt - 1, 40));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

function jobData(job: JobRow) {
  return {
    jobId: job.id,
    kind: job.kind,
    status: job.status,
    folder: job.folderPath,
    parentId: job.parentId,
    progress: { total: job.total, done: job.done, failed: job.failed, skipped: job.skipped },
    error: job.errorCode ? { code: job.errorCode, message: job.errorMessage ?? '' } : null,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}

const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function createWebhookDeliverer(deps: WebhookDelivererDeps) {
  const { webhooks, settings, log } = deps;

  /** The events one ended job makes. A cancelled job is a job.failed with status `cancelled`. */
  async function eventsFor(job: JobRow): Promise<NewEvent[]> {
    const folder = job.folderPath;
    const out: NewEvent[] = [{ type: job.status === 'completed' ? 'job.completed' : 'job.failed', folderPath: folder, data: jobData(job) }];
    if (job.status !== 'completed') return out;
    if (job.kind === 'scan') {
      // What the scan's walk counted (scan.service.ts); `moved` joins when scans recognise moves.
      const found = (job.stats.documents ?? {}) as Record<string, unknown>;
      const counts = { added: count(found.added), changed: count(found.changed), deleted: count(found.deleted), ...('moved' in found ? { moved: count(found.moved) } : {}) };
      if (Object.values(counts).some((n) => n > 0)) out.push({ type: 'documents.changed', folderPath: folder, data: { jobId: job.id, folder, ...counts } });
    } else if (job.kind === 'classify') {
      const review = await deps.classifications.needingReview(job.id, REVIEW_SAMPLE);
      if (review.count > 0) {
        out.push({
          type: 'classification.needs_review',
          folderPath: folder,
          data: { jobId: job.id, folder, count: review.count, threshold: settings.reviewThreshold, documents: review.documents },
        });
      }
    }
    return out;
  }

  /** Step 1: job endings to events, in one transaction with their removal from the outbox. */
  async function publishEndings(): Promise<number> {
    return deps.unitOfWork.run(async (tx) => {
      const endings = await webhooks.claimJobEndings(tx, 100);
      for (const ending of endings) {
        const job = await deps.jobs.findById(ending.jobId);
        // Gone already (job retention): nothing left to say about it.
        if (!job) continue;
        for (const e of await eventsFor({ ...job, status: ending.status })) await webhooks.emit(tx, e);
      }
      await webhooks.deleteJobEndings(tx, endings.map((e) => e.id));
      return endings.length;
    });
  }

  async function attempt(d: DueDelivery): Promise<void> {
    const body = JSON.stringify({ id: d.eventId, type: d.type satisfies WebhookEvent, createdAt: d.eventCreatedAt.toISOString(), data: d.data });
    let result: SendResult;
    try {
      const secret = deps.secrets.open(d.sealedSecret);
      result = await deps.post(d.url, body, {
        'content-type': 'application/json',
        'user-agent': deps.userAgent,
        'docsight-signature': signatureHeader(secret, body, Math.floor(Date.now() / 1000)),
        'docsight-event-id': d.eventId,
        'docsight-event-type': d.type,
        'docsight-delivery-attempt': String(d.attempt),
      });
    } catch (err) {
      result = { statusCode: null, error: err instanceof Error ? err.message : String(err), durationMs: 0 };
    }
    let outcome: AttemptOutcome;
    if (result.error === null) outcome = { kind: 'delivered' };
    else {
      const retryAt = new Date(Date.now() + backoffMs(d.attempt, settings));
      outcome = retryAt.getTime() - d.deliveryCreatedAt.getTime() > settings.retryForMs ? { kind: 'failed' } : { kind: 'retry', retryAt };
    }
    await webhooks.recordAttempt(d, result, outcome, settings.disableAfter);
    if (outcome.kind !== 'delivered') {
      log.warn({ webhookId: d.webhookId, eventId: d.eventId, attempt: d.attempt, error: result.error, outcome: outcome.kind }, 'webhook delivery failed');
    }
  }

  /** Step 2: one batch of due deliveries, in parallel. */
  async function deliverDue(): Promise<number> {
    // The lease outlasts the attempt's timeout, so no other deliverer takes the event meanwhile.
    const due = await webhooks.claimDue(PARALLEL, settings.timeoutMs + 30_000);
    await Promise.all(due.map(attempt));
    return due.length;
  }

  /** One round of both steps; the number of endings and deliveries it handled. */
  async function runOnce(): Promise<number> {
    return (await publishEndings()) + (await deliverDue());
  }

  return {
    runOnce,

    /** Run rounds until closed: at once again while there is work, every `pollMs` otherwise. */
    start(): { close(): Promise<void> } {
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      let wake: (() => void) | undefined;
      const loop = (async () => {
        while (!stopped) {
          let handled = 0;
          try {
            handled = await runOnce();
          } catch (err) {
            log.warn({ err: String(err) }, 'webhook delivery round failed; trying again later');
          }
          if (handled > 0 || stopped) continue;
          await new Promise<void>((resolve) => {
            wake = resolve;
            timer = setTimeout(resolve, settings.pollMs);
          });
        }
      })();
      return {
        async close() {
          stopped = true;
          clearTimeout(timer);
          wake?.();
          await loop;
        },
      };
    },
  };
}

export type WebhookDeliverer = ReturnType<typeof createWebhookDeliverer>;
