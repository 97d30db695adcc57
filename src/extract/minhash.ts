/**
 * MinHash signatures of a document's text, for finding near-duplicates and versions: the share of
 * equal slots in two signatures estimates the Jaccard similarity of their sets of word 5-shingles.
 * Pure and deterministic: fixed hash functions, so signatures computed by any process, on
 * any day, compare with each other (changing the hashing or the shingling makes stored signatures
 * incomparable: they must then be computed again, which `docsight duplicates backfill` does for
 * signatures of an older format, from the stored text).
 *
 * Signing runs on every extracted text, so it is written for speed (issue 19: signatures and
 * detectors add at most 15 % to extraction): one pass over the text's code units (copied once
 * into a typed array), two hashed a step, one finaliser a shingle, no string, array or set built
 * for words or shingles, and every number of the loop a literal (const enums). The same pass
 * counts the text (`scanText`) as `countText` does, so a signed text is not read a second time
 * for its counts.
 */

import { Buffer } from 'node:buffer';
import { Unit, unitKind, type TextCounts } from './text-stats.ts';

/**
 * The numbers of the signature. Const enums, like every number the signing loop uses: their values
 * are written into the code, where a module constant is a load and a check at each use.
 */
const enum Shape {
  /** Slots in a signature. 128 keeps the estimate's standard error near 0.035 at similarity 0.8. */
  Slots = 128,
  /** Words per shingle: long enough that shared boilerplate phrasing alone does not make two texts alike. */
  Words = 5,
  /** Texts with fewer shingles than this get no signature: a few words say nothing about a document. */
  MinShingles = 16,
}
export const SIGNATURE_LENGTH: number = Shape.Slots;
export const SHINGLE_WORDS: number = Shape.Words;
export const MIN_SHINGLES: number = Shape.MinShingles;

/** Word characters: letters and digits of any script. */
const WORD_CHAR = /^[\p{L}\p{N}]$/u;

/**
 * What each UTF-16 code unit is to the word scanner: the lower-case unit of a word character, or
 * one of the marks below (no lower-case unit of a letter or digit is Mark.Unknown or above: the
 * highest is U+FFDC). Units outside ASCII are learnt on first sight, so the scanner tests one
 * bound per unit (`u < Mark.Unknown`) and leaves its loop only at the end of a word or for a unit
 * it has not seen before. A unit that is no word character is marked as the counts see it
 * (text-stats.ts `unitKind`): other text (punctuation, symbols), a space or a line break.
 */
const UNIT = new Uint16Array(0x10000);
const enum Mark {
  /** Not learnt yet. */
  Unknown = 0xfffb,
  /** A surrogate, or a letter whose lower case is two units (İ): its word goes the plain way. */
  Special = 0xfffc,
  /** No word character; the marks from here on. Text to the counts (punctuation, symbols). */
  Other = 0xfffd,
  /** Whitespace other than a line break. */
  Space = 0xfffe,
  Newline = 0xffff,
}
/** The mark of a unit that is no word character (nor a surrogate), by its kind to the counts. */
function notWordMark(c: number): number {
  const kind = unitKind(c);
  return kind === Unit.Newline ? Mark.Newline : kind === Unit.Space ? Mark.Space : Mark.Other;
}
UNIT.fill(Mark.Unknown, 128);
for (let c = 0; c < 128; c++) {
  const digit = c >= 48 && c <= 57;
  const lower = c >= 97 && c <= 122;
  const upper = c >= 65 && c <= 90;
  UNIT[c] = digit || lower ? c : upper ? c + 32 : notWordMark(c);
}

function learn(c: number): number {
  let u: number;
  if (c >= 0xd800 && c <= 0xdfff) u = Mark.Special;
  else {
    const ch = String.fromCharCode(c);
    if (WORD_CHAR.test(ch)) {
      const lower = ch.toLowerCase();
      u = lower.length === 1 ? lower.charCodeAt(0) : Mark.Special;
    } else u = notWordMark(c);
  }
  UNIT[c] = u;
  return u;
}

/** The table's answer for the unit at `i` (which must be inside the text). */
function unitAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  const u = UNIT[c]!;
  return u === Mark.Unknown ? learn(c) : u;
}

/** FNV-1a's 32-bit prime and offset basis (as a signed 32-bit value). */
const enum Fnv {
  Prime = 0x01000193,
  Offset = 0x811c9dc5 | 0,
}

/**
 * Code units of the word character at `i` of `text`: 1 for a BMP letter or digit, 2 for an astral
 * one, 0 when none starts there (not a letter or digit, or a lone surrogate).
 */
function wordCharLength(text: string, i: number): number {
  const u = unitAt(text, i);
  if (u !== Mark.Special) return u >= Mark.Other ? 0 : 1;
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdfff) return 1;
  const cp = text.codePointAt(i)!;
  return cp > 0xffff && WORD_CHAR.test(String.fromCodePoint(cp)) ? 2 : 0;
}

/** Where the word read by `slowWordHash` or `carefulWordHash` ends. */
let wordEnd = 0;

/**
 * The hash of the word starting at `start`, built the plain way: its characters lower-cased one by
 * one into a string, then hashed (`pairHash`). For the rare words that hold a character the table
 * cannot lower-case to one unit (astral letters, İ); sets `wordEnd`.
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
  wordEnd = i;
  return pairHash(lower);
}

/**
 * The hash of the word starting at `start` when the fast loop met a unit it has not learnt or
 * cannot lower-case alone: the units are learnt up to the word's end, and a word holding one the
 * table cannot lower-case goes the plain way (`slowWordHash`). Sets `wordEnd` (`start` when no
 * word starts there after all: a lone surrogate, an astral symbol).
 */
function carefulWordHash(text: string, start: number): number {
  let end = start;
  for (; end < text.length; end++) {
    const u = unitAt(text, end);
    if (u >= Mark.Other) break;
    if (u === Mark.Special) return slowWordHash(text, start);
  }
  wordEnd = end;
  let h = Fnv.Offset;
  let k = start;
  for (; k + 1 < end; k += 2) h = Math.imul(h ^ (UNIT[text.charCodeAt(k)]! | (UNIT[text.charCodeAt(k + 1)]! << 16)), Fnv.Prime);
  if (k < end) h = Math.imul(h ^ UNIT[text.charCodeAt(k)]!, Fnv.Prime);
  return h;
}

/** FNV-1a over a string's code units taken two at a time (u0 | u1 << 16), a last odd one alone. */
function pairHash(lower: string): number {
  let h = Fnv.Offset;
  let k = 0;
  for (; k + 1 < lower.length; k += 2) h = Math.imul(h ^ (lower.charCodeAt(k) | (lower.charCodeAt(k + 1) << 16)), Fnv.Prime);
  if (k < lower.length) h = Math.imul(h ^ lower.charCodeAt(k), Fnv.Prime);
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
const enum K {
  W0 = 0x9e3779b1 | 0,
  W1 = 0x85ebca77 | 0,
  W2 = 0xc2b2ae3d | 0,
  W3 = 0x27d4eb2f | 0,
  W4 = 0x165667b1 | 0,
}

const enum Slot {
  /** Bits of a shingle's hash that pick its slot (Shape.Slots = 2^7); the other 25 are its value. */
  Shift = 25,
  ValueMask = (1 << 25) - 1,
  /** Added to a value borrowed by an empty slot, per slot of distance, so borrowed slots differ. */
  BorrowStep = 0x9e3779b1,
  /** Set in every value of a signature of this format, clear in at least one of every older one. */
  FormatBit = 0x80000000,
  /** Above every value (25 bits). */
  Empty = 0x7fffffff,
}
/** The least value per slot, and the first distinct shingles, reused by every call (signing is synchronous). */
const least = new Int32Array(Shape.Slots);
const firstDistinct = new Int32Array(Shape.MinShingles);

/**
 * Code units of texts up to this length are copied into one array kept for every call (256 KiB);
 * a longer text gets an array of its own, so a thread does not hold megabytes between documents.
 */
const KEPT_UNITS = 1 << 17;
const keptUnits = new Uint16Array(KEPT_UNITS + 1);
const keptBytes = Buffer.from(keptUnits.buffer);
/** After the text's last unit: not a word character, so the word loops need no test for the end. */
const SENTINEL = 0x20;
/** UTF-16LE bytes read as a Uint16Array give the code units on little-endian machines (Node's official builds). */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * The text's code units in an array, then SENTINEL: the scanner reads a typed array, cheaper per
 * unit than charCodeAt on a string, and the copy (native, a few µs for a page) is paid once.
 */
function codeUnits(text: string): Uint16Array {
  const n = text.length;
  const units = n <= KEPT_UNITS ? keptUnits : new Uint16Array(n + 1);
  if (LITTLE_ENDIAN) (units === keptUnits ? keptBytes : Buffer.from(units.buffer)).write(text, 0, 'utf16le');
  else for (let k = 0; k < n; k++) units[k] = text.charCodeAt(k);
  units[n] = SENTINEL;
  return units;
}

/**
 * The MinHash signature of a text (unsigned 32-bit values), or undefined when the text is too short
 * to say anything.
 *
 * Words: runs of letters and digits (Unicode; punctuation and spacing ignored), each character
 * lower-cased on its own. A word's hash is FNV-1a over its lower-case code units two at a time
 * (`pairHash`); a shingle is five words in a row, its hash mixInt(K.W0·w0 + K.W1·w1 + ... + K.W4·w4)
 * (32-bit arithmetic, so two shingles collide only as two random 32-bit values do).
 *
 * Signature: one-permutation hashing. A shingle's top 7 bits pick one of SIGNATURE_LENGTH slots,
 * the other 25 are its value, and a slot keeps its least value; an empty slot borrows from the next
 * filled one (rotation densification), so two texts agree on a slot with the probability that
 * their shingle sets agree on its minimum, as with SIGNATURE_LENGTH separate hash functions, at one
 * hash per shingle. A repeated shingle changes no minimum, so shingles are not collected into a
 * set: only the first MIN_SHINGLES distinct ones are kept, to tell a text too short.
 *
 * Every value has its top bit (Slot.FormatBit) set: signatures of the format before this one (which
 * compare with these as unrelated) have at least one value without it, so they can be found and
 * signed again (`isCurrentSignature`, `docsight duplicates backfill`).
 */
export function minhashSignature(text: string): number[] | undefined {
  return scanText(text).signature;
}

/**
 * A text's MinHash signature (`minhashSignature`) and its counts, equal to `countText`'s, from one
 * pass: extraction signs every text it counts, and the counting is nearly free inside the signing
 * loop (it looks only at the units between words), where a pass of its own costs about a third of it.
 */
export function scanText(text: string): { signature: number[] | undefined; counts: TextCounts } {
  return scanUnits(codeUnits(text), text);
}

/** scanText over the text's code units (`codeUnits`: SENTINEL after the last). */
function scanUnits(units: Uint16Array, text: string): { signature: number[] | undefined; counts: TextCounts } {
  // The tables in locals: a module constant is loaded again at each use inside the loop.
  const table = UNIT;
  const minima = least;
  minima.fill(Slot.Empty);
  let distinct = 0;
  // The last five word hashes (Shape.Words), oldest first.
  let w0 = 0;
  let w1 = 0;
  let w2 = 0;
  let w3 = 0;
  let w4 = 0;
  let words = 0;
  // The counts, as countText makes them (text-stats.ts): a counted word is a run of units that are
  // not whitespace (`inRun`: the last unit read belongs to one), a paragraph a line holding one.
  // Every unit is text but spaces, line breaks and low surrogates, so the characters follow from those.
  let runs = 0;
  let spaces = 0;
  let newlines = 0;
  let lowSurrogates = 0;
  let paragraphs = 0;
  // 0 or 1 (added to `runs` rather than tested: one branch fewer a word).
  let inRun = 0;
  let lineHasText = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    let u = table[units[i]!]!;
    if (u >= Mark.Other) {
      // No word character: counted, one unit at a time (the unit after a word too, unless it is a
      // space: that one is counted where the word ends).
      if (u === Mark.Space) {
        spaces++;
        inRun = 0;
      } else if (u === Mark.Other) {
        runs += 1 - inRun;
        inRun = 1;
        lineHasText = true;
      } else {
        newlines++;
        if (lineHasText) paragraphs++;
        lineHasText = false;
        inRun = 0;
      }
      i++;
      continue;
    }
    // A word, two units a step through the table, up to a unit that is no word character (the
    // sentinel at the latest). A unit not learnt yet, or one the table cannot lower-case alone,
    // sends the word to the careful path (end < 0).
    let h = Fnv.Offset;
    let end = -1;
    if (u < Mark.Unknown) {
      let j = i;
      for (;;) {
        const v = table[units[j + 1]!]!;
        if (v >= Mark.Unknown) {
          if (v >= Mark.Other) {
            h = Math.imul(h ^ u, Fnv.Prime);
            end = j + 1;
          }
          break;
        }
        h = Math.imul(h ^ (u | (v << 16)), Fnv.Prime);
        j += 2;
        u = table[units[j]!]!;
        if (u >= Mark.Unknown) {
          if (u >= Mark.Other) end = j;
          break;
        }
      }
    }
    if (end < 0) {
      // (| 0: so the compiler keeps every word hash an integer in a register, not a boxed number.)
      h = carefulWordHash(text, i) | 0;
      if (wordEnd === i) {
        // No word starts here after all: a unit now learnt is read again above; a surrogate
        // (alone, or half of an astral symbol) is counted here: a high one is text, a low one not.
        if (table[units[i]!]! !== Mark.Special) continue;
        if (units[i]! >= 0xdc00) lowSurrogates++;
        else {
          runs += 1 - inRun;
          inRun = 1;
          lineHasText = true;
        }
        i++;
        continue;
      }
      end = wordEnd;
      // An astral letter's low surrogate is not a character of its own.
      for (let k = i + 1; k < end; k++) if (units[k]! >= 0xdc00 && units[k]! <= 0xdfff) lowSurrogates++;
    }
    runs += 1 - inRun;
    inRun = 1;
    lineHasText = true;
    // The unit after the word: a space, the usual one, is counted here; any other by the loop.
    if (table[units[end]!]! === Mark.Space && end < n) {
      spaces++;
      inRun = 0;
      i = end + 1;
    } else i = end;
    w0 = w1;
    w1 = w2;
    w2 = w3;
    w3 = w4;
    w4 = h;
    if (++words < Shape.Words) continue;
    const x = mixInt((Math.imul(w0, K.W0) + Math.imul(w1, K.W1) + Math.imul(w2, K.W2) + Math.imul(w3, K.W3) + Math.imul(w4, K.W4)) | 0);
    if (distinct < Shape.MinShingles) distinct = rememberDistinct(x, distinct);
    const slot = x >>> Slot.Shift;
    const v = x & Slot.ValueMask;
    if (v < minima[slot]!) minima[slot] = v;
  }
  if (lineHasText) paragraphs++;
  const counts: TextCounts = {
    words: runs,
    characters: n - spaces - newlines - lowSurrogates,
    charactersWithSpaces: n - lowSurrogates - newlines,
    paragraphs,
  };
  return { signature: distinct < Shape.MinShingles ? undefined : densify(minima), counts };
}

/** The signature from the least value per slot: an empty slot borrows from the next filled one. */
function densify(minima: Int32Array): number[] {
  const out = new Array<number>(Shape.Slots);
  for (let s = 0; s < Shape.Slots; s++) {
    let k = s;
    let d = 0;
    while (minima[k] === Slot.Empty) {
      k = (k + 1) & (Shape.Slots - 1);
      d++;
    }
    out[s] = ((minima[k]! + Math.imul(d, Slot.BorrowStep)) | Slot.FormatBit) >>> 0;
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
 * Whether a stored signature is of this format (every value has Slot.FormatBit; int4 or unsigned
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
