/**
 * Facts computed from the extracted text itself, because the counts producers store (app.xml,
 * meta.xml) are often stale, zero or missing.
 */
import { franc } from 'franc';

/** franc needs a reasonable sample; its cost grows with distinct trigrams, and 500 chars tell major languages apart. */
const LANGUAGE_SAMPLE_CHARS = 500;
const LANGUAGE_MIN_CHARS = 20;

/**
 * Languages organisations actually write documents in. Without this list franc happily answers
 * Scots or Low German for short English or German text; restricting it is far more accurate.
 */
const LIKELY_LANGUAGES = [
  'eng', 'deu', 'fra', 'spa', 'ita', 'nld', 'por', 'rus', 'ukr', 'bel', 'pol', 'ces', 'slk', 'hun', 'ron', 'bul',
  'hrv', 'srp', 'bos', 'slv', 'mkd', 'swe', 'nob', 'nno', 'dan', 'fin', 'est', 'lav', 'lit', 'ell', 'tur', 'ara',
  'heb', 'pes', 'hin', 'ben', 'urd', 'cmn', 'jpn', 'kor', 'tha', 'vie', 'ind', 'zlm', 'cat', 'glg', 'eus', 'afr',
  'isl', 'gle', 'cym', 'tgl', 'swh', 'kaz', 'aze', 'uzb', 'kat', 'hye', 'tam', 'tel', 'mar', 'guj', 'pan', 'npi',
];

/**
 * Function words of the languages most business folders are written in. Running text is full of
 * them, so counting them settles most documents in one cheap pass; franc (trigram statistics,
 * ~0.3 ms a document) is asked only when the count is thin or close.
 */
const FUNCTION_WORDS: Record<string, string[]> = {
  eng: 'the and of to is in that for with this are be on it as was by not or have from which will'.split(' '),
  nld: 'de het een en van is dat die niet op te zijn voor met ook als bij aan er wordt naar worden deze wij'.split(' '),
  deu: 'der die und das ist nicht ein eine zu den mit sich auf für von dem des auch wird werden wir'.split(' '),
  fra: 'le la les des et est une un du en que qui dans pour pas sur au par sont avec nous'.split(' '),
  spa: 'el la los las de que y en un una es por con para se del al lo como más'.split(' '),
  ita: 'il di che la per un una non sono della del con gli le nel alla anche è'.split(' '),
  por: 'o a os as de que e do da em um uma para com não dos das se por no na'.split(' '),
};
const WORD_LANGS = new Map<string, string[]>();
let longestFunctionWord = 0;
for (const [lang, words] of Object.entries(FUNCTION_WORDS)) {
  for (const w of words) {
    WORD_LANGS.set(w, [...(WORD_LANGS.get(w) ?? []), lang]);
    longestFunctionWord = Math.max(longestFunctionWord, w.length);
  }
}
const FUNCTION_SAMPLE_CHARS = 3000;

/** A letter of the word pattern [a-zà-ÿ] (by UTF-16 code unit, after lower-casing). */
function isWordUnit(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 0xe0 && c <= 0xff);
}

function byFunctionWords(text: string): string | undefined {
  const sample = (text.length > FUNCTION_SAMPLE_CHARS ? text.slice(0, FUNCTION_SAMPLE_CHARS) : text).toLowerCase();
  const scores = new Map<string, number>();
  let hits = 0;
  // Words are maximal runs of [a-zà-ÿ]; only runs short enough to be a function word are looked up.
  const n = sample.length;
  let i = 0;
  while (i < n) {
    if (!isWordUnit(sample.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && isWordUnit(sample.charCodeAt(i))) i++;
    if (i - start > longestFunctionWord) continue;
    const langs = WORD_LANGS.get(sample.slice(start, i));
    if (!langs) continue;
    hits++;
    for (const l of langs) scores.set(l, (scores.get(l) ?? 0) + 1 / langs.length);
  }
  if (hits < 8) return undefined;
  const ranked = [...scores.entries()].sort((a, b) => b[1] - a[1]);
  const [first, second] = ranked;
  if (!first) return undefined;
  // A clear winner only: close calls (Dutch/Afrikaans-like text, mixed languages) go to franc.
  return first[1] >= 2 * (second?.[1] ?? 0) ? first[0] : undefined;
}

export function detectLanguage(text: string): string {
  const quick = byFunctionWords(text);
  if (quick) return quick;
  const sample = text.length > LANGUAGE_SAMPLE_CHARS ? text.slice(0, LANGUAGE_SAMPLE_CHARS) : text;
  return franc(sample, { minLength: LANGUAGE_MIN_CHARS, only: LIKELY_LANGUAGES });
}

export interface TextCounts {
  words: number;
  /** Characters excluding whitespace (what Word calls "Characters"). */
  characters: number;
  charactersWithSpaces: number;
  /** Non-empty lines; extractors that know real paragraphs override it. */
  paragraphs: number;
}

/** Whitespace for counting, by UTF-16 code unit below 0x80: space, \t, \n, \v, \f, \r. */
const ASCII_SPACE = new Uint8Array(128);
for (const c of [9, 10, 11, 12, 13, 32]) ASCII_SPACE[c] = 1;

/** One pass over the text; astral characters (surrogate pairs) count once. */
export function countText(text: string): TextCounts {
  let words = 0;
  let characters = 0;
  let paragraphs = 0;
  let inWord = false;
  let lineHasText = false;
  let newlines = 0;
  let lowSurrogates = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    let space: boolean;
    if (c < 128) {
      space = ASCII_SPACE[c] === 1;
      if (c === 10) {
        newlines++;
        if (lineHasText) paragraphs++;
        lineHasText = false;
      }
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      // Low surrogates belong to the character before them.
      lowSurrogates++;
      continue;
    } else {
      space = c === 0xa0 || (c >= 0x2000 && c <= 0x200b) || c === 0x3000;
    }
    if (space) {
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
  return { words, characters, charactersWithSpaces: n - lowSurrogates - newlines, paragraphs };
}

/** Appends text up to a limit; the builder remembers whether anything was dropped. */
export class TextBuilder {
  private readonly chunks: string[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly maxChars: number) {}

  get length(): number {
    return this.size;
  }

  get full(): boolean {
    return this.size >= this.maxChars;
  }

  add(s: string): void {
    if (s.length === 0) return;
    if (this.size + s.length > this.maxChars) {
      const room = this.maxChars - this.size;
      if (room > 0) this.chunks.push(s.slice(0, room));
      this.size = this.maxChars;
      this.truncated = true;
      return;
    }
    this.chunks.push(s);
    this.size += s.length;
  }

  /** The last character added ('' when empty); used to avoid doubled separators. */
  lastChar(): string {
    const last = this.chunks[this.chunks.length - 1];
    return last ? last.charAt(last.length - 1) : '';
  }

  toString(): string {
    return this.chunks.join('');
  }
}
