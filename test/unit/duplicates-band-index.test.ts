/** The band index: exact copies counted per content, and buckets exactly the contents sharing (band, 64-bit hash). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBandIndex } from '../../src/services/duplicates/band-index.ts';

type BandIndex = ReturnType<typeof createBandIndex>;

/** The index's buckets as lists of sha256. */
function shaBuckets(index: BandIndex): string[][] {
  const { contents, starts } = index.buckets();
  return Array.from({ length: starts.length - 1 }, (_, b) => [...contents.subarray(starts[b], starts[b + 1])].map(index.sha256));
}

/** Bands as the store gives them: [high, low] per band; `hashes[b]` is band b's [high, low]. */
const bands = (...hashes: [number, number][]) => Int32Array.from(hashes.flat());
/** Twenty distinct bands of one file, overridden where given. */
function twenty(seed: number, overrides: Record<number, [number, number]> = {}): Int32Array {
  return bands(...Array.from({ length: 20 }, (_, b): [number, number] => overrides[b] ?? [seed, seed * 100 + b]));
}

const sha = (c: string) => c.repeat(64);

describe('band index', () => {
  it('counts the files holding each content, with or without bands', () => {
    const index = createBandIndex();
    index.add({ sha256: sha('a'), bands: null });
    index.add({ sha256: sha('a'), bands: null });
    index.add({ sha256: sha('b'), bands: twenty(1) });
    index.add({ sha256: sha('c'), bands: twenty(2) });
    index.add({ sha256: sha('c'), bands: twenty(2) });
    index.add({ sha256: sha('c'), bands: twenty(2) });
    assert.deepEqual(index.exactContents().map(index.sha256).sort(), [sha('a'), sha('c')]);
    assert.deepEqual(shaBuckets(index), [], 'copies of one content share every band, but are one content');
  });

  it('buckets the contents sharing a band hash, in sha256 order, each content once', () => {
    const index = createBandIndex();
    index.add({ sha256: sha('f'), bands: twenty(1, { 7: [-5, 99] }) });
    index.add({ sha256: sha('1'), bands: twenty(2, { 7: [-5, 99] }) });
    index.add({ sha256: sha('1'), bands: twenty(2, { 7: [-5, 99] }) });
    index.add({ sha256: sha('9'), bands: twenty(3, { 7: [-5, 99], 19: [4, -1] }) });
    index.add({ sha256: sha('0'), bands: twenty(4, { 19: [4, -1] }) });
    const buckets = shaBuckets(index).sort((a, b) => a.length - b.length);
    assert.deepEqual(buckets, [
      [sha('0'), sha('9')],
      [sha('1'), sha('9'), sha('f')],
    ]);
  });

  it('tells apart equal low halves in other bands or with another high half', () => {
    const index = createBandIndex();
    // The same low half everywhere: the sort puts these side by side, yet no two share (band, hash).
    index.add({ sha256: sha('a'), bands: twenty(1, { 3: [10, 42] }) });
    index.add({ sha256: sha('b'), bands: twenty(2, { 3: [11, 42] }) });
    index.add({ sha256: sha('c'), bands: twenty(3, { 4: [10, 42] }) });
    assert.deepEqual(shaBuckets(index), []);
    // A fourth that does share band 3's whole hash with the first.
    index.add({ sha256: sha('d'), bands: twenty(4, { 3: [10, 42] }) });
    assert.deepEqual(shaBuckets(index), [[sha('a'), sha('d')]]);
  });

  it('tells two bands with one low half apart the same way (the common case: a version and its original)', () => {
    const pair = (x: [number, number], y: [number, number], b = 5) => {
      const index = createBandIndex();
      index.add({ sha256: sha('b'), bands: twenty(1, { [b]: x }) });
      index.add({ sha256: sha('a'), bands: twenty(2, { 5: y }) });
      return shaBuckets(index);
    };
    assert.deepEqual(pair([7, 42], [7, 42]), [[sha('a'), sha('b')]], 'one bucket, in sha256 order');
    assert.deepEqual(pair([7, 42], [8, 42]), [], 'another high half');
    assert.deepEqual(pair([7, 42], [7, 42], 6), [], 'another band');
    const copies = createBandIndex();
    copies.add({ sha256: sha('c'), bands: twenty(3) });
    copies.add({ sha256: sha('c'), bands: twenty(3) });
    assert.deepEqual(shaBuckets(copies), [], 'two files of one content');
  });

  it('finds a shared band among many files', () => {
    const index = createBandIndex();
    for (let i = 0; i < 5000; i++) index.add({ sha256: i.toString(16).padStart(64, '0'), bands: twenty(i + 10) });
    index.add({ sha256: sha('e'), bands: twenty(1, { 12: [4010, 401012] }) });
    assert.deepEqual(shaBuckets(index), [[(4000).toString(16).padStart(64, '0'), sha('e')]]);
  });
});

describe('band index candidates', () => {
  it('names each content once, as soon as one of its bands is shared with another content', () => {
    const index = createBandIndex();
    index.add({ sha256: sha('a'), bands: twenty(1, { 2: [9, 9] }) });
    index.add({ sha256: sha('a'), bands: twenty(1, { 2: [9, 9] }) });
    assert.deepEqual(index.newCandidates(), [], 'a copy of one content is no candidate');
    index.add({ sha256: sha('b'), bands: twenty(2, { 2: [9, 9] }) });
    assert.deepEqual(index.newCandidates().map(index.sha256).sort(), [sha('a'), sha('b')]);
    index.add({ sha256: sha('c'), bands: twenty(3, { 2: [9, 9] }) });
    assert.deepEqual(index.newCandidates().map(index.sha256), [sha('c')], 'a and b were named already');
    assert.deepEqual(index.newCandidates(), []);
  });
});
