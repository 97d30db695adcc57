/**
 * Exact copies and near-copy candidates of a folder, found in memory from one pass over its files.
 *
 * Each file brings its content (sha256) and the LSH bands of its signature: 20 band hashes of 64
 * bits. Files sharing a band (the same hash in the same band) are candidates. Instead of grouping
 * 20 rows per file in SQL (a hash or sort aggregate over two million wide rows: most of the time
 * the grouping took), every band becomes one 64-bit word, the low half of its hash above the
 * index of the band, and one native sort of those words puts the files sharing a band next to
 * each other. Equal low halves are then told apart on the band number and the high half, so a
 * bucket is exactly the files sharing (band, 64-bit hash), as the SQL grouping had it.
 *
 * Memory: 20 bytes per band of a file (2 million bands: 40 MB for 100,000 files), freed when the
 * grouping returns; nothing per file but its content's number.
 */
import { endianness } from 'node:os';
import type { BandedFile } from '../../store/duplicates.repository.ts';

/** Which 32-bit half of a sort word is the more significant one. */
const HIGH = endianness() === 'LE' ? 1 : 0;
const LOW = 1 - HIGH;

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

export function createBandIndex() {
  /** Contents by first sight, and how many files hold each. */
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

    /** Contents held by more than one file. */
    exactContents(): string[] {
      return contents.filter((_, id) => copies[id]! > 1);
    },

    /**
     * The buckets holding more than one content: the contents sharing one band hash, each bucket
     * in sha256 order (duplicates.service verifies large buckets along that order).
     */
    buckets(): string[][] {
      const { high, band } = columns;
      const n = columns.length;
      // The sort word of band e: the low half of its hash above e.
      const words = new BigUint64Array(n);
      const halves = new Uint32Array(words.buffer);
      for (let e = 0; e < n; e++) {
        halves[2 * e + HIGH] = columns.low(e);
        halves[2 * e + LOW] = e;
      }
      words.sort();
      const out: string[][] = [];
      const emit = (entries: readonly number[]) => {
        const shas = [...new Set(entries.map((e) => contents[columns.content(e)]!))];
        if (shas.length > 1) out.push(shas.sort());
      };
      for (let i = 0; i < n; ) {
        const key = halves[2 * i + HIGH];
        let j = i + 1;
        while (j < n && halves[2 * j + HIGH] === key) j++;
        if (j - i === 2) {
          // Most runs are two bands (a version and its original): no list, set or sort for them.
          const e = halves[2 * i + LOW]!;
          const f = halves[2 * i + 2 + LOW]!;
          if (band(e) === band(f) && high(e) === high(f)) {
            const a = contents[columns.content(e)]!;
            const b = contents[columns.content(f)]!;
            if (a !== b) out.push(a < b ? [a, b] : [b, a]);
          }
        } else if (j - i > 2) {
          const entries: number[] = [];
          for (let k = i; k < j; k++) entries.push(halves[2 * k + LOW]!);
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
      return out;
    },
  };
}
