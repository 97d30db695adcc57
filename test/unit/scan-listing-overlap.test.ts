/**
 * The scan compares a chunk of the listing with the store while the listing goes on
 * (src/services/scan.service.ts): the next chunk is listed before the store has answered for the
 * one before, chunks are still compared one at a time and in order, a cancelled job stops at a
 * chunk's end, and a listing that fails waits for the compare in flight and marks nothing deleted.
 * The store and the source are fakes here; test/integration/rescan.test.ts runs the real ones.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createScanService, type ScanServiceDeps } from '../../src/services/scan.service.ts';
import type { ResolvedSourceFolder } from '../../src/services/source-registry.ts';
import type { SourceEntry, SourceReader } from '../../src/services/source-reader.ts';

const log = pino({ level: 'silent' });
const FILES = 12_000;
const rel = (i: number) => `bk/f/${String(i).padStart(6, '0')}.txt`;

/** What the fakes saw, in order. */
interface Seen {
  events: string[];
  listed: number;
  upserted: string[];
  markedGone: number;
  finished: boolean;
}

/** Turns of the event loop until `cond` holds; fails after 5 s. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A deferred the test releases. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

function fixture(opts: { files?: number; failAfter?: number; active?: () => boolean; holdFirstCompare?: Promise<void> }) {
  const files = opts.files ?? FILES;
  const seen: Seen = { events: [], listed: 0, upserted: [], markedGone: 0, finished: false };
  let compares = 0;
  const reader: SourceReader = {
    name: 'bk',
    async *list(folder, events) {
      events.onFolder?.(folder);
      events.onFolder?.('bk/f');
      for (let i = 0; i < files; i++) {
        if (opts.failAfter !== undefined && i === opts.failAfter) {
          seen.events.push('listing failed');
          throw new Error('listing failed');
        }
        seen.listed = i + 1;
        // A page boundary: the listing waits on the source now and then, as a bucket's pages do.
        if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
        const e: SourceEntry = { rel: rel(i), name: rel(i).slice(5), size: 10, mtime: new Date(0), etag: '"e"' };
        yield e;
      }
    },
    fetch: async () => ({ kind: 'missing' }),
    exists: async () => true,
    readAll: async () => new Uint8Array(),
  };
  const folder: ResolvedSourceFolder = { rel: 'bk', reader, otherSources: [] };
  let ids = 0;
  const deps = {
    jobs: {
      markRunning: async (id: string) => ({ id, folderPath: 'bk', params: {} }),
      openedBatches: async () => [],
      openBatch: async () => true,
      isActive: async () => opts.active?.() ?? true,
      mergeStats: async () => undefined,
      finishDiscovery: async () => {
        seen.finished = true;
      },
    },
    documents: {
      knownFiles: async () => {
        const no = compares++;
        seen.events.push(`compare ${no} at ${seen.listed}`);
        if (no === 0 && opts.holdFirstCompare) await opts.holdFirstCompare;
        return [];
      },
      upsertSeen: async (files: { path: string }[]) => {
        seen.events.push(`upsert ${files.length}`);
        seen.upserted.push(...files.map((f) => f.path));
        return files.map((f) => ({ id: `id-${ids++}`, path: f.path, unchanged: false, inserted: true }));
      },
      markGoneAfterListing: async () => {
        seen.markedGone++;
        return 0;
      },
      refreshStatistics: async () => false,
    },
    folders: { upsertSeen: async () => undefined, markScanned: async () => undefined },
    sources: { resolveFolder: async () => folder },
    enqueue: async () => undefined,
    batchSize: 200,
  } as unknown as ScanServiceDeps;
  return { seen, scan: createScanService(deps) };
}

describe('the scan lists on while it compares', () => {
  it('lists the next chunk before the store answers for the one before, and compares every file once, in order', async () => {
    const hold = gate();
    const { seen, scan } = fixture({ holdFirstCompare: hold.opened });
    const run = scan.run('job', new AbortController().signal, log);
    // The first chunk is in the store's hands; the listing goes on until the next chunk is full.
    await until(() => seen.listed >= 10_000, 'the listing to go on past the first chunk').catch((err: unknown) => {
      hold.open();
      throw err;
    });
    assert.equal(seen.upserted.length, 0, 'the first compare is still waiting on the store');
    hold.open();
    await run;
    assert.equal(seen.finished, true);
    assert.equal(seen.markedGone, 1);
    assert.deepEqual(seen.upserted, Array.from({ length: FILES }, (_, i) => rel(i)));
    // One compare at a time: each chunk's upsert comes before the next chunk's read.
    const order = seen.events.map((e) => e.split(' ')[0]);
    assert.deepEqual(order, ['compare', 'upsert', 'compare', 'upsert', 'compare', 'upsert']);
  });

  it('stops at the end of a chunk when the job was cancelled, marking nothing deleted', async () => {
    // Cancelled while its first chunk is compared: seen when the second chunk is full.
    const { seen, scan } = fixture({ files: 30_000, active: () => false });
    await scan.run('job', new AbortController().signal, log);
    assert.equal(seen.finished, false);
    assert.equal(seen.markedGone, 0);
    assert.equal(seen.upserted.length, 6_000, 'only the first chunk was compared');
    assert.ok(seen.listed <= 12_001, `stopped at the next chunk's end (${seen.listed} listed)`);
  });

  it('a listing that fails waits for the compare in flight, then fails with nothing marked deleted', async () => {
    const hold = gate();
    const { seen, scan } = fixture({ failAfter: 7_000, holdFirstCompare: hold.opened });
    const run = scan.run('job', new AbortController().signal, log);
    let settled = false;
    const outcome = run.then(
      () => 'resolved',
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    void outcome.then(() => (settled = true));
    await until(() => seen.events.includes('listing failed'), 'the listing to fail').catch((err: unknown) => {
      hold.open();
      throw err;
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(settled, false, 'the scan waits for the compare it started');
    hold.open();
    assert.equal(await outcome, 'listing failed');
    assert.equal(seen.upserted.length, 6_000, 'the chunk in flight was compared whole');
    assert.equal(seen.markedGone, 0);
    assert.equal(seen.finished, false);
  });
});
