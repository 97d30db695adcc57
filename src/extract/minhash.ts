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

/** Word characters outside ASCII (letters and digits of any script), tested once per code unit value. */
const WORD_CHAR = /[\p{L}\p{N}]/uy;
/** 0: not known yet, 1: a word character, 2: not; for BMP code units outside surrogates. */
const BMP_CLASS = new Uint8Array(0x10000);
for (let c = 0; c < 128; c++) BMP_CLASS[c] = (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) ? 1 : 2;

/** Code units of the word character at `i` of `s` (2 for an astral letter), 0 when none starts there. */
function wordCharAt(s: string, i: number, c: number): number {
  if (c < 0xd800 || c > 0xdfff) {
    let k = BMP_CLASS[c]!;
    if (k === 0) {
      WORD_CHAR.lastIndex = 0;
      BMP_CLASS[c] = k = WORD_CHAR.test(String.fromCharCode(c)) ? 1 : 2;
    }
    return k === 1 ? 1 : 0;
  }
  WORD_CHAR.lastIndex = i;
  return WORD_CHAR.test(s) ? WORD_CHAR.lastIndex - i : 0;
}

/**
 * murmur3's 32-bit finaliser (every input bit moves every output bit), as a signed 32-bit value:
 * it stays an integer in registers instead of a boxed number on the hot paths.
 */
function mixInt(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Added to a value borrowed by an empty slot, per slot of distance, so borrowed slots differ. */
const BORROW_STEP = 0x9e3779b1;
const EMPTY = 0xffffffff;

/**
 * The MinHash signature of a text (unsigned 32-bit values), or undefined when the text is too short
 * to say anything.
 *
 * Shingles: the text is lower-cased, its words are the runs of Unicode letters and digits
 * (punctuation and spacing ignored), each word is hashed (FNV-1a over its UTF-16 code units,
 * finished with mix) as it is read, and a shingle's hash combines its five words' hashes in order:
 * one pass over the text, no word or shingle string built.
 *
 * Signature: one-permutation hashing. Each shingle is hashed once, its top bits pick one of
 * SIGNATURE_LENGTH slots and the rest are its value, and a slot keeps its least value; an empty slot
 * borrows from the next filled one (rotation densification), so two texts agree on a slot with the
 * probability that their shingle sets agree on its minimum, as with SIGNATURE_LENGTH separate hash
 * functions, at one hash per shingle instead of SIGNATURE_LENGTH. A repeated shingle changes no
 * minimum, so shingles are not collected into a set: only the first MIN_SHINGLES distinct ones are
 * kept, to tell a text too short.
 */
export function minhashSignature(text: string): number[] | undefined {
  const min = new Uint32Array(SIGNATURE_LENGTH).fill(EMPTY);
  const firstDistinct: number[] = [];
  const lower = text.toLowerCase();
  // The last five word hashes (SHINGLE_WORDS), oldest first.
  let w0 = 0;
  let w1 = 0;
  let w2 = 0;
  let w3 = 0;
  let w4 = 0;
  let words = 0;
  let h = 0;
  let inWord = false;
  const n = lower.length;
  // One step past the end, as a space, ends the last word.
  for (let i = 0; i <= n; ) {
    const c = i < n ? lower.charCodeAt(i) : 32;
    const units = c < 128 ? (BMP_CLASS[c] === 1 ? 1 : 0) : wordCharAt(lower, i, c);
    if (units > 0) {
      if (!inWord) {
        h = 0x811c9dc5 | 0;
        inWord = true;
      }
      h = Math.imul(h ^ c, 0x01000193);
      if (units === 2) h = Math.imul(h ^ lower.charCodeAt(i + 1), 0x01000193);
      i += units;
      continue;
    }
    i++;
    if (!inWord) continue;
    inWord = false;
    w0 = w1;
    w1 = w2;
    w2 = w3;
    w3 = w4;
    w4 = mixInt(h);
    if (++words < SHINGLE_WORDS) continue;
    // The shingle: mix((x ^ word_j) + j) over its five words from x = 0x9e3779b9.
    let x = mixInt(0x9e3779b9 ^ w0);
    x = mixInt(((x ^ w1) + 1) | 0);
    x = mixInt(((x ^ w2) + 2) | 0);
    x = mixInt(((x ^ w3) + 3) | 0);
    x = mixInt(((x ^ w4) + 4) | 0);
    if (firstDistinct.length < MIN_SHINGLES && !firstDistinct.includes(x)) firstDistinct.push(x);
    const slotHash = mixInt(x ^ 0x5bd1e995);
    // SIGNATURE_LENGTH is a power of two: the low bits are the unsigned remainder.
    const slot = slotHash & (SIGNATURE_LENGTH - 1);
    const v = mixInt(slotHash ^ 0x27d4eb2f) >>> 1;
    if (v < min[slot]!) min[slot] = v;
  }
  if (firstDistinct.length < MIN_SHINGLES) return undefined;
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
