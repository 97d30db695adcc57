/**
 * The count of CPU-bound jobs in a process that OCR and the search indexer give way to: busy while
 * one runs and for the settle time after the last ends, waiters woken when it goes quiet, watchers
 * told of every start and end.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCpuBoundJobs } from '../../src/services/cpu-bound-jobs.ts';

describe('CPU-bound jobs of a process', () => {
  it('is busy while any job runs and wakes a waiter once the last has ended and settled', async () => {
    const told: string[] = [];
    const cpu = createCpuBoundJobs({ settleMs: 1, watchers: [{ jobStarted: () => told.push('start'), jobEnded: () => told.push('end') }] });
    assert.equal(await cpu.whenQuiet(0), true, 'quiet at once when nothing runs');
    cpu.jobStarted();
    cpu.jobStarted();
    const quiet = cpu.whenQuiet(3_600_000);
    assert.equal(cpu.waiting, 1);
    cpu.jobEnded();
    assert.equal(cpu.busy, true, 'one job still runs');
    cpu.jobEnded();
    assert.equal(cpu.busy, true, 'settling after the last job');
    assert.equal(await quiet, true);
    assert.equal(cpu.busy, false);
    assert.equal(cpu.waiting, 0);
    assert.deepEqual(told, ['start', 'start', 'end', 'end']);
  });

  it('lets a waiter go without quiet at its limit or when its signal aborts', async () => {
    const cpu = createCpuBoundJobs();
    cpu.jobStarted();
    assert.equal(await cpu.whenQuiet(1), false);
    const stop = new AbortController();
    const waiting = cpu.whenQuiet(3_600_000, stop.signal);
    stop.abort();
    assert.equal(await waiting, false);
    assert.equal(cpu.waiting, 0);
    cpu.jobEnded();
  });

  it('a job starting while it settles keeps it busy', async () => {
    const cpu = createCpuBoundJobs({ settleMs: 1 });
    cpu.jobStarted();
    cpu.jobEnded();
    cpu.jobStarted();
    assert.equal(await cpu.whenQuiet(20), false, 'the second job still runs');
    cpu.jobEnded();
    assert.equal(await cpu.whenQuiet(3_600_000), true);
  });
});
