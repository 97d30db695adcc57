/**
 * Exact copies and near-copy candidates of a folder, found in memory from one pass over its files.
 *
 * Each file brings its content (sha256) and the LSH bands of its signature: 20 band hashes of 64
 * bits. Files sharing a band (the same hash in the same band) are candidates. Instead of grouping
 * 20 rows per file in SQL (a hash or sort aggregate over two million wide rows: most of the time
 * the grouping took), the bands are ordered by the low half of their hash with a radix sort (two
 * counting passes of 16 bits: a third of the time a comparison sort of 64-bit words took), which
 * puts the files sharing a band next to each other. Equal low halves are then told apart on the
 * band number and the high half, so a bucket is exactly the files sharing (band, 64-bit hash), as
 * the SQL grouping had it.
 *
 * Contents are numbered by first sight (their content id), and buckets are lists of those
 * numbers: the grouping verifies and joins numbers in arrays instead of sha256 strings in maps
 * and sets, and turns back to sha256 only for the contents it groups.
 *
 * Memory: 28 bytes per band of a file (2 million bands: 56 MB for 100,000 files), freed when the
 * grouping returns; nothing per file but its content's number.
 */
import type { BandedFile } from '../../store/duplicates.repository.ts';

/** Per band of a file: its hash's halves (high, low), its band number and its file's content; grows as files come. */
function bandColumns() {
  let capacity = 1 << 16;
  let halves = new Int32Array(2 * capacity);
  let band = new Int32Array(capacity);
  let content = new Int32Array(capacity);
  let length = 0;
  const grow = (from: Int32Array, size: number): Int32Array<ArrayBuffer> => {
    const to = new Int32Array(size);
    to.set(from);
    return to;
  };
  return {
    /** The bands of one file (`bands`: halves, high first) of content `id`. */
    add(bands: Int32Array, id: number): void {
      const n = bands.length >> 1;
      if (length + n > capacity) {
        while (length + n > capacity) capacity *= 2;
        halves = grow(halves, 2 * capacity);
        band = grow(band, capacity);
        content = grow(content, capacity);
      }
      halves.set(bands, 2 * length);
      for (let b = 0; b < n; b++) {
        band[length + b] = b;
        content[length + b] = id;
      }
      length += n;
    },
    get length(): number {
      return length;
    },
    high: (e: number): number => halves[2 * e]!,
    low: (e: number): number => halves[2 * e + 1]!,
    band: (e: number): number => band[e]!,
    content: (e: number): number => content[e]!,
  };
}

/**
 * The entries 0..n-1 ordered by their key (as unsigned 32-bit numbers), equal keys in entry order,
 * and the keys in that order: a least-significant-digit radix sort, two stable counting passes of
 * 16 bits. Each pass carries the keys along with the entries, so every read is sequential; only
 * the scattered writes land at random.
 */
function orderByKey(keys: Uint32Array): { order: Uint32Array; sorted: Uint32Array } {
  const n = keys.length;
  const counts = new Uint32Array(1 << 16);
  const starts = (digit: (k: number) => number, of: Uint32Array) => {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[digit(of[i]!)]!++;
    for (let d = 0, at = 0; d < counts.length; d++) {
      const c = counts[d]!;
      counts[d] = at;
      at += c;
    }
  };
  const lowDigit = (k: number) => k & 0xffff;
  const highDigit = (k: number) => k >>> 16;
  const midKeys = new Uint32Array(n);
  const midOrder = new Uint32Array(n);
  starts(lowDigit, keys);
  for (let e = 0; e < n; e++) {
    const k = keys[e]!;
    const at = counts[k & 0xffff]!++;
    midKeys[at] = k;
    midOrder[at] = e;
  }
  const sorted = new Uint32Array(n);
  const order = new Uint32Array(n);
  starts(highDigit, midKeys);
  for (let i = 0; i < n; i++) {
    const k = midKeys[i]!;
    const at = counts[k >>> 16]!++;
    sorted[at] = k;
    order[at] = midOrder[i]!;
  }
  return { order, sorted };
}

/** Buckets as content ids: bucket b is `contents[starts[b]]` up to `contents[starts[b + 1]]`. */
export interface Buckets {
  contents: Int32Array;
  /** One more than the buckets: where each begins, then where the last ends. */
  starts: Int32Array;
}

export function createBandIndex() {
  /** Contents by first sight (a content's id is its place here), and how many files hold each. */
  const contentIds = new Map<string, number>();
  const contents: string[] = [];
  const copies: number[] = [];
  const columns = bandColumns();

  return {
    /** One live file of the folder. */
    add(file: BandedFile): void {
      let id = contentIds.get(file.sha256);
      if (id === undefined) {
        id = contents.length;
        contentIds.set(file.sha256, id);
        contents.push(file.sha256);
        copies.push(0);
      }
      copies[id]!++;
      if (file.bands) columns.add(file.bands, id);
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

    /**
     * The buckets holding more than one content: the contents sharing one band hash, each bucket
     * in sha256 order (duplicates.service verifies large buckets along that order), each content
     * once.
     */
    buckets(): Buckets {
      const { high, low, band, content } = columns;
      const n = columns.length;
      const keys = new Uint32Array(n);
      for (let e = 0; e < n; e++) keys[e] = low(e);
      const { order, sorted } = orderByKey(keys);
      const flat: number[] = [];
      const starts: number[] = [0];
      // seen[id] === stamp: content id is in the bucket being emitted already.
      const seen = new Int32Array(contents.length).fill(-1);
      let stamp = 0;
      const bySha = (a: number, b: number) => (contents[a]! < contents[b]! ? -1 : 1);
      const emit = (entries: ArrayLike<number>) => {
        const from = flat.length;
        stamp++;
        for (let k = 0; k < entries.length; k++) {
          const id = content(entries[k]!);
          if (seen[id] !== stamp) {
            seen[id] = stamp;
            flat.push(id);
          }
        }
        if (flat.length - from > 1) {
          const bucket = flat.splice(from).sort(bySha);
          for (const id of bucket) flat.push(id);
          starts.push(flat.length);
        } else flat.length = from;
      };
      for (let i = 0; i < n; ) {
        const key = sorted[i];
        let j = i + 1;
        while (j < n && sorted[j] === key) j++;
        if (j - i === 2) {
          // Most runs are two bands (a version and its original): no list, set or sort for them.
          const e = order[i]!;
          const f = order[i + 1]!;
          if (band(e) === band(f) && high(e) === high(f)) {
            const a = content(e);
            const b = content(f);
            if (a !== b) {
              if (contents[a]! < contents[b]!) flat.push(a, b);
              else flat.push(b, a);
              starts.push(flat.length);
            }
          }
        } else if (j - i > 2) {
          const entries = order.subarray(i, j);
          const first = entries[0]!;
          if (entries.every((e) => band(e) === band(first) && high(e) === high(first))) emit(entries);
          else {
            // The same low half in other bands or with another high half: not one bucket.
            const exact = new Map<string, number[]>();
            for (const e of entries) {
              const k = `${band(e)}:${high(e)}`;
              const list = exact.get(k);
              if (list) list.push(e);
              else exact.set(k, [e]);
            }
            for (const list of exact.values()) emit(list);
          }
        }
        i = j;
      }
      return { contents: Int32Array.from(flat), starts: Int32Array.from(starts) };
    },
  };
}
