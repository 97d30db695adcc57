/**
 * Prometheus metrics for one process (API, worker or both): one prom-client registry, counters the
 * API, the pipeline and the LLM client feed, and gauges read at scrape time (queue depth, rate-limit
 * waits) so a scrape never shows a stale value. Labels are closed sets (route patterns, job kinds,
 * failure codes, models): never raw URLs, paths or ids, which would explode the series count.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { JobName } from '../domain/work.ts';
import type { ClassifyService } from '../services/classification-batch.service.ts';
import type { BatchCounts } from '../services/extraction.service.ts';
import type { QueueCounts } from '../queue/types.ts';

export interface MetricsSources {
  /** Queue depth by state, asked at each scrape. */
  queueCounts?: () => Promise<QueueCounts>;
  /** Total ms spent waiting for the shared LLM rate limit (a counter kept by the limiter). */
  rateLimitWaitedMs?: () => number;
}

export interface Metrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** Prometheus text exposition of every metric. */
  render(): Promise<string>;
  /** One HTTP request; `route` is the route's URL pattern (`/v1/jobs/:id`), never the raw URL. */
  observeHttp(method: string, route: string, status: number, seconds: number): void;
  /** Where the queue depth and rate-limit waits come from (set once the queue exists). */
  setSources(sources: MetricsSources): void;
  /** Wraps the LLM client's fetch: provider HTTP requests by status, SDK retries, 429s. */
  instrumentLlmFetch(base: typeof globalThis.fetch): typeof globalThis.fetch;
  /** Counts documents classified or failed, tokens and estimated cost, around the classify service. */
  instrumentClassifier(service: ClassifyService): ClassifyService;
  /** One extraction batch this process completed. */
  documentsProcessed(counts: BatchCounts): void;
  /** One run of a queue job ended: `retrying` when it failed and the queue will run it again. */
  jobFinished(kind: JobName, seconds: number, outcome: 'completed' | 'retrying' | 'failed'): void;
}

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const JOB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  // Process CPU, memory, event-loop lag and GC: the first things to look at when a worker is slow.
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let sources: MetricsSources = {};

  const httpRequests = new Counter({
    name: 'docsight_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'docsight_http_request_duration_seconds',
    help: 'HTTP request latency, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers,
  });
  new Gauge({
    name: 'docsight_queue_jobs',
    help: 'Queue jobs by state (waiting, active, delayed, failed), read at scrape time',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      if (!sources.queueCounts) return;
      try {
        const counts = await sources.queueCounts();
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      } catch {
        // The queue is down: no value beats a stale one (/ready reports the outage).
        this.reset();
      }
    },
  });
  const jobDuration = new Histogram({
    name: 'docsight_job_duration_seconds',
    help: 'Time one queue job run took, by job kind and outcome (completed, retrying, failed)',
    labelNames: ['kind', 'outcome'] as const,
    buckets: JOB_BUCKETS,
    registers,
  });
  const extracted = new Counter({ name: 'docsight_documents_extracted_total', help: 'Documents extracted', registers });
  const skipped = new Counter({
    name: 'docsight_documents_skipped_total',
    help: 'Documents skipped by extraction (unchanged since the last scan, or gone)',
    registers,
  });
  const failed = new Counter({
    name: 'docsight_document_failures_total',
    help: 'Documents that failed, by stage (extract, classify) and reason code',
    labelNames: ['stage', 'reason'] as const,
    registers,
  });
  const classified = new Counter({
    name: 'docsight_documents_classified_total',
    help: 'Documents classified, by model',
    labelNames: ['model'] as const,
    registers,
  });
  const llmTokens = new Counter({
    name: 'docsight_llm_tokens_total',
    help: 'LLM tokens used by classified documents, by model and direction (input, output)',
    labelNames: ['model', 'direction'] as const,
    registers,
  });
  const llmCost = new Counter({
    name: 'docsight_llm_cost_usd_total',
    help: 'Estimated LLM cost in USD of classified documents, by model (from the price table)',
    labelNames: ['model'] as const,
    registers,
  });
  const llmRequests = new Counter({
    name: 'docsight_llm_requests_total',
    help: 'HTTP requests sent to the LLM provider (retries included), by status ("error": no response)',
    labelNames: ['status'] as const,
    registers,
  });
  const llmRetries = new Counter({ name: 'docsight_llm_retries_total', help: 'LLM requests that were SDK-level retries', registers });
  const llmRateLimited = new Counter({ name: 'docsight_llm_rate_limited_total', help: 'LLM provider answers 429 (rate limited)', registers });
  let waitedSeen = 0;
  new Counter({
    name: 'docsight_llm_rate_limit_wait_seconds_total',
    help: 'Time spent waiting for the shared LLM rate limit (requests and tokens per minute)',
    registers,
    collect() {
      const now = sources.rateLimitWaitedMs?.() ?? 0;
      // The limiter keeps a running total; the counter takes what was added since the last scrape.
      if (now > waitedSeen) this.inc((now - waitedSeen) / 1000);
      waitedSeen = Math.max(waitedSeen, now);
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    observeHttp(method, route, status, seconds) {
      const labels = { method, route, status: String(status) };
      httpRequests.inc(labels);
      httpDuration.observe(labels, seconds);
    },
    setSources(next) {
      sources = { ...sources, ...next };
    },
    documentsProcessed({ done, failures, skipped: skippedCount }) {
      if (done > 0) extracted.inc(done);
      if (skippedCount > 0) skipped.inc(skippedCount);
      for (const f of failures) failed.inc({ stage: 'extract', reason: f.code });
    },
    jobFinished(kind, seconds, outcome) {
      jobDuration.observe({ kind, outcome }, seconds);
    },
    instrumentLlmFetch(base) {
      return async (input, init) => {
        const retry = Number(new Headers(init?.headers).get('x-stainless-retry-count') ?? '0');
        if (retry > 0) llmRetries.inc();
        try {
          const response = await base(input, init);
          llmRequests.inc({ status: String(response.status) });
          if (response.status === 429) llmRateLimited.inc();
          return response;
        } catch (err) {
          llmRequests.inc({ status: 'error' });
          throw err;
        }
      };
    },
    instrumentClassifier(service) {
      const workersModel = service.model;
      return {
        get model() {
          return service.model;
        },
        get promptVersion() {
          return service.promptVersion;
        },
        get providerName() {
          return service.providerName;
        },
        estimateCostUsd: (input, opts) => service.estimateCostUsd(input, opts),
        batchRequest: (input) => service.batchRequest(input),
        async classify(input, signal, answer) {
          const outcome = await service.classify(input, signal, answer);
          if (outcome.ok) {
            // An evaluation may ask another model of the provider: its spend is booked under its name.
            const model = input.model ?? workersModel;
            classified.inc({ model });
            llmTokens.inc({ model, direction: 'input' }, outcome.result.inputTokens);
            llmTokens.inc({ model, direction: 'output' }, outcome.result.outputTokens);
            llmCost.inc({ model }, outcome.result.costUsd);
          } else {
            // Transient failures are retried with the batch; they still show here, with their code.
            failed.inc({ stage: 'classify', reason: outcome.code });
          }
          return outcome;
        },
      };
    },
  };
}
