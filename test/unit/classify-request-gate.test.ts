/**
 * The concurrency gates: at the provider's fetch, a bound on attempts in flight with retries served
 * first; before the extraction threads, documents by the order of their batches.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOrderedGate, createRequestGate } from '../../src/classify/concurrency.ts';
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

describe('ordered gate', () => {
  it('lets the lowest order in when a slot frees, first come first within an order, and hands the slot over', async () => {
    const gate = createOrderedGate(2);
    const order: string[] = [];
    await gate.enter(5);
    await gate.enter(5);
    // A later batch's documents queue first, then an earlier batch's: the earlier batch goes first.
    const waits = [
      ['b2-1', 2],
      ['b2-2', 2],
      ['b0-1', 0],
      ['b1-1', 1],
      ['b0-2', 0],
    ].map(([name, o]) => gate.enter(o as number).then(() => void order.push(name as string)));
    await tick();
    assert.deepEqual([gate.active, gate.waiting], [2, 5]);
    for (let i = 0; i < 5; i++) {
      gate.leave();
      await tick();
    }
    await Promise.all(waits);
    assert.deepEqual(order, ['b0-1', 'b0-2', 'b1-1', 'b2-1', 'b2-2']);
    // Each freed slot went to a waiter: still two held, none waiting.
    assert.deepEqual([gate.active, gate.waiting], [2, 0]);
    gate.leave();
    gate.leave();
    assert.equal(gate.active, 0);
  });

  it('lets nobody past a waiter: a newcomer with a free slot in sight waits its turn', async () => {
    const gate = createOrderedGate(1);
    await gate.enter(0);
    const order: number[] = [];
    const late = gate.enter(3).then(() => void order.push(3));
    gate.leave();
    // The slot went to the waiter: a low order arriving now waits behind it.
    const early = gate.enter(0).then(() => void order.push(0));
    await tick();
    assert.deepEqual(order, [3]);
    gate.leave();
    await Promise.all([late, early]);
    assert.deepEqual(order, [3, 0]);
  });
});
