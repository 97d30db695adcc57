import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_EXTRACT_LIMITS, extractFromBytes } from '../../src/extract/index.ts';
import { countText, FUNCTION_WORDS, functionWordScores, type FunctionWordScores, type TextCounts } from '../../src/extract/text-stats.ts';
import { buildDocx, escapeXml, wTable } from '../support/extract-fixtures.ts';
import { seeded } from '../support/docx-fixtures.ts';

/**
 * countText as it was written before the fast paths (one branchy step per UTF-16 code unit),
 * kept as the reference: the engine's counts must not change with how they are computed.
 */
function referenceCount(text: string): TextCounts {
  const space = (c: number) => c === 9 || c === 10 || c === 11 || c === 12 || c === 13 || c === 32 || c === 0xa0 || (c >= 0x2000 && c <= 0x200b) || c === 0x3000;
  let words = 0;
  let characters = 0;
  let paragraphs = 0;
  let inWord = false;
  let lineHasText = false;
  let newlines = 0;
  let lowSurrogates = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      newlines++;
      if (lineHasText) paragraphs++;
      lineHasText = false;
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      lowSurrogates++;
      continue;
    }
    if (space(c)) {
      inWord = false;
    } else {
      characters++;
      lineHasText = true;
      if (!inWord) {
        words++;
        inWord = true;
      }
    }
  }
  if (lineHasText) paragraphs++;
  return { words, characters, charactersWithSpaces: text.length - lowSurrogates - newlines, paragraphs };
}

/** Pieces that exercise every branch: both fast-path separators, every other whitespace, astral and stray surrogates. */
const PIECES = [
  'word', 'Überprüfung', 'naïve', 'x', ' ', ' ', '  ', '\n', '\n\n', ' \n ', '\t', '\v', '\f', '\r\n', '\u00a0', '\u2002', '\u200b',
  '\u3000', '😀', 'a😀b', '\udc00', '\ud83d', '’', '—', '漢字', '',
];

function randomText(rnd: () => number, parts: number): string {
  let s = '';
  for (let i = 0; i < parts; i++) s += PIECES[Math.floor(rnd() * PIECES.length)] ?? '';
  return s;
}

describe('countText', () => {
  it('agrees with the reference on edge cases', () => {
    const cases = ['', ' ', '\n', 'a', ' a ', 'a\n', '\na', 'one two  three\n\nfour\n', '😀', ' \udc00 ', 'a\udc00b', '\udc00a', 'a\u00a0b', 'a\tb\r\nc', 'x'.repeat(5000)];
    for (const text of cases) assert.deepEqual(countText(text), referenceCount(text), JSON.stringify(text));
  });

  it('agrees with the reference on generated text, with and without rare whitespace', () => {
    const rnd = seeded(7);
    for (let i = 0; i < 2000; i++) {
      const text = randomText(rnd, 1 + Math.floor(rnd() * 60));
      assert.deepEqual(countText(text), referenceCount(text), JSON.stringify(text));
      // The same text with only spaces and newlines takes the separator path.
      const plain = text.replace(/[^\S \n]|[\ud800-\udfff]/g, '');
      assert.deepEqual(countText(plain), referenceCount(plain), JSON.stringify(plain));
    }
  });

  it('gives the engine the same counts as the reference on generated Word documents', async () => {
    const rnd = seeded(11);
    const words = 'the report client überprüfung naïve 😀 de het one two three'.split(' ');
    for (let d = 0; d < 40; d++) {
      const paragraphs = Array.from({ length: 3 + Math.floor(rnd() * 10) }, () =>
        Array.from({ length: 1 + Math.floor(rnd() * 20) }, () => words[Math.floor(rnd() * words.length)] ?? '').join(d % 3 === 0 ? '\u00a0' : ' '),
      );
      const body = paragraphs.map((p) => `<w:p><w:r><w:t xml:space="preserve">${escapeXml(p)}</w:t>${d % 4 === 0 ? '<w:tab/>' : ''}</w:r></w:p>`).join('');
      const bytes = buildDocx({ bodyXml: body + wTable([['a b', 'c']]) });
      const r = await extractFromBytes(bytes, 'generated.docx', DEFAULT_EXTRACT_LIMITS);
      const expected = referenceCount(r.text);
      assert.equal(r.counts?.words, expected.words);
      assert.equal(r.counts?.characters, expected.characters);
      assert.equal(r.counts?.charactersWithSpaces, expected.charactersWithSpaces);
    }
  });
});

/**
 * The function-word scores as they were computed before the words were looked up by hash (a
 * lower-cased copy of the sample, a substring and a Map lookup per word), kept as the reference.
 */
function referenceScores(text: string): FunctionWordScores {
  const langs = Object.keys(FUNCTION_WORDS);
  const wordLangs = new Map<string, number[]>();
  langs.forEach((lang, li) => {
    for (const w of FUNCTION_WORDS[lang] ?? []) wordLangs.set(w, [...(wordLangs.get(w) ?? []), li]);
  });
  const scores = new Float64Array(langs.length);
  let hits = 0;
  for (const m of text.slice(0, 3000).toLowerCase().matchAll(/[a-z\u00e0-\u00ff]+/g)) {
    const hit = wordLangs.get(m[0]);
    if (!hit) continue;
    hits++;
    for (const li of hit) scores[li] = (scores[li] ?? 0) + 1 / hit.length;
  }
  return { scores, hits };
}

/** Words that hit every branch of the function-word pass: cases, Latin-1 letters, characters whose lower case is a Latin letter. */
const LANGUAGE_PIECES = [
  ...Object.values(FUNCTION_WORDS).flat(),
  'THE', 'The', 'Für', 'FÜR', 'DIE', 'À', 'È', 'Ü', 'NÃO', 'MÁS', 'ß', 'straße', 'µ', '÷', '×', 'Þ', 'þ',
  'İ', 'İs', 'Ÿ', 'ÿ', 'K', 'Å', 'Kelvin', 'report', 'client', 'überprüfung', 'naïve', 'ĳ', 'œ', '漢字', '😀', '’', 'I',
  'thewhich', 'werdenx', '123', 'e-mail', "l'envoi", 'Совет', 'директоров',
];

describe('function-word language pass', () => {
  it('agrees with the reference (lower-cased copy, substring per word) on generated text', () => {
    const rnd = seeded(13);
    const separators = [' ', ' ', ' ', '\n', ', ', '. ', '\t', '\u00a0', '', '-'];
    for (let i = 0; i < 3000; i++) {
      // Some samples run past the 3,000 characters the pass reads, so a word is cut at its end.
      const words = i % 10 === 0 ? 400 + Math.floor(rnd() * 400) : 5 + Math.floor(rnd() * 60);
      let text = '';
      for (let w = 0; w < words; w++) {
        text += LANGUAGE_PIECES[Math.floor(rnd() * LANGUAGE_PIECES.length)] ?? '';
        text += separators[Math.floor(rnd() * separators.length)] ?? ' ';
      }
      if (i % 7 === 0) text = text.toUpperCase();
      assert.deepEqual(functionWordScores(text), referenceScores(text), JSON.stringify(text.slice(0, 200)));
    }
  });

  it('lower-cases the characters outside Latin-1 that become Latin letters, as toLowerCase does', () => {
    const english = 'the and of to is in that for with this are be';
    assert.equal(functionWordScores(english).hits, 12);
    for (const glue of ['İ', 'Ÿ', '\u212a', '\u212b']) {
      // Glued to the end of each word, each makes a longer word, so no function word is left.
      const text = english.split(' ').map((w) => w + glue).join(' ');
      assert.deepEqual(functionWordScores(text), referenceScores(text), glue);
      assert.equal(functionWordScores(text).hits, 0, glue);
    }
  });
});
