/**
 * The one-pass MinHash (src/extract/minhash.ts) must give exactly the signatures of its plain
 * definition: take the runs of Unicode letters and digits as words, lower-case each code point of
 * a word on its own, hash the word (FNV-1a over its code units two at a time), combine five in a
 * row into a shingle (murmur3's finaliser of K0·w0 + ... + K4·w4), keep the distinct shingles and sign them
 * by one-permutation hashing (top 7 bits: the slot, low 25: the value) with rotation
 * densification, every value marked with the format bit. Signatures computed by any process must
 * compare, so the values must be equal, on any script, astral letters, combining marks and case
 * mappings that change a string's length.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { estimateSimilarity, isCurrentSignature, MIN_SHINGLES, minhashSignature, scanText, SIGNATURE_LENGTH } from '../../src/extract/minhash.ts';
import { countText } from '../../src/extract/text-stats.ts';
import { seeded } from '../support/docx-fixtures.ts';

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the word's lower-case code units two at a time (u0 | u1 << 16), a last odd one alone. */
function hashWord(word: string): number {
  const lower = [...word].map((ch) => ch.toLowerCase()).join('');
  const units = Array.from({ length: lower.length }, (_, k) => lower.charCodeAt(k));
  let h = 0x811c9dc5;
  for (let i = 0; i < units.length; i += 2) {
    h ^= i + 1 < units.length ? units[i]! + units[i + 1]! * 65536 : units[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

const K = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f, 0x165667b1];

/** The distinct shingle hashes of a text, by the definition. */
function shingleSet(text: string): Set<number> {
  const words = text.match(/[\p{L}\p{N}]+/gu) ?? [];
  const hashes = words.map(hashWord);
  const shingles = new Set<number>();
  for (let i = 0; i + 5 <= words.length; i++) {
    let sum = 0;
    for (let j = 0; j < 5; j++) sum = (sum + Math.imul(hashes[i + j]!, K[j]!)) | 0;
    shingles.add(mix(sum));
  }
  return shingles;
}

/** The definition, with strings, arrays and a set. */
function referenceSignature(text: string): number[] | undefined {
  const shingles = shingleSet(text);
  if (shingles.size < MIN_SHINGLES) return undefined;
  const min = new Array<number>(SIGNATURE_LENGTH).fill(Infinity);
  for (const x of shingles) {
    const slot = x >>> 25;
    const v = x & 0x1ffffff;
    if (v < min[slot]!) min[slot] = v;
  }
  return min.map((_, i) => {
    let k = i;
    let d = 0;
    while (min[k] === Infinity) {
      k = (k + 1) % SIGNATURE_LENGTH;
      d++;
    }
    return (((min[k]! + d * 0x9e3779b1) % 2 ** 32) | 0x80000000) >>> 0;
  });
}

const PIECES = [
  'offerte', 'Klant', 'BTW', 'één', 'Ëindhoven', 'straße', 'İstanbul', 'ΣΟΦΙΑ', 'σοφίας', '東京都', '😀', '𝐀𝐁𝐂', 'e\u0301',
  '2024', '٣٤٥', 'ǅemal', 'Ⅻ', 'ﬀ', '\uD800', '\uDC00', 'KELVIN\u212A', 'Å', 'x', 'a1b2',
];
const SEPARATORS = [' ', ' ', ' ', '\n', '. ', ', ', '-', '\f', '\t', '\u00a0', '—'];

function seededText(seed: number, words: number): string {
  let s = seed >>> 0 || 1;
  const next = (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  let text = '';
  for (let i = 0; i < words; i++) text += PIECES[next(PIECES.length)]! + SEPARATORS[next(SEPARATORS.length)]!;
  return text;
}

describe('MinHash in one pass', () => {
  it('gives the signatures of the plain definition, for every script and separator', () => {
    let signed = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const text = seededText(seed, seed % 7 === 0 ? 12 : 40 + seed);
      const expected = referenceSignature(text);
      assert.deepEqual(minhashSignature(text), expected, `text ${seed}: ${JSON.stringify(text.slice(0, 80))}`);
      if (expected) signed++;
    }
    assert.ok(signed > 300, 'most texts are long enough to be signed');
  });

  it('marks every value with the format bit, which signatures of the format before lack', () => {
    const sig = minhashSignature(seededText(3, 200))!;
    assert.ok(isCurrentSignature(sig));
    assert.ok(isCurrentSignature(sig.map((v) => v | 0)), 'as stored (int4)');
    // The format before: values of 31 bits in filled slots.
    assert.equal(isCurrentSignature([...sig.slice(1), 0x7fffffff]), false);
    assert.equal(isCurrentSignature(sig.slice(1)), false, 'another length');
  });

  it('gives no signature exactly where the definition gives none (few distinct shingles)', () => {
    const repeated = 'de klant de klant de klant '.repeat(50);
    assert.equal(referenceSignature(repeated), undefined);
    assert.equal(minhashSignature(repeated), undefined);
  });

  it('estimates the exact Jaccard similarity of shingle sets within the error 128 slots allow, without bias', () => {
    // Pairs of texts: a base of 600 words and a copy with a share of its words replaced, so the
    // exact similarity of their shingle sets spreads over 0.2..1.
    const vocabulary = Array.from({ length: 400 }, (_, i) => `w${i.toString(36)}x`);
    const random = seeded(99);
    const next = (n: number) => Math.floor(random() * n);
    const errors: number[] = [];
    for (let pair = 0; pair < 300; pair++) {
      const base = Array.from({ length: 600 }, () => vocabulary[next(vocabulary.length)]!);
      const copy = [...base];
      const edits = next(40);
      for (let e = 0; e < edits; e++) copy[next(copy.length)] = vocabulary[next(vocabulary.length)]!;
      const a = shingleSet(base.join(' '));
      const b = shingleSet(copy.join(' '));
      const shared = [...a].filter((x) => b.has(x)).length;
      const exact = shared / (a.size + b.size - shared);
      const estimate = estimateSimilarity(minhashSignature(base.join(' '))!, minhashSignature(copy.join(' '))!);
      errors.push(estimate - exact);
      // Standard error sqrt(J(1-J)/128) is at most 0.044: five of it is never reached by chance.
      assert.ok(Math.abs(estimate - exact) < 0.2, `pair ${pair}: exact ${exact.toFixed(3)}, estimate ${estimate}`);
    }
    const mean = errors.reduce((x, y) => x + y, 0) / errors.length;
    const rms = Math.sqrt(errors.reduce((x, y) => x + y * y, 0) / errors.length);
    assert.ok(Math.abs(mean) < 0.01, `bias ${mean}`);
    assert.ok(rms < 0.045, `root mean square error ${rms}`);
  });

  it('gives the signatures of the definition at every edge of the word loop: text ends, odd and even words, units met for the first time', () => {
    // Words of each length 1..6 and each parity of start, ending the text or not; ASCII and
    // non-ASCII first, middle and last units; a character seen for the first time mid-word.
    const words = ['a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'üb', 'bü', 'aüb', 'İx', 'xİ', 'a\uD835\uDC00', '\uD800a', 'a\uDC00', 'ǈb', 'b\u0B95'];
    const separators = [' ', '. ', '', '\n\n', '\uD800'];
    for (let seed = 1; seed <= 300; seed++) {
      let s = seed;
      const next = (n: number) => {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        return (s >>> 8) % n;
      };
      let text = separators[next(2)]!.repeat(next(3));
      const count = 20 + next(30);
      for (let w = 0; w < count; w++) text += words[next(words.length)]! + (w < count - 1 || next(2) === 0 ? separators[next(separators.length)]! : '');
      assert.deepEqual(minhashSignature(text), referenceSignature(text), `text ${seed}: ${JSON.stringify(text)}`);
    }
  });

  it('gives the same signature for a text signed after a longer one, and for texts longer than the array kept between calls', () => {
    const short = seededText(5, 300);
    const before = minhashSignature(short);
    const long = seededText(6, 30_000);
    assert.ok(long.length > 1 << 17, 'longer than the kept array');
    assert.deepEqual(minhashSignature(long), referenceSignature(long));
    assert.deepEqual(minhashSignature(short), before);
    assert.deepEqual(minhashSignature(short), referenceSignature(short));
  });

  it('keeps the values of signatures stored before (pinned: computing them differently must not change them)', () => {
    // Digests of signatures computed by the implementation of May 2026 (format 2); equal values keep
    // stored signatures comparable, so a faster implementation must give exactly these.
    const digest = (text: string) => createHash('sha256').update(JSON.stringify(minhashSignature(text))).digest('hex').slice(0, 16);
    const words = 'Offerte dakrenovatie Überprüfung straße ÉÉN één İstanbul ΣΟΦΙΑ 東京都 😀 𝐀𝐁𝐂 e\u0301 2024 ٣٤٥ ǅemal KELVIN\u212A Å a1b2 x'.split(' ');
    const text = (seed: number, n: number) => {
      let s = seed;
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        out.push(words[(s >>> 16) % words.length]!, [' ', '. ', '\n', ', ', '\u00a0'][(s >>> 8) % 5]!);
      }
      return out.join('');
    };
    assert.equal(digest('the quick brown fox jumps over the lazy dog and then some more words follow here to make a text long enough '.repeat(3)), '5006c85aa81a7bf9');
    assert.equal(digest(text(7, 400)), '91cc9e7776e442c8');
    assert.equal(digest(text(11, 40_000)), '069c90fb8b4605aa');
  });
});

describe('Counts in the signing pass', () => {
  // scanText counts a text in the pass that signs it; its counts must be countText's, whatever
  // the text holds: every kind of whitespace, line ends, punctuation between and inside words,
  // astral letters and symbols, lone surrogates of either half, and text at either end.
  const SPACES = [' ', '\t', '\v', '\f', '\r', '\r\n', '\n', '\n\n', '\u00a0', '\u2003', '\u200b', '\u3000', ' \n ', ''];
  const OTHERS = ['.', ', ', '-', '—', '(', ')', '"', '€', '½', '😀', '\uD800', '\uDC00', '\uDC00\uDC00'];

  function mixedText(seed: number, words: number): string {
    let s = seed >>> 0 || 1;
    const next = (n: number) => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s >>> 8) % n;
    };
    let text = next(3) === 0 ? SPACES[next(SPACES.length)]! : '';
    for (let i = 0; i < words; i++) {
      text += PIECES[next(PIECES.length)]!;
      if (next(4) === 0) text += OTHERS[next(OTHERS.length)]!;
      text += SPACES[next(SPACES.length)]!;
    }
    return text;
  }

  it('gives the counts countText gives, and the signature of the definition, on texts of every kind of unit', () => {
    for (let seed = 1; seed <= 600; seed++) {
      const text = mixedText(seed, seed % 5 === 0 ? 3 : 10 + (seed % 90));
      const scanned = scanText(text);
      assert.deepEqual(scanned.counts, countText(text), `text ${seed}: ${JSON.stringify(text)}`);
      assert.deepEqual(scanned.signature, referenceSignature(text), `text ${seed}`);
    }
  });

  it('counts texts with nothing to sign: empty, only whitespace, only punctuation, a single word', () => {
    for (const text of ['', ' ', '\n\n\n', ' \t\u3000\n', '...', '— — —', '\uDC00', '\uD800\uDC00', 'woord', ' woord\n', '\uD835\uDC00']) {
      const scanned = scanText(text);
      assert.deepEqual(scanned.counts, countText(text), JSON.stringify(text));
      assert.equal(scanned.signature, undefined);
    }
  });

  it('counts units it meets for the first time, inside and between words, as countText does', () => {
    // Units no other test uses, so this is the scanner's first sight of them in this process.
    const text = 'aa\u2005bb\u2006cc\u2028dd ‰ee ※ff ⁂ \u1680gg\u2009hh ᚠᚡ ſx ǈy ⅻ \u2007\u2008 end'.repeat(3);
    assert.deepEqual(scanText(text).counts, countText(text));
    assert.deepEqual(scanText(text).counts, countText(text), 'and again, now learnt');
  });

  it('counts texts longer than the array kept between calls', () => {
    const long = mixedText(9, 40_000);
    assert.ok(long.length > 1 << 17);
    assert.deepEqual(scanText(long).counts, countText(long));
  });
});
