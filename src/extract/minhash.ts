/**
 * MinHash signatures of a document's text, for finding near-duplicates and versions: the share of
 * equal slots in two signatures estimates the Jaccard similarity of their sets of word 5-shingles.
 * Pure and deterministic: fixed hash functions, so signatures computed by any process, on
 * any day, compare with each other (changing the hashing or the shingling makes stored signatures
 * incomparable, and every document must then be extracted again).
 */

/** Slots in a signature. 128 keeps the estimate's standard error near 0.035 at similarity 0.8. */
export const SIGNATURE_LENGTH = 128;
/** Words per shingle: long enough that shared boilerplate phrasing alone does not make two texts alike. */
export const SHINGLE_WORDS = 5;
/** Texts with fewer shingles than this get no signature: a few words say nothing about a document. */
export const MIN_SHINGLES = 16;

/** murmur3's 32-bit finaliser: every input bit moves every output bit. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over a string's UTF-16 code units, finished with mix. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix(h);
}

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * The distinct hashed word 5-shingles of a text (lower-cased; punctuation and spacing ignored).
 * Each word is hashed once and a shingle's hash combines its words' hashes in order, so no
 * shingle string is ever built.
 */
export function shingleHashes(text: string): Set<number> {
  const words = text.toLowerCase().match(WORD) ?? [];
  const hashes = new Uint32Array(words.length);
  for (let i = 0; i < words.length; i++) hashes[i] = hashString(words[i]!);
  const out = new Set<number>();
  for (let i = 0; i + SHINGLE_WORDS <= words.length; i++) {
    let h = 0x9e3779b9;
    for (let j = 0; j < SHINGLE_WORDS; j++) h = mix((h ^ hashes[i + j]!) + j);
    out.add(h);
  }
  return out;
}

/** Added to a value borrowed by an empty slot, per slot of distance, so borrowed slots differ. */
const BORROW_STEP = 0x9e3779b1;

/**
 * The MinHash signature of a text (unsigned 32-bit values), or undefined when the text is too short
 * to say anything. One-permutation hashing: each distinct shingle is hashed once, its top bits pick
 * one of SIGNATURE_LENGTH slots and the rest are its value, and a slot keeps its least value; an
 * empty slot borrows from the next filled one (rotation densification), so two texts agree on a slot
 * with the probability that their shingle sets agree on its minimum, as with SIGNATURE_LENGTH
 * separate hash functions, at one hash per shingle instead of SIGNATURE_LENGTH.
 */
export function minhashSignature(text: string): number[] | undefined {
  const shingles = shingleHashes(text);
  if (shingles.size < MIN_SHINGLES) return undefined;
  const EMPTY = 0xffffffff;
  const min = new Uint32Array(SIGNATURE_LENGTH).fill(EMPTY);
  for (const x of shingles) {
    const h = mix(x ^ 0x5bd1e995);
    const slot = h % SIGNATURE_LENGTH;
    const v = mix(h ^ 0x27d4eb2f) >>> 1;
    if (v < min[slot]!) min[slot] = v;
  }
  const out = new Array<number>(SIGNATURE_LENGTH);
  for (let i = 0; i < SIGNATURE_LENGTH; i++) {
    let k = i;
    let d = 0;
    while (min[k] === EMPTY) {
      k = (k + 1) % SIGNATURE_LENGTH;
      d++;
    }
    out[i] = (min[k]! + Math.imul(d, BORROW_STEP)) >>> 0;
  }
  return out;
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
