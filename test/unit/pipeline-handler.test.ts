/**
 * The worker's one retry-or-give-up decision (jobs/pipeline.ts): a permanent failure is never
 * retried and is recorded with its own code; a transient one goes back to the queue until the
 * last attempt; a payload that fails its schema reaches no service.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { JobFailure } from '../../src/domain/errors.ts';
import { createPipelineHandler, type PipelineServices } from '../../src/jobs/pipeline.ts';
import { PermanentJobError, type QueueJob } from '../../src/queue/types.ts';

interface Recorded {
  runs: string[];
  failedJobs: { jobId: string; code: string }[];
  failedBatches: { jobId: string; batchNo: number; code: string }[];
  outcomes: string[];
}

function harness(classifyBatch: () => Promise<void>) {
  const rec: Recorded = { runs: [], failedJobs: [], failedBatches: [], outcomes: [] };
  const services = {
    scan: { run: async (jobId: string) => void rec.runs.push(`scan:${jobId}`) },
    extraction: { runBatch: async () => void rec.runs.push('extract') },
    classificationPlan: {
      run: async (p: { jobId: string }) => {
        rec.runs.push(`plan:${p.jobId}`);
        throw new JobFailure('provider_not_configured', 'no provider on this worker');
      },
    },
    classificationBatch: {
      runBatch: async () => {
        rec.runs.push('classify');
        await classifyBatch();
      },
    },
    recovery: {
      fail: async (jobId: string, code: string) => void rec.failedJobs.push({ jobId, code }),
      failBatch: async (b: { jobId: string; batchNo: number }, code: string) => void rec.failedBatches.push({ jobId: b.jobId, batchNo: b.batchNo, code }),
      reconcileStale: async () => [],
      requestIdOf: async () => null,
    },
    cpuBound: { jobStarted() {}, jobEnded() {} },
    log: pino({ level: 'silent' }),
    metrics: { jobFinished: (_kind: string, _s: number, outcome: string) => void rec.outcomes.push(outcome) },
  } as unknown as PipelineServices;
  return { handle: createPipelineHandler(services), rec };
}

function queueJob(name: string, payload: unknown, attempt = 1, maxAttempts = 5): QueueJob {
  return { id: `${name}.1`, name, payload, attempt, maxAttempts, signal: new AbortController().signal };
}

const batch = { jobId: 'j1', batchNo: 3, documentIds: ['d1', 'd2'] };

describe('pipeline handler: retry or give up', () => {
  it('gives up at once on a permanent failure and records it with its own code', async () => {
    const { handle, rec } = harness(async () => {
      throw new JobFailure('taxonomy_gone', 'Taxonomy t v1 is gone');
    });
    await assert.rejects(handle(queueJob('classify', batch, 1, 5)), PermanentJobError);
    assert.deepEqual(rec.failedBatches, [{ jobId: 'j1', batchNo: 3, code: 'taxonomy_gone' }]);
    assert.deepEqual(rec.outcomes, ['failed']);
  });

  it('fails a plan without a provider on its first attempt, with provider_not_configured', async () => {
    const { handle, rec } = harness(async () => undefined);
    await assert.rejects(handle(queueJob('classify-plan', { jobId: 'j2' }, 1, 5)), PermanentJobError);
    assert.deepEqual(rec.failedJobs, [{ jobId: 'j2', code: 'provider_not_configured' }]);
  });

  it('returns a transient failure to the queue untouched until the last attempt', async () => {
    const transient = new Error('connection reset');
    const { handle, rec } = harness(async () => {
      throw transient;
    });
    await assert.rejects(handle(queueJob('classify', batch, 2, 5)), (err) => err === transient);
    assert.deepEqual(rec.failedBatches, []);
    assert.deepEqual(rec.outcomes, ['retrying']);

    await assert.rejects(handle(queueJob('classify', batch, 5, 5)), (err) => err === transient);
    assert.deepEqual(rec.failedBatches, [{ jobId: 'j1', batchNo: 3, code: 'internal' }]);
    assert.deepEqual(rec.outcomes, ['retrying', 'failed']);
  });

  it('refuses a payload that fails its schema before any service runs', async () => {
    const { handle, rec } = harness(async () => undefined);
    await assert.rejects(handle(queueJob('extract', { jobId: 'j1', batchNo: -1, documentIds: 'd1' })), PermanentJobError);
    await assert.rejects(handle(queueJob('scan', { jobId: 'j1', text: 'document text does not belong here' })), PermanentJobError);
    await assert.rejects(handle(queueJob('no-such-job', { jobId: 'j1' })), PermanentJobError);
    assert.deepEqual(rec.runs, []);
  });

  it('runs a valid payload through its one service', async () => {
    const { handle, rec } = harness(async () => undefined);
    await handle(queueJob('scan', { jobId: 'j9' }));
    await handle(queueJob('classify', batch));
    assert.deepEqual(rec.runs, ['scan:j9', 'classify']);
    assert.deepEqual(rec.outcomes, ['completed', 'completed']);
  });
});
