/**
 * The duplicate grouping against a straightforward reference on random folders: buckets as maps
 * of (band, hash) to sets of sha256, pairs verified by the same rule (every pair of a bucket up to
 * 16 contents, a star and a chain in sha256 order above), groups as connected contents by search.
 * Families of versions on both sides of the threshold, exact copies with and without a
 * signature, buckets of more than 16 near copies and of strangers sharing one band hash, read in
 * small pages so candidates come while later pages still are read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OPEN_ACCESS } from '../../src/domain/access.ts';
import { estimateSimilarity } from '../../src/extract/minhash.ts';
import { createDuplicatesService } from '../../src/services/duplicates.service.ts';
import type { BandedFile, DuplicateMember, DuplicatesRepository } from '../../src/store/duplicates.repository.ts';
import { seeded } from '../support/docx-fixtures.ts';

const THRESHOLD = 0.8;
const BANDS = 20;
const ROWS = 6;

interface File extends DuplicateMember {
  minhash: Int32Array | null;
  bands: Int32Array | null;
}

/** Band b's hash as [high, low] of slots b*6 to b*6+5, or all of band 0 forced to `shared`. */
function bandsOf(sig: Int32Array, shared?: number): Int32Array {
  const out = new Int32Array(2 * BANDS);
  for (let b = 0; b < BANDS; b++) {
    let h1 = 0x811c9dc5 ^ b;
    let h2 = 0x01000193 + b;
    for (let r = 0; r < ROWS; r++) {
      h1 = Math.imul(h1 ^ sig[b * ROWS + r]!, 0x01000193);
      h2 = Math.imul(h2 + sig[b * ROWS + r]!, 0x5bd1e995) ^ (h2 >>> 13);
    }
    out[2 * b] = h2;
    out[2 * b + 1] = h1;
  }
  if (shared !== undefined) {
    out[0] = shared;
    out[1] = -shared;
  }
  return out;
}

/** A random folder: families of versions, copies, strangers with one shared band, files without a signature. */
function folder(seed: number): File[] {
  const rand = seeded(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const files: File[] = [];
  let n = 0;
  const put = (content: string, minhash: Int32Array | null, shared?: number) => {
    n++;
    files.push({
      id: `id-${n}`,
      path: `f/${String(int(1e6)).padStart(6, '0')}-${n}.docx`,
      name: `${n % 7 === 0 ? 'offerte' : 'doc'} ${n}.docx`,
      size: 1000 + int(5000),
      // Each file its own modified time (members are ordered by it), in a random order to the paths.
      modified: new Date(Date.UTC(2020, 0, 1) + int(1000) * 86_400_000 + n),
      sha256: content.padEnd(64, '0'),
      minhash,
      bands: minhash ? bandsOf(minhash, shared) : null,
    });
  };
  const randomSig = () => Int32Array.from({ length: 128 }, () => int(2 ** 31) | 0x80000000);
  const versionOf = (sig: Int32Array, changed: number) => {
    const out = Int32Array.from(sig);
    for (let k = 0; k < changed; k++) out[int(128)] = int(2 ** 31) | 0x80000000;
    return out;
  };
  let c = 0;
  const content = () => (++c).toString(16).padStart(8, '0') + seed.toString(16);
  const families = 6 + int(6);
  for (let f = 0; f < families; f++) {
    const base = randomSig();
    // A large family (over 16 contents in a bucket) now and then, or a few versions.
    const versions = f === 0 ? 20 + int(10) : int(5);
    for (let v = 0; v <= versions; v++) {
      const sig = v === 0 ? base : versionOf(base, f === 0 ? int(12) : int(40));
      const sha = content();
      const copies = rand() < 0.25 ? 2 + int(2) : 1;
      for (let k = 0; k < copies; k++) put(sha, sig);
    }
  }
  // Strangers sharing band 0's hash: a large bucket of a false collision.
  const strangers = rand() < 0.5 ? 18 + int(5) : 3;
  for (let s = 0; s < strangers; s++) put(content(), randomSig(), 77);
  // Exact copies without a signature, and loners.
  for (let s = 0; s < 3; s++) {
    const sha = content();
    for (let k = 0; k < 1 + int(3); k++) put(sha, null);
  }
  for (let s = 0; s < 10; s++) put(content(), randomSig());
  // Pages come in path order, as the store gives them.
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}

function fakeRepo(files: File[], pageSize: number): DuplicatesRepository {
  const repo: Pick<DuplicatesRepository, 'bandedFiles' | 'holders'> = {
    async *bandedFiles(): AsyncGenerator<BandedFile[]> {
      for (let i = 0; i < files.length; i += pageSize) yield files.slice(i, i + pageSize).map((f) => ({ sha256: f.sha256, bands: f.bands }));
    },
    async holders(_folder, shas) {
      const wanted = new Set(shas);
      const holding = files.filter((f) => wanted.has(f.sha256));
      return {
        members: holding.map(({ id, path, name, size, modified, sha256 }) => ({ id, path, name, size, modified, sha256 })),
        signatures: new Map(holding.flatMap((f) => (f.minhash ? [[f.sha256, f.minhash] as const] : []))),
      };
    },
  };
  return repo as DuplicatesRepository;
}

/** The groups as plainly as they can be found. */
function reference(files: File[]) {
  const sig = new Map(files.filter((f) => f.minhash).map((f) => [f.sha256, f.minhash!]));
  const buckets = new Map<string, Set<string>>();
  for (const f of files) {
    if (!f.bands) continue;
    for (let b = 0; b < f.bands.length / 2; b++) {
      const key = `${b}:${f.bands[2 * b]}:${f.bands[2 * b + 1]}`;
      buckets.set(key, (buckets.get(key) ?? new Set()).add(f.sha256));
    }
  }
  const edges: [string, string, number][] = [];
  const count = new Map<string, number>();
  for (const f of files) count.set(f.sha256, (count.get(f.sha256) ?? 0) + 1);
  for (const [sha, n] of count) if (n > 1) edges.push([sha, sha, 1]);
  const verify = (a: string, b: string) => {
    const s = estimateSimilarity(sig.get(a)!, sig.get(b)!);
    if (s >= THRESHOLD) edges.push([a, b, s]);
  };
  for (const set of buckets.values()) {
    const bucket = [...set].sort();
    if (bucket.length < 2) continue;
    if (bucket.length <= 16) for (let i = 0; i < bucket.length; i++) for (let j = i + 1; j < bucket.length; j++) verify(bucket[i]!, bucket[j]!);
    else
      for (let i = 1; i < bucket.length; i++) {
        verify(bucket[0]!, bucket[i]!);
        verify(bucket[i - 1]!, bucket[i]!);
      }
  }
  const near = new Map<string, [string, number][]>();
  for (const [a, b, s] of edges) {
    near.set(a, [...(near.get(a) ?? []), [b, s]]);
    near.set(b, [...(near.get(b) ?? []), [a, s]]);
  }
  const done = new Set<string>();
  const groups = [];
  for (const start of near.keys()) {
    if (done.has(start)) continue;
    const shas = new Set([start]);
    let weakest = 1;
    for (const todo = [start]; todo.length > 0; ) {
      for (const [other, s] of near.get(todo.pop()!)!) {
        weakest = Math.min(weakest, s);
        if (!shas.has(other)) {
          shas.add(other);
          todo.push(other);
        }
      }
    }
    for (const sha of shas) done.add(sha);
    const members = files.filter((f) => shas.has(f.sha256)).sort((a, b) => a.modified.getTime() - b.modified.getTime() || (a.name < b.name ? -1 : 1));
    if (members.length < 2) continue;
    const newest = members.at(-1)!;
    const size = members.reduce((t, m) => t + m.size, 0);
    const kind = shas.size === 1 ? 'exact' : 'near';
    groups.push({
      key: [...shas].sort()[0]!,
      kind,
      similarity: kind === 'exact' ? 1 : weakest,
      size,
      wastedBytes: size - Math.max(...members.map((m) => m.size)),
      members: members.map((m) => [
        m.path,
        m.sha256 === newest.sha256 ? 1 : m.minhash && newest.minhash ? estimateSimilarity(m.minhash, newest.minhash) : 0,
        members.filter((x) => x.sha256 === m.sha256).length > 1,
      ]),
    });
  }
  return groups.sort((a, b) => b.wastedBytes - a.wastedBytes || (a.key < b.key ? -1 : 1));
}

describe('duplicate grouping against a plain reference', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`finds the same groups in random folder ${seed}`, async () => {
      const files = folder(seed);
      const service = createDuplicatesService({ repo: fakeRepo(files, 3 + seed), threshold: THRESHOLD, knownFolder: async () => ({ rel: '' }) });
      const page = await service.forFolder('.', OPEN_ACCESS, { limit: 10_000 });
      const got = page.items.map((g) => ({
        key: g.key,
        kind: g.kind,
        similarity: g.similarity,
        size: g.size,
        wastedBytes: g.wastedBytes,
        members: g.members.map((m) => [m.path, m.similarity, m.exactCopy]),
      }));
      const want = reference(files);
      assert.ok(want.some((g) => g.kind === 'near') && want.some((g) => g.kind === 'exact'), 'the folder has both kinds');
      assert.deepEqual(got, want);
    });
  }
});
