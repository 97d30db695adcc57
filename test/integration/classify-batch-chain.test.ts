/**
 * The chain of looks at one Batch API batch: however often the batch's first run is enqueued again
 * (a second last look of the plan, a rescue of lost queue jobs), the batch keeps one chain of looks
 * under its queue ids, so what it left unanswered is sent directly once. CI once saw an expired
 * batch's three unanswered documents sent twice: a second last look started a second chain.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { BatchApi, BatchState, CompletionResponse } from '../../src/classify/index.ts';
import { type JobPayloads, queueJobId } from '../../src/domain/work.ts';
import { type BatchApiDeps, batchApiStep } from '../../src/services/classification-batch-api.ts';
import { createJobsRepository } from '../../src/store/jobs.repository.ts';
import { createLlmBatchesRepository } from '../../src/store/llm-batches.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

describe('the looks at a Batch API batch', () => {
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase();
  });

  after(async () => {
    await db?.drop();
  });

  it('keeps one chain of looks when the first run of the batch comes again, before and after the batch ends', async () => {
    const jobs = createJobsRepository(db.db);
    const { job } = await jobs.createOrFind({ kind: 'classify', folderPath: 'f', params: {}, dedupeKey: `classify:${randomUUID()}` });
    const docs = ['a', 'b', 'c'].map((name) => ({ id: randomUUID(), input: { text: name, fileName: `${name}.txt`, taxonomy: { id: 't', version: 1, name: 't', labels: [] } } }));

    let state: BatchState = { id: 'batch-1', status: 'in_progress', ended: false };
    const calls = { submit: 0, retrieve: 0 };
    const api: BatchApi = {
      submit: async () => ({ id: `batch-${++calls.submit}`, inputFileId: 'file-1' }),
      retrieve: async () => {
        calls.retrieve++;
        return state;
      },
      results: async () => new Map<string, CompletionResponse>([[docs[0]?.id as string, { content: '{}', truncated: false, model: 'm' }]]),
      cancel: async () => ({ ...state, status: 'cancelled', ended: true }),
    };
    /** Queue ids of what the steps enqueued, in order. */
    const enqueued: string[] = [];
    const deps: BatchApiDeps = {
      api,
      batches: createLlmBatchesRepository(db.db),
      pollMs: 10,
      enqueue: async (name, payload) => {
        assert.equal(name, 'classify');
        enqueued.push(queueJobId.classify(payload as JobPayloads['classify']));
      },
    };
    const first: JobPayloads['classify'] = { jobId: job.id, batchNo: 0, documentIds: docs.map((d) => d.id) };
    const step = (payload: JobPayloads['classify']) => batchApiStep(deps, payload, docs, (input) => ({ model: 'm', messages: [{ role: 'user', content: input.text }] }) as never, async () => true, false);
    const look = (n: number) => `classify.${job.id}.0.poll${n}`;

    assert.deepEqual(await step(first), { kind: 'waiting' });
    assert.deepEqual(enqueued.splice(0), [look(1)], 'submitted, then the first look');
    assert.equal(calls.submit, 1);

    // The first run again before the first look: it arms that same look, and asks the provider nothing.
    assert.deepEqual(await step(first), { kind: 'waiting' });
    assert.deepEqual(enqueued.splice(0), [look(1)]);
    assert.deepEqual(calls, { submit: 1, retrieve: 0 });

    // Look 1: still running, so look 2 comes; the first run again arms look 2, not a look 3 of its own.
    assert.deepEqual(await step({ ...first, poll: 1 }), { kind: 'waiting' });
    assert.deepEqual(enqueued.splice(0), [look(2)]);
    assert.deepEqual(await step(first), { kind: 'waiting' });
    assert.deepEqual(enqueued.splice(0), [look(2)]);
    assert.equal(calls.retrieve, 1);

    // Look 2 finds the batch expired: its answers come back, and no look after it.
    state = { id: 'batch-1', status: 'expired', ended: true, outputFileId: 'out' };
    const ended = await step({ ...first, poll: 2 });
    assert.equal(ended.kind, 'ended');
    assert.deepEqual(ended.kind === 'ended' ? [...ended.answers.keys()] : [], [docs[0]?.id]);
    assert.deepEqual(enqueued.splice(0), []);

    // The first run again while look 2 still sends the rest directly: it arms look 2 (running, so a
    // no-op on the queue), not a third look that would send the rest a second time.
    assert.deepEqual(await step(first), { kind: 'waiting' });
    assert.deepEqual(enqueued.splice(0), [look(2)]);
    assert.deepEqual(calls, { submit: 1, retrieve: 2 });
  });
});
