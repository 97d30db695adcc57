/**
 * Exact copies and near-copy candidates of a folder, found in memory as its files come.
 *
 * Each file brings its content (sha256) and the LSH bands of its signature: 20 band hashes of 64
 * bits. Files sharing a band (the same hash in the same band) are candidates. Instead of grouping
 * 20 rows per file in SQL (a hash or sort aggregate over two million wide rows: most of the time
 * the grouping took), each band's hashes go into a hash table of that band as each page of files
 * is added: a bucket is exactly the files sharing (band, 64-bit hash), as the SQL grouping had it.
 * Done as the pages come, the work falls while the next page is read, and a content is known to
 * be a candidate from the moment its band collides, so its signature can be read while the rest
 * of the folder still is (`newCandidates`). (A sort of all bands after the last page, its earlier
 * form, took a fifth of the grouping, with the database idle.)
 *
 * Contents are numbered by first sight (their content id), and buckets are lists of those
 * numbers: the grouping verifies and joins numbers in arrays instead of sha256 strings in maps
 * and sets, and turns back to sha256 only for the contents it groups.
 *
 * Memory: per distinct (band, hash) 8 bytes and two to four slots of 12 bytes in its band's
 * table (2 million bands: about 80 MB for 100,000 files), plus 8 bytes per band that joins a
 * bucket of another content; freed when the grouping returns.
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

/** A hash's slot in its band's table: the hashes are random already, the mix spreads both halves. */
function slotOf(high: number, low: number, mask: number): number {
  let h = low ^ Math.imul(high, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 13;
  return h & mask;
}

/** Values per slot of a band's table: the hash's low and high halves, and its bucket's number + 1 (0: an empty slot). */
const SLOT = 3;

/**
 * One band's buckets by hash: open addressing, linear probing, at most half full. The slots hold the hash itself, so a lookup reads the
 * table only until it finds its bucket; one band's table is a twentieth of all bands, so a page
 * goes through the tables band by band and each stays warmer in the processor's cache than one
 * table of every band did (about a fifth less time).
 */
function bandTable() {
  let slots = new Int32Array(SLOT << 12);
  let mask = (1 << 12) - 1;
  let count = 0;
  const grow = () => {
    const old = slots;
    // Fourfold while small (a folder of a few pages moves its hashes twice, not four times),
    // then twofold, so a large folder's tables are never more than four times its hashes.
    const by = mask < 1 << 16 ? 4 : 2;
    slots = new Int32Array(old.length * by);
    mask = by * (mask + 1) - 1;
    for (let t = 0; t < old.length; t += SLOT) {
      if (old[t + 2] === 0) continue;
      let s = slotOf(old[t + 1]!, old[t]!, mask);
      while (slots[SLOT * s + 2] !== 0) s = (s + 1) & mask;
      slots[SLOT * s] = old[t]!;
      slots[SLOT * s + 1] = old[t + 1]!;
      slots[SLOT * s + 2] = old[t + 2]!;
    }
  };
  return {
    /** The bucket of hash (high, low); when there is none yet, bucket `unused` becomes it and -1 is returned. */
    bucketOf(high: number, low: number, unused: number): number {
      let s = slotOf(high, low, mask);
      for (;;) {
        const at = SLOT * s;
        const found = slots[at + 2]!;
        if (found === 0) break;
        if (slots[at] === low && slots[at + 1] === high) return found - 1;
        s = (s + 1) & mask;
      }
      const at = SLOT * s;
      slots[at] = low;
      slots[at + 1] = high;
      slots[at + 2] = unused + 1;
      if (2 * ++count > mask + 1) grow();
      return -1;
    },
  };
}

export function createBandIndex() {
  /** Contents by first sight (a content's id is its place here), and how many files hold each. */
  const contentIds = new Map<string, number>();
  const contents: string[] = [];
  const copies: number[] = [];

  // Per bucket (a distinct band hash): the content that brought it, and the head of the list of
  // other contents that share it (-1: none yet).
  let first = new Int32Array(1 << 16);
  let others = new Int32Array(1 << 16);
  let bucketCount = 0;
  // The other contents of the buckets, as linked lists: content and the next in its bucket.
  let otherContent = new Int32Array(1 << 12);
  let otherNext = new Int32Array(1 << 12);
  let otherCount = 0;
  const tables: ReturnType<typeof bandTable>[] = [];
  /** Whether each content is a candidate yet, and those that became one since `newCandidates`. */
  const candidate: boolean[] = [];
  let fresh: number[] = [];
  /** Contents whose second file came since `newCopies`. */
  let freshCopies: number[] = [];

  const markCandidate = (id: number) => {
    if (candidate[id]) return;
    candidate[id] = true;
    fresh.push(id);
  };

  /** Content `id` holds hash (high, low) in the band of `table`. */
  const addBand = (table: ReturnType<typeof bandTable>, high: number, low: number, id: number) => {
    const b = table.bucketOf(high, low, bucketCount);
    if (b < 0) {
      if (bucketCount === first.length) {
        first = reserve(first, bucketCount + 1);
        others = reserve(others, bucketCount + 1);
      }
      first[bucketCount] = id;
      others[bucketCount++] = -1;
      return;
    }
    const holder = first[b]!;
    // A copy of the bucket's first content adds no content to it.
    if (holder === id) return;
    markCandidate(holder);
    markCandidate(id);
    if (otherCount === otherContent.length) {
      otherContent = reserve(otherContent, otherCount + 1);
      otherNext = reserve(otherNext, otherCount + 1);
    }
    otherContent[otherCount] = id;
    otherNext[otherCount] = others[b]!;
    others[b] = otherCount++;
  };

  /** The content id of a sha256, numbering it at first sight; counts its files. */
  const contentOf = (sha256: string): number => {
    let id = contentIds.get(sha256);
    if (id === undefined) {
      id = contents.length;
      contentIds.set(sha256, id);
      contents.push(sha256);
      copies.push(0);
      candidate.push(false);
    }
    if (++copies[id]! === 2) freshCopies.push(id);
    return id;
  };

  /** Files of the folder, band by band: one band's table at a time. */
  const addPage = (files: readonly BandedFile[]) => {
    const ids = files.map((f) => contentOf(f.sha256));
    let bandsMost = 0;
    for (const f of files) if (f.bands) bandsMost = Math.max(bandsMost, f.bands.length >> 1);
    while (tables.length < bandsMost) tables.push(bandTable());
    for (let band = 0; band < bandsMost; band++) {
      const table = tables[band]!;
      for (let i = 0; i < files.length; i++) {
        const bands = files[i]!.bands;
        if (bands && 2 * band < bands.length) addBand(table, bands[2 * band]!, bands[2 * band + 1]!, ids[i]!);
      }
    }
  };

  return {
    /** One live file of the folder. */
    add(file: BandedFile): void {
      addPage([file]);
    },

    /** Live files of the folder, a page at a time (faster than one at a time). */
    addPage,

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

    /** The contents that came to be held by a second file since the last call (each content once ever). */
    newCopies(): number[] {
      const out = freshCopies;
      freshCopies = [];
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
        let o = others[b]!;
        if (o < 0) continue;
        const holder = first[b]!;
        const a = other[o]!;
        if (next[o]! < 0) {
          // Most buckets are two contents (a version and its original): no list or sort for them.
          if (contents[holder]! < contents[a]!) flat.push(holder, a);
          else flat.push(a, holder);
        } else {
          const bucket = [holder];
          seen[holder] = b;
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
