/**
 * Exact copies and near-copy candidates of a folder, found in memory as its files come.
 *
 * Each file brings its content (sha256) and the LSH bands of its signature: 20 band hashes of 64
 * bits. Files sharing a band (the same hash in the same band) are candidates. Instead of grouping
 * 20 rows per file in SQL (a hash or sort aggregate over two million wide rows: most of the time
 * the grouping took), each band goes into a hash table on (band, 64-bit hash) as its file is
 * added: a bucket is exactly the files sharing (band, 64-bit hash), as the SQL grouping had it.
 * Done as the files come, the work falls while the next page of files is read, and a content is
 * known to be a candidate from the moment its band collides, so its signature can be read while
 * the rest of the folder still is (`newCandidates`). (A sort of all bands after the last page,
 * its earlier form, took a fifth of the grouping, with the database idle.)
 *
 * Contents are numbered by first sight (their content id), and buckets are lists of those
 * numbers: the grouping verifies and joins numbers in arrays instead of sha256 strings in maps
 * and sets, and turns back to sha256 only for the contents it groups.
 *
 * Memory: per distinct (band, hash) 20 bytes and two to eight slots of 8 bytes in the table (2
 * million bands: about 70 MB for 100,000 files), plus 8 bytes per band that joins a bucket of
 * another content; freed when the grouping returns.
 */
import type { BandedFile } from '../../store/duplicates.repository.ts';

/** Buckets as content ids: bucket b is `contents[starts[b]]` up to `contents[starts[b + 1]]`. */
export interface Buckets {
  contents: Int32Array;
  /** One more than the buckets: where each begins, then where the last ends. */
  starts: Int32Array;
}

/** `values` with room for at least `n`, doubling. */
function reserve(values: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  if (n <= values.length) return values;
  let size = values.length;
  while (size < n) size *= 2;
  const to = new Int32Array(size);
  to.set(values);
  return to;
}

/** A bucket's slot for a band hash: the hashes are random already, the mix spreads the band number and both halves. */
function slotOf(band: number, high: number, low: number, mask: number): number {
  let h = low ^ Math.imul(high, 0x9e3779b1) ^ Math.imul(band + 1, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 13;
  return h & mask;
}

export function createBandIndex() {
  /** Contents by first sight (a content's id is its place here), and how many files hold each. */
  const contentIds = new Map<string, number>();
  const contents: string[] = [];
  const copies: number[] = [];

  // Per bucket (a distinct band hash), four values side by side (one cache line for the lookup):
  // its band, the high half of its hash, the content that brought it, and the head of the list of
  // other contents that share it (-1: none yet).
  const BAND = 0;
  const HIGH = 1;
  const FIRST = 2;
  const OTHERS = 3;
  let buckets = new Int32Array(4 << 16);
  let bucketCount = 0;
  // The other contents of the buckets, as linked lists: content and the next in its bucket.
  let otherContent = new Int32Array(1 << 12);
  let otherNext = new Int32Array(1 << 12);
  let otherCount = 0;
  // Open addressing, linear probing, at most half full: per slot the low half of the hash and
  // the bucket's number + 1 (0: empty), so a probe past another hash reads the table only. It
  // grows fourfold while small (each growth moves every bucket to a new slot), then twofold.
  let table = new Int32Array(2 << 16);
  let mask = (table.length >> 1) - 1;
  /** Whether each content is a candidate yet, and those that became one since `newCandidates`. */
  const candidate: boolean[] = [];
  let fresh: number[] = [];

  const markCandidate = (id: number) => {
    if (candidate[id]) return;
    candidate[id] = true;
    fresh.push(id);
  };

  // The low half of each bucket's hash again, in bucket order, so growing reads the buckets in
  // order instead of at random.
  let lowOf = new Int32Array(1 << 16);

  const growTable = () => {
    table = new Int32Array(table.length * (table.length < 1 << 22 ? 4 : 2));
    mask = (table.length >> 1) - 1;
    for (let b = 0; b < bucketCount; b++) {
      const low = lowOf[b]!;
      let s = slotOf(buckets[4 * b + BAND]!, buckets[4 * b + HIGH]!, low, mask);
      while (table[2 * s + 1] !== 0) s = (s + 1) & mask;
      table[2 * s] = low;
      table[2 * s + 1] = b + 1;
    }
  };

  /** Band `band` of hash (high, low) held by content `id`. */
  const addBand = (band: number, high: number, low: number, id: number) => {
    let s = slotOf(band, high, low, mask);
    for (;;) {
      const found = table[2 * s + 1]!;
      if (found === 0) break;
      const at = 4 * (found - 1);
      if (table[2 * s] === low && buckets[at + HIGH] === high && buckets[at + BAND] === band) {
        const first = buckets[at + FIRST]!;
        // A copy of the bucket's first content adds no content to it.
        if (first === id) return;
        markCandidate(first);
        markCandidate(id);
        if (otherCount === otherContent.length) {
          otherContent = reserve(otherContent, otherCount + 1);
          otherNext = reserve(otherNext, otherCount + 1);
        }
        otherContent[otherCount] = id;
        otherNext[otherCount] = buckets[at + OTHERS]!;
        buckets[at + OTHERS] = otherCount++;
        return;
      }
      s = (s + 1) & mask;
    }
    const at = 4 * bucketCount++;
    buckets = reserve(buckets, at + 4);
    lowOf = reserve(lowOf, bucketCount);
    lowOf[bucketCount - 1] = low;
    buckets[at + BAND] = band;
    buckets[at + HIGH] = high;
    buckets[at + FIRST] = id;
    buckets[at + OTHERS] = -1;
    table[2 * s] = low;
    table[2 * s + 1] = bucketCount;
    if (4 * bucketCount > table.length) growTable();
  };

  return {
    /** One live file of the folder. */
    add(file: BandedFile): void {
      let id = contentIds.get(file.sha256);
      if (id === undefined) {
        id = contents.length;
        contentIds.set(file.sha256, id);
        contents.push(file.sha256);
        copies.push(0);
        candidate.push(false);
      }
      copies[id]!++;
      const bands = file.bands;
      if (bands) for (let b = 0; 2 * b < bands.length; b++) addBand(b, bands[2 * b]!, bands[2 * b + 1]!, id);
    },

    /** How many contents were seen: their ids are 0 up to this. */
    get contents(): number {
      return contents.length;
    },

    /** The sha256 of content `id`. */
    sha256: (id: number): string => contents[id]!,

    /** Contents held by more than one file. */
    exactContents(): number[] {
      const out: number[] = [];
      for (let id = 0; id < copies.length; id++) if (copies[id]! > 1) out.push(id);
      return out;
    },

    /** The contents that came to share a bucket with another content since the last call (each content once ever). */
    newCandidates(): number[] {
      const out = fresh;
      fresh = [];
      return out;
    },

    /**
     * The buckets holding more than one content: the contents sharing one band hash, each bucket
     * in sha256 order (duplicates.service verifies large buckets along that order), each content
     * once.
     */
    buckets(): Buckets {
      const flat: number[] = [];
      const starts: number[] = [0];
      // seen[id] === stamp: content id is in the bucket being listed already.
      const seen = new Int32Array(contents.length).fill(-1);
      const bySha = (a: number, b: number) => (contents[a]! < contents[b]! ? -1 : 1);
      const next = otherNext;
      const other = otherContent;
      for (let b = 0; b < bucketCount; b++) {
        let o = buckets[4 * b + OTHERS]!;
        if (o < 0) continue;
        const first = buckets[4 * b + FIRST]!;
        const a = other[o]!;
        if (next[o]! < 0) {
          // Most buckets are two contents (a version and its original): no list or sort for them.
          if (contents[first]! < contents[a]!) flat.push(first, a);
          else flat.push(a, first);
        } else {
          const bucket = [first];
          seen[first] = b;
          for (; o >= 0; o = next[o]!) {
            const id = other[o]!;
            if (seen[id] !== b) {
              seen[id] = b;
              bucket.push(id);
            }
          }
          bucket.sort(bySha);
          for (const id of bucket) flat.push(id);
        }
        starts.push(flat.length);
      }
      return { contents: Int32Array.from(flat), starts: Int32Array.from(starts) };
    },
  };
}
