/**
 * MinHash signatures of a document's text, for finding near-duplicates and versions: the share of
 * equal slots in two signatures estimates the Jaccard similarity of their sets of word 5-shingles.
 * Pure and deterministic: a fixed, seeded hash family, so signatures computed by any process, on
 * any day, compare with each other (changing the family or the shingling makes stored signatures
 * incomparable, and every document must then be extracted again).
 */

/** Slots in a signature. 128 keeps the estimate's standard error near 0.035 at similarity 0.8. */
export const SIGNATURE_LENGTH = 128;
/** Words per shingle: long enough that shared boilerplate phrasing alone does not make two texts alike. */
export const SHINGLE_WORDS = 5;
/** Texts with fewer shingles than this get no signature: a few words say nothing about a document. */
export const MIN_SHINGLES = 16;

/** Odd multipliers and seeds of the hash family, drawn once from a fixed-seed generator. */
const FAMILY = (() => {
  let state = 0x9e3779b9;
  const next = () => {
    // xorshift32: tiny and deterministic, enough to spread the family's parameters.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const mul = new Uint32Array(SIGNATURE_LENGTH);
  const seed = new Uint32Array(SIGNATURE_LENGTH);
  for (let i = 0; i < SIGNATURE_LENGTH; i++) {
    mul[i] = next() | 1;
    seed[i] = next();
  }
  return { mul, seed };
})();

/** FNV-1a over a string's UTF-16 code units, finished with murmur3's avalanche step. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const WORD = /[\p{L}\p{N}]+/gu;

/** The distinct hashed word 5-shingles of a text (lower-cased; punctuation and spacing ignored). */
export function shingleHashes(text: string): Set<number> {
  const words = text.toLowerCase().match(WORD) ?? [];
  const out = new Set<number>();
  for (let i = 0; i + SHINGLE_WORDS <= words.length; i++) {
    out.add(hashString(words.slice(i, i + SHINGLE_WORDS).join(' ')));
  }
  return out;
}

/**
 * The MinHash signature of a text (unsigned 32-bit values), or undefined when the text is too short
 * to say anything. Linear in the text: one string hash per shingle, then SIGNATURE_LENGTH
 * multiply-xorshift permutations of each distinct shingle hash.
 */
export function minhashSignature(text: string): number[] | undefined {
  const shingles = shingleHashes(text);
  if (shingles.size < MIN_SHINGLES) return undefined;
  const { mul, seed } = FAMILY;
  const min = new Uint32Array(SIGNATURE_LENGTH).fill(0xffffffff);
  for (const x of shingles) {
    for (let i = 0; i < SIGNATURE_LENGTH; i++) {
      let h = Math.imul(x ^ seed[i]!, mul[i]!);
      h ^= h >>> 15;
      h = Math.imul(h, 0x2c1b3c6d);
      h ^= h >>> 12;
      const v = h >>> 0;
      if (v < min[i]!) min[i] = v;
    }
  }
  return Array.from(min);
}

/**
 * Estimated Jaccard similarity of two signatures (0..1): the share of slots where they agree.
 * Signed and unsigned forms of the same 32-bit values compare equal (the store keeps int4).
 */
export function estimateSimilarity(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  if (n === 0) return 0;
  let same = 0;
  for (let i = 0; i < n; i++) if ((a[i]! | 0) === (b[i]! | 0)) same++;
  return same / n;
}
