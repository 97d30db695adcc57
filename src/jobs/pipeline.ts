/**
 * The worker's queue handler: each job name maps to one service call (a Record over the job
 * names, so a job without a handler does not compile). The payload is validated against its
 * schema first, and the one decision of retry-or-give-up for a failed run is taken here, from
 * the error's code.
 */
import type { Logger } from 'pino';
import { JobFailure } from '../domain/errors.ts';
import type { JobErrorCode } from '../domain/vocabulary.ts';
import { isJobName, JOB_PAYLOAD_SCHEMAS, type JobName, type JobPayloads } from '../domain/work.ts';
import type { QueueJob } from '../queue/types.ts';
import { PermanentJobError } from '../queue/types.ts';
import type { ClassificationBatchService } from '../services/classification-batch.service.ts';
import type { ClassificationPlanService } from '../services/classification-plan.service.ts';
import type { ExtractionService } from '../services/extraction.service.ts';
import type { JobRecoveryService } from '../services/job-recovery.service.ts';
import type { OcrService } from '../services/ocr.service.ts';
import type { ScanService } from '../services/scan.service.ts';
import type { CpuBoundWatcher } from '../services/cpu-bound-jobs.ts';

export interface PipelineMetrics {
  /** One run of a queue job ended: `retrying` when it failed and the queue will run it again. */
  jobFinished(kind: JobName, seconds: number, outcome: 'completed' | 'retrying' | 'failed'): void;
}

export interface PipelineServices {
  scan: ScanService;
  extraction: ExtractionService;
  classificationPlan: ClassificationPlanService;
  classificationBatch: ClassificationBatchService;
  recovery: JobRecoveryService;
  /** Absent on a worker that runs no OCR queue. */
  ocr?: OcrService;
  /**
   * Told when a CPU-bound job starts and ends in this process: the search indexer and the OCR
   * stage give the CPU to them (services/cpu-bound-jobs.ts).
   */
  cpuBound: CpuBoundWatcher;
  log: Logger;
  metrics?: PipelineMetrics;
}

type Run<N extends JobName> = (s: PipelineServices, payload: JobPayloads[N], job: QueueJob, log: Logger) => Promise<void>;

const handlers: { [N in JobName]: Run<N> } = {
  scan: (s, p, job, log) => s.scan.run(p.jobId, job.signal, log),
  extract: (s, p, _job, log) => s.extraction.runBatch(p, log),
  'classify-plan': (s, p) => s.classificationPlan.run(p),
  classify: (s, p, job) => s.classificationBatch.runBatch(p, { attempt: job.attempt, maxAttempts: job.maxAttempts, signal: job.signal }),
  ocr: async (s, p, job, log) => {
    if (!s.ocr) throw new PermanentJobError('This worker runs no OCR');
    await s.ocr.run(p, job.signal, log);
  },
};

type GiveUp<N extends JobName> = (s: PipelineServices, payload: JobPayloads[N], code: JobErrorCode | undefined, message: string) => Promise<void>;

/** What to record when a job will not run again, so its folder job still ends. */
const onGiveUp: { [N in JobName]: GiveUp<N> } = {
  scan: (s, p, code, message) => s.recovery.fail(p.jobId, code ?? 'scan_failed', message),
  extract: (s, p, code, message) => s.recovery.failBatch(p, code ?? 'internal', message),
  'classify-plan': (s, p, code, message) => s.recovery.fail(p.jobId, code ?? 'classify_failed', message),
  classify: (s, p, code, message) => s.recovery.failBatch(p, code ?? 'internal', message),
  ocr: (s, p, _code, message) => s.recovery.failOcr(p.jobId, p.documentId, 'ocr_failed', message),
};

/**
 * Jobs that keep this process's CPU busy: the search indexer and the OCR stage wait for them to
 * end. OCR is not one of them: it runs for minutes, and born-digital text must not wait that long
 * to be searchable.
 */
const CPU_BOUND: ReadonlySet<string> = new Set<JobName>(['scan', 'extract']);

/** A failure another attempt cannot cure: the queue must not run the job again. */
function isPermanent(err: unknown): boolean {
  return err instanceof PermanentJobError || (err instanceof JobFailure && err.permanent);
}

export function createPipelineHandler(services: PipelineServices): (job: QueueJob) => Promise<void> {
  const { cpuBound } = services;

  const run = async (job: QueueJob): Promise<void> => {
    if (!isJobName(job.name)) throw new PermanentJobError(`No handler for job "${job.name}"`);
    const name = job.name;
    const parsed = JOB_PAYLOAD_SCHEMAS[name].safeParse(job.payload);
    if (!parsed.success) {
      services.log.error({ queueJob: job.id, name, issues: parsed.error.issues }, 'invalid job payload: dropped');
      services.metrics?.jobFinished(name, 0, 'failed');
      throw new PermanentJobError(`Invalid payload for job "${name}": ${parsed.error.message}`);
    }
    const payload = parsed.data;
    const requestId = await services.recovery.requestIdOf(payload.jobId);
    const log = services.log.child({ jobId: payload.jobId, requestId, queueJob: job.id });
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      await (handlers[name] as Run<JobName>)(services, payload, job, log);
      services.metrics?.jobFinished(name, seconds(), 'completed');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const permanent = isPermanent(err);
      const last = permanent || job.attempt >= job.maxAttempts;
      services.metrics?.jobFinished(name, seconds(), last ? 'failed' : 'retrying');
      log.warn({ name, attempt: job.attempt, last, err: message }, 'job run failed');
      if (last && !job.signal.aborted) {
        const code = err instanceof JobFailure ? err.code : undefined;
        await (onGiveUp[name] as GiveUp<JobName>)(services, payload, code, message).catch((e: unknown) =>
          log.error({ err: String(e) }, 'could not record the failure of a job'),
        );
      }
      throw permanent && !(err instanceof PermanentJobError) ? new PermanentJobError(message, { cause: err }) : err;
    }
  };

  return async (job: QueueJob): Promise<void> => {
    if (!CPU_BOUND.has(job.name)) return run(job);
    cpuBound.jobStarted();
    try {
      await run(job);
    } finally {
      cpuBound.jobEnded();
    }
  };
}
