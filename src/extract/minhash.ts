/**
 * MinHash signatures of a document's text, for finding near-duplicates and versions: the share of
 * equal slots in two signatures estimates the Jaccard similarity of their sets of word 5-shingles.
 * Pure and deterministic: fixed hash functions, so signatures computed by any process, on
 * any day, compare with each other (changing the hashing or the shingling makes stored signatures
 * incomparable: they must then be computed again, which `docsight duplicates backfill` does for
 * signatures of an older format, from the stored text).
 *
 * Signing runs on every extracted text, so it is written for speed (issue 19: signatures and
 * detectors add at most 15 % to extraction): one pass over the text, two code units hashed a step,
 * one finaliser a shingle, no string, array or set built for words or shingles.
 */

/** Slots in a signature. 128 keeps the estimate's standard error near 0.035 at similarity 0.8. */
export const SIGNATURE_LENGTH = 128;
/** Words per shingle: long enough that shared boilerplate phrasing alone does not make two texts alike. */
export const SHINGLE_WORDS = 5;
/** Texts with fewer shingles than this get no signature: a few words say nothing about a document. */
export const MIN_SHINGLES = 16;

/** Word characters: letters and digits of any script. */
const WORD_CHAR = /^[\p{L}\p{N}]$/u;

/**
 * What each UTF-16 code unit is to the word scanner, learnt on first sight (0) for units outside
 * ASCII: NOT_WORD, SPECIAL (a surrogate, or a letter whose lower case is two units: İ), or else
 * the lower-case unit of a word character.
 */
const UNIT = new Uint16Array(0x10000);
const NOT_WORD = 0xffff;
const SPECIAL = 0xfffe;
for (let c = 0; c < 128; c++) {
  const digit = c >= 48 && c <= 57;
  const lower = c >= 97 && c <= 122;
  const upper = c >= 65 && c <= 90;
  UNIT[c] = digit || lower ? c : upper ? c + 32 : NOT_WORD;
}

function learn(c: number): number {
  let u = NOT_WORD;
  if (c >= 0xd800 && c <= 0xdfff) u = SPECIAL;
  else {
    const ch = String.fromCharCode(c);
    if (WORD_CHAR.test(ch)) {
      const lower = ch.toLowerCase();
      u = lower.length === 1 ? lower.charCodeAt(0) : SPECIAL;
    }
  }
  UNIT[c] = u;
  return u;
}

/** The table's answer for the unit at `i` (which must be inside the text). */
function unitAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return UNIT[c] || learn(c);
}

/** FNV-1a's 32-bit prime and offset basis. */
const FNV_PRIME = 0x01000193;
const FNV_OFFSET = 0x811c9dc5 | 0;

/**
 * Code units of the word character at `i` of `text`: 1 for a BMP letter or digit, 2 for an astral
 * one, 0 when none starts there (not a letter or digit, or a lone surrogate).
 */
function wordCharLength(text: string, i: number): number {
  const u = unitAt(text, i);
  if (u !== SPECIAL) return u === NOT_WORD ? 0 : 1;
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdfff) return 1;
  const cp = text.codePointAt(i)!;
  return cp > 0xffff && WORD_CHAR.test(String.fromCodePoint(cp)) ? 2 : 0;
}

/** Where the word read by `slowWordHash` ends. */
let slowWordEnd = 0;

/**
 * The hash of the word starting at `start`, built the plain way: its characters lower-cased one by
 * one into a string, then hashed (`pairHash`). For the rare words that hold a character the table
 * cannot lower-case to one unit (astral letters, İ); sets `slowWordEnd`.
 */
function slowWordHash(text: string, start: number): number {
  let lower = '';
  let i = start;
  while (i < text.length) {
    const length = wordCharLength(text, i);
    if (length === 0) break;
    lower += text.slice(i, i + length).toLowerCase();
    i += length;
  }
  slowWordEnd = i;
  return pairHash(lower);
}

/** FNV-1a over a string's code units taken two at a time (u0 | u1 << 16), a last odd one alone. */
function pairHash(lower: string): number {
  let h = FNV_OFFSET;
  let k = 0;
  for (; k + 1 < lower.length; k += 2) h = Math.imul(h ^ (lower.charCodeAt(k) | (lower.charCodeAt(k + 1) << 16)), FNV_PRIME);
  if (k < lower.length) h = Math.imul(h ^ lower.charCodeAt(k), FNV_PRIME);
  return h;
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

/** The odd multipliers of a shingle's five word hashes, by position (order matters: "a b" is not "b a"). */
const K0 = 0x9e3779b1 | 0;
const K1 = 0x85ebca77 | 0;
const K2 = 0xc2b2ae3d | 0;
const K3 = 0x27d4eb2f | 0;
const K4 = 0x165667b1 | 0;

/** Bits of a shingle's hash that pick its slot (SIGNATURE_LENGTH = 2^7); the other 25 are its value. */
const SLOT_SHIFT = 25;
const VALUE_MASK = (1 << SLOT_SHIFT) - 1;
/** Added to a value borrowed by an empty slot, per slot of distance, so borrowed slots differ. */
const BORROW_STEP = 0x9e3779b1;
/** Set in every value of a signature of this format, clear in at least one of every older one. */
const FORMAT_BIT = 0x80000000;
/** Above every value (25 bits). */
const EMPTY = 0x7fffffff;
/** The least value per slot, and the first distinct shingles, reused by every call (signing is synchronous). */
const least = new Int32Array(SIGNATURE_LENGTH);
const firstDistinct = new Int32Array(MIN_SHINGLES);

/**
 * The MinHash signature of a text (unsigned 32-bit values), or undefined when the text is too short
 * to say anything.
 *
 * Words: runs of letters and digits (Unicode; punctuation and spacing ignored), each character
 * lower-cased on its own. A word's hash is FNV-1a over its lower-case code units two at a time
 * (`pairHash`); a shingle is five words in a row, its hash mixInt(K0·w0 + K1·w1 + ... + K4·w4)
 * (32-bit arithmetic, so two shingles collide only as two random 32-bit values do).
 *
 * Signature: one-permutation hashing. A shingle's top 7 bits pick one of SIGNATURE_LENGTH slots,
 * the other 25 are its value, and a slot keeps its least value; an empty slot borrows from the next
 * filled one (rotation densification), so two texts agree on a slot with the probability that
 * their shingle sets agree on its minimum, as with SIGNATURE_LENGTH separate hash functions, at one
 * hash per shingle. A repeated shingle changes no minimum, so shingles are not collected into a
 * set: only the first MIN_SHINGLES distinct ones are kept, to tell a text too short.
 *
 * Every value has its top bit (FORMAT_BIT) set: signatures of the format before this one (which
 * compare with these as unrelated) have at least one value without it, so they can be found and
 * signed again (`isCurrentSignature`, `docsight duplicates backfill`).
 */
export function minhashSignature(text: string): number[] | undefined {
  least.fill(EMPTY);
  let distinct = 0;
  // The last five word hashes (SHINGLE_WORDS), oldest first.
  let w0 = 0;
  let w1 = 0;
  let w2 = 0;
  let w3 = 0;
  let w4 = 0;
  let words = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    let u = unitAt(text, i);
    if (u === NOT_WORD) {
      i++;
      continue;
    }
    const start = i;
    // A word, two units a step through the table; a unit it cannot lower-case alone sends the
    // whole word to the plain path.
    let h = FNV_OFFSET;
    let special = u === SPECIAL;
    while (!special) {
      if (i + 1 >= n) {
        h = Math.imul(h ^ u, FNV_PRIME);
        i++;
        break;
      }
      const v = unitAt(text, i + 1);
      if (v === NOT_WORD) {
        h = Math.imul(h ^ u, FNV_PRIME);
        i += 2;
        break;
      }
      if (v === SPECIAL) special = true;
      else {
        h = Math.imul(h ^ (u | (v << 16)), FNV_PRIME);
        i += 2;
        if (i >= n) break;
        u = unitAt(text, i);
        if (u === NOT_WORD) {
          i++;
          break;
        }
        special = u === SPECIAL;
      }
    }
    if (special) {
      h = slowWordHash(text, start);
      if (slowWordEnd === start) {
        // No word starts here after all (a lone surrogate, an astral symbol).
        i = start + 1;
        continue;
      }
      i = slowWordEnd;
    }
    w0 = w1;
    w1 = w2;
    w2 = w3;
    w3 = w4;
    w4 = h;
    if (++words < SHINGLE_WORDS) continue;
    const x = mixInt((Math.imul(w0, K0) + Math.imul(w1, K1) + Math.imul(w2, K2) + Math.imul(w3, K3) + Math.imul(w4, K4)) | 0);
    if (distinct < MIN_SHINGLES) distinct = rememberDistinct(x, distinct);
    const slot = x >>> SLOT_SHIFT;
    const v = x & VALUE_MASK;
    if (v < least[slot]!) least[slot] = v;
  }
  if (distinct < MIN_SHINGLES) return undefined;
  const out = new Array<number>(SIGNATURE_LENGTH);
  for (let s = 0; s < SIGNATURE_LENGTH; s++) {
    let k = s;
    let d = 0;
    while (least[k] === EMPTY) {
      k = (k + 1) & (SIGNATURE_LENGTH - 1);
      d++;
    }
    out[s] = ((least[k]! + Math.imul(d, BORROW_STEP)) | FORMAT_BIT) >>> 0;
  }
  return out;
}

/** Keep `x` among the first distinct shingles unless it is one already; the new count. */
function rememberDistinct(x: number, distinct: number): number {
  for (let k = 0; k < distinct; k++) if (firstDistinct[k] === x) return distinct;
  firstDistinct[distinct] = x;
  return distinct + 1;
}

/**
 * Whether a stored signature is of this format (every value has FORMAT_BIT; int4 or unsigned
 * alike). An older one compares with today's as unrelated and must be computed again.
 */
export function isCurrentSignature(signature: readonly number[]): boolean {
  return signature.length === SIGNATURE_LENGTH && signature.every((v) => (v | 0) < 0);
}

/**
 * Estimated Jaccard similarity of two signatures (0..1): the share of slots where they agree.
 * Signed and unsigned forms of the same 32-bit values compare equal (the store keeps int4).
 */
export function estimateSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  if (n === 0) return 0;
  let same = 0;
  for (let i = 0; i < n; i++) if ((a[i]! | 0) === (b[i]! | 0)) same++;
  return same / n;
}
