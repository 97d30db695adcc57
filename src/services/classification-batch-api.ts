/**
 * A classification batch through the provider's Batch API: its documents' requests go up as one
 * JSONL file and one batch (recorded in llm_batches, so polling survives a restart), and each
 * later look is a delayed queue job. When the batch has ended (completed, expired, cancelled or
 * failed), its answers are handed back by document; the batch service runs them through the same
 * normalisation, validation and storage as direct answers, and sends whatever is missing directly.
 */
import { type BatchApi, type BatchRequestLine, type BatchResults, type BatchState, type ClassifyInput, type CompletionResponse, ProviderError } from '../classify/index.ts';
import type { Enqueue, JobPayloads } from '../domain/work.ts';
import type { LlmBatchesRepository } from '../store/llm-batches.repository.ts';

export interface BatchApiDeps {
  api: BatchApi;
  batches: LlmBatchesRepository;
  enqueue: Enqueue;
  /** Delay between looks at a running batch, ms. */
  pollMs: number;
}

/** What the batch service does next with a job batch in Batch API mode. */
export type BatchApiStep =
  /** Submitted or still running: a later poll comes back; nothing more now. */
  | { kind: 'waiting' }
  /** Ended: the answers it has, by document id; every other document goes directly. */
  | { kind: 'ended'; answers: Map<string, CompletionResponse>; status: string };

export interface BatchDocument {
  id: string;
  input: ClassifyInput;
}

/**
 * One step of a job batch in Batch API mode. `requestOf`: the document's one request, undefined
 * when it cannot go in a batch (split into parts, or not classifiable: the direct path says why).
 */
export async function batchApiStep(
  deps: BatchApiDeps,
  payload: JobPayloads['classify'],
  docs: readonly BatchDocument[],
  requestOf: (input: ClassifyInput) => BatchRequestLine['request'] | undefined,
  jobActive: () => Promise<boolean>,
  lastAttempt: boolean,
): Promise<BatchApiStep> {
  const { jobId, batchNo } = payload;
  const row = await deps.batches.find(jobId, batchNo);
  if (!row) {
    const lines: BatchRequestLine[] = [];
    for (const d of docs) {
      let request: BatchRequestLine['request'] | undefined;
      try {
        request = requestOf(d.input);
      } catch {
        request = undefined; // the direct path fails it with its code
      }
      if (request) lines.push({ customId: d.id, request });
    }
    if (lines.length === 0) return { kind: 'ended', answers: new Map(), status: 'empty' };
    let submitted: { id: string; inputFileId: string };
    try {
      submitted = await deps.api.submit(lines);
    } catch (err) {
      // A server without the Batch API, or a file it refuses: every document goes directly. A
      // transient failure tries again with the queue's backoff, and directly on the last attempt.
      if (isTransient(err) && !lastAttempt) throw err;
      return { kind: 'ended', answers: new Map(), status: 'not_submitted' };
    }
    const inserted = await deps.batches.insert({
      jobId,
      batchNo,
      providerBatchId: submitted.id,
      inputFileId: submitted.inputFileId,
      status: 'validating',
      documentIds: lines.map((l) => l.customId),
    });
    if (!inserted) {
      // Another run of this batch submitted first: ours is not needed.
      await deps.api.cancel(submitted.id).catch(() => undefined);
    }
    await schedulePoll(deps, payload, 0);
    return { kind: 'waiting' };
  }

  if (payload.poll === undefined) {
    // The batch's first run again (the plan enqueued it once more: a second last look, or a rescue
    // of lost queue jobs). Its provider batch has a chain of looks already: arm that chain's current
    // look under its queue id (a no-op while it is queued or running, its restart when the queue
    // lost it) instead of starting a second chain, which would send what the batch left unanswered
    // directly twice. The current look is the next one, or the last one once the batch has ended.
    await schedulePoll(deps, payload, Math.max(0, row.ended ? row.polls - 1 : row.polls));
    return { kind: 'waiting' };
  }
  if (!row.ended && !(await jobActive())) {
    const state = await deps.api.cancel(row.providerBatchId);
    await deps.batches.polled(jobId, batchNo, state.status, true);
    return { kind: 'waiting' };
  }
  let state: BatchState;
  try {
    state = await deps.api.retrieve(row.providerBatchId);
  } catch (err) {
    // A provider briefly away must not fail a batch that may run for hours: look again later.
    if (isTransient(err)) {
      await schedulePoll(deps, payload, row.polls + 1);
      return { kind: 'waiting' };
    }
    // The provider no longer knows the batch: nothing will come of it.
    await deps.batches.polled(jobId, batchNo, 'unknown', true);
    return { kind: 'ended', answers: new Map(), status: 'unknown' };
  }
  await deps.batches.polled(jobId, batchNo, state.status, state.ended);
  if (!state.ended) {
    await schedulePoll(deps, payload, row.polls + 1);
    return { kind: 'waiting' };
  }
  let results: BatchResults;
  try {
    results = await deps.api.results(state);
  } catch (err) {
    if (isTransient(err) && !lastAttempt) throw err;
    results = new Map();
  }
  const answers = new Map<string, CompletionResponse>();
  for (const [id, r] of results) if (!(r instanceof ProviderError)) answers.set(id, r);
  return { kind: 'ended', answers, status: state.status };
}

/** Cancel the job's batches still running at the provider (the job was cancelled). */
export async function cancelBatchApiBatches(deps: Pick<BatchApiDeps, 'api' | 'batches'>, jobId: string): Promise<void> {
  for (const row of await deps.batches.openFor(jobId)) {
    const state = await deps.api.cancel(row.providerBatchId);
    await deps.batches.polled(jobId, row.batchNo, state.status, true);
  }
}

/** The next look, a delayed queue job of its own (deterministic per look, so two chains merge). */
async function schedulePoll(deps: BatchApiDeps, payload: JobPayloads['classify'], polls: number): Promise<void> {
  await deps.enqueue('classify', { jobId: payload.jobId, batchNo: payload.batchNo, documentIds: payload.documentIds, poll: polls + 1 }, { delayMs: deps.pollMs });
}

function isTransient(err: unknown): boolean {
  return !(err instanceof ProviderError) || err.retryable;
}
