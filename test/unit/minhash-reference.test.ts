/**
 * The one-pass MinHash (src/extract/minhash.ts) must give exactly the signatures of the plain
 * definition it replaced: lower-case the text, take the runs of Unicode letters and digits as words,
 * hash each word (FNV-1a, murmur3's finaliser), combine five in order into a shingle, keep the
 * distinct shingles and sign them. Stored signatures stay comparable only if the values are equal,
 * on any script, astral letters, combining marks and case mappings that change a string's length.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MIN_SHINGLES, minhashSignature, SIGNATURE_LENGTH } from '../../src/extract/minhash.ts';

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix(h);
}

/** The definition, as the signatures stored so far were computed. */
function referenceSignature(text: string): number[] | undefined {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const hashes = words.map(hashString);
  const shingles = new Set<number>();
  for (let i = 0; i + 5 <= words.length; i++) {
    let h = 0x9e3779b9;
    for (let j = 0; j < 5; j++) h = mix((h ^ hashes[i + j]!) + j);
    shingles.add(h);
  }
  if (shingles.size < MIN_SHINGLES) return undefined;
  const min = new Array<number>(SIGNATURE_LENGTH).fill(0xffffffff);
  for (const x of shingles) {
    const h = mix(x ^ 0x5bd1e995);
    const slot = h % SIGNATURE_LENGTH;
    const v = mix(h ^ 0x27d4eb2f) >>> 1;
    if (v < min[slot]!) min[slot] = v;
  }
  return min.map((_, i) => {
    let k = i;
    let d = 0;
    while (min[k] === 0xffffffff) {
      k = (k + 1) % SIGNATURE_LENGTH;
      d++;
    }
    return (min[k]! + Math.imul(d, 0x9e3779b1)) >>> 0;
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

  it('gives no signature exactly where the definition gives none (few distinct shingles)', () => {
    const repeated = 'de klant de klant de klant '.repeat(50);
    assert.equal(referenceSignature(repeated), undefined);
    assert.equal(minhashSignature(repeated), undefined);
  });
});
