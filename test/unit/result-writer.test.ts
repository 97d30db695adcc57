/**
 * The group commit of classification results (store/classifications.repository.ts `resultWriter`):
 * results saved within the wait share one statement, a flush sends what waits at once, a full
 * statement goes without waiting, a document is in one statement at a time, and a failed statement
 * fails only the result that cannot be stored.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type NewClassification, resultWriter } from '../../src/store/classifications.repository.ts';
import { storedResult } from '../support/classification-fixtures.ts';

const result = (documentId: string, summary = 's'): NewClassification => storedResult({ documentId, taxonomyId: 'tax', jobId: 'job' }, { summary });

/** A writer over a recording statement; `fail` rejects any statement holding that document. */
function recording(lingerMs: number, fail?: string) {
  const statements: string[][] = [];
  const writer = resultWriter(async (group) => {
    statements.push(group.map((c) => `${c.documentId}:${c.summary}`));
    await new Promise((r) => setImmediate(r));
    if (fail && group.some((c) => c.documentId === fail)) throw new Error('cannot store');
  }, lingerMs);
  return { statements, writer };
}

describe('classification results wait briefly to share a statement', { timeout: 10_000 }, () => {
  it('writes results saved within the wait in one statement', async () => {
    const { statements, writer } = recording(200);
    const first = writer.save(result('a'));
    await new Promise((r) => setTimeout(r, 20));
    await Promise.all([first, writer.save(result('b')), writer.save(result('c'))]);
    assert.deepEqual(statements, [['a:s', 'b:s', 'c:s']]);
  });

  it('writes what waits at once when flushed (the wait is never served out)', async () => {
    const { statements, writer } = recording(600_000);
    const saved = Promise.all([writer.save(result('a')), writer.save(result('b'))]);
    writer.flush();
    await saved;
    assert.deepEqual(statements, [['a:s', 'b:s']]);
  });

  it('writes a full statement without waiting', async () => {
    const { statements, writer } = recording(600_000);
    await Promise.all(Array.from({ length: 100 }, (_, i) => writer.save(result(`d${i}`))));
    assert.equal(statements.length, 1);
    assert.equal(statements[0]?.length, 100);
  });

  it('puts a second result of a document in a later statement, so the later one stays the latest', async () => {
    const { statements, writer } = recording(600_000);
    const saved = Promise.all([writer.save(result('a', 'first')), writer.save(result('b')), writer.save(result('a', 'second'))]);
    // The second result of `a` waits for the first statement to end; the flush sends it then.
    writer.flush();
    await saved;
    assert.deepEqual(statements, [['a:first', 'b:s'], ['a:second']]);
  });

  it('fails only the result that cannot be stored when its statement fails', async () => {
    const { statements, writer } = recording(600_000, 'bad');
    const outcomes = Promise.allSettled([writer.save(result('a')), writer.save(result('bad')), writer.save(result('c'))]);
    writer.flush();
    assert.deepEqual(
      (await outcomes).map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(statements, [['a:s', 'bad:s', 'c:s'], ['a:s'], ['bad:s'], ['c:s']]);
  });
});
