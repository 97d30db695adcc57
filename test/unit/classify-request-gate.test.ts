/** The concurrency gate at the provider's fetch: a bound on attempts in flight, retries served first. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRequestGate } from '../../src/classify/concurrency.ts';
import { deferred } from '../support/deferred.ts';

const tick = () => new Promise((r) => setImmediate(r));

describe('request gate', () => {
  it('never lets more than the limit run at once', async () => {
    const gate = createRequestGate(3);
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gate.run(async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, i % 3));
          running--;
        }),
      ),
    );
    assert.equal(most, 3);
    assert.equal(gate.active, 0);
    assert.equal(gate.waiting, 0);
  });

  it('gives a freed slot to a waiting retry before first attempts that queued earlier, FIFO within each', async () => {
    const gate = createRequestGate(1);
    const hold = deferred();
    const order: string[] = [];
    const first = gate.run(() => hold.promise);
    const queued = [
      gate.run(async () => void order.push('new-1')),
      gate.run(async () => void order.push('new-2')),
      gate.run(async () => void order.push('retry-1'), { retry: true }),
      gate.run(async () => void order.push('retry-2'), { retry: true }),
    ];
    await tick();
    assert.equal(gate.waiting, 4);
    hold.resolve();
    await Promise.all([first, ...queued]);
    assert.deepEqual(order, ['retry-1', 'retry-2', 'new-1', 'new-2']);
  });

  it('frees the slot when the attempt fails', async () => {
    const gate = createRequestGate(1);
    await assert.rejects(gate.run(() => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await gate.run(async () => 'next'), 'next');
    assert.equal(gate.active, 0);
  });
});
