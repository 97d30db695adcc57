/**
 * Facts computed from the extracted text itself, because the counts producers store (app.xml,
 * meta.xml) are often stale, zero or missing.
 */
import { TrigramLanguageDetector } from './trigram-language.ts';

/** franc needs a reasonable sample; its cost grows with distinct trigrams, and 500 chars tell major languages apart. */
const LANGUAGE_SAMPLE_CHARS = 500;
export const LANGUAGE_MIN_CHARS = 20;

/**
 * Languages organisations actually write documents in. Without this list franc happily answers
 * Scots or Low German for short English or German text; restricting it is far more accurate.
 */
export const LIKELY_LANGUAGES = [
  'eng', 'deu', 'fra', 'spa', 'ita', 'nld', 'por', 'rus', 'ukr', 'bel', 'pol', 'ces', 'slk', 'hun', 'ron', 'bul',
  'hrv', 'srp', 'bos', 'slv', 'mkd', 'swe', 'nob', 'nno', 'dan', 'fin', 'est', 'lav', 'lit', 'ell', 'tur', 'ara',
  'heb', 'pes', 'hin', 'ben', 'urd', 'cmn', 'jpn', 'kor', 'tha', 'vie', 'ind', 'zlm', 'cat', 'glg', 'eus', 'afr',
  'isl', 'gle', 'cym', 'tgl', 'swh', 'kaz', 'aze', 'uzb', 'kat', 'hye', 'tam', 'tel', 'mar', 'guj', 'pan', 'npi',
];

/**
 * Function words of the languages most business folders are written in. Running text is full of
 * them, so counting them settles most documents in one cheap pass; franc's trigram statistics,
 * which cost far more a sample, are asked only when the count is thin or close.
 */
export const FUNCTION_WORDS: Readonly<Record<string, readonly string[]>> = {
  eng: 'the and of to is in that for with this are be on it as was by not or have from which will'.split(' '),
  nld: 'de het een en van is dat die niet op te zijn voor met ook als bij aan er wordt naar worden deze wij'.split(' '),
  deu: 'der die und das ist nicht ein eine zu den mit sich auf für von dem des auch wird werden wir'.split(' '),
  fra: 'le la les des et est une un du en que qui dans pour pas sur au par sont avec nous'.split(' '),
  spa: 'el la los las de que y en un una es por con para se del al lo como más'.split(' '),
  ita: 'il di che la per un una non sono della del con gli le nel alla anche è'.split(' '),
  por: 'o a os as de que e do da em um uma para com não dos das se por no na'.split(' '),
};
/** franc over LIKELY_LANGUAGES, with the same answers (see trigram-language.ts). */
const trigramDetector = new TrigramLanguageDetector(LIKELY_LANGUAGES, LANGUAGE_MIN_CHARS);

const FUNCTION_LANGS = Object.keys(FUNCTION_WORDS);
const FUNCTION_SAMPLE_CHARS = 3000;

/** Lower case of each Latin-1 code unit: toLowerCase maps every one to one Latin-1 unit. */
const LOWER_LATIN1 = new Uint8Array(256);
for (let c = 0; c < 256; c++) LOWER_LATIN1[c] = String.fromCharCode(c).toLowerCase().charCodeAt(0);
/** Latin-1 code units whose lower case is a letter of the word pattern [a-zà-ÿ]. */
const WORD_UNIT = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const lower = LOWER_LATIN1[c] ?? 0;
  WORD_UNIT[c] = (lower >= 97 && lower <= 122) || lower >= 0xe0 ? 1 : 0;
}

/**
 * Function words in an open-addressing table keyed by a hash of their characters, so a word of
 * the text is looked up from its character codes, without a lower-cased copy of the sample or a
 * substring per word.
 */
const WORD_SLOT_MASK = 511;
const wordSlots = new Int16Array(WORD_SLOT_MASK + 1);
const slotWords: string[] = [];
const slotHashes: number[] = [];
/** For each table entry, the indexes in FUNCTION_LANGS of the languages the word belongs to. */
const slotLangs: number[][] = [];
let longestFunctionWord = 0;

const hashStep = (hash: number, unit: number): number => (Math.imul(hash, 31) + unit) | 0;

FUNCTION_LANGS.forEach((lang, li) => {
  for (const word of FUNCTION_WORDS[lang] ?? []) {
    let hash = 0;
    for (let k = 0; k < word.length; k++) hash = hashStep(hash, word.charCodeAt(k));
    let slot = hash & WORD_SLOT_MASK;
    for (; wordSlots[slot] !== 0; slot = (slot + 1) & WORD_SLOT_MASK) {
      const entry = (wordSlots[slot] ?? 0) - 1;
      if (slotWords[entry] === word) break;
    }
    if (wordSlots[slot] === 0) {
      wordSlots[slot] = slotWords.push(word);
      slotHashes.push(hash);
      slotLangs.push([]);
    }
    slotLangs[(wordSlots[slot] ?? 0) - 1]?.push(li);
    longestFunctionWord = Math.max(longestFunctionWord, word.length);
  }
});

/** The table entry of the word text[start, end) lower-cased, or -1. */
function functionWordEntry(text: string, start: number, end: number, hash: number): number {
  for (let slot = hash & WORD_SLOT_MASK; wordSlots[slot] !== 0; slot = (slot + 1) & WORD_SLOT_MASK) {
    const entry = (wordSlots[slot] ?? 0) - 1;
    if (slotHashes[entry] !== hash) continue;
    const word = slotWords[entry] ?? '';
    if (word.length !== end - start) continue;
    let k = 0;
    while (k < word.length && word.charCodeAt(k) === LOWER_LATIN1[text.charCodeAt(start + k)]) k++;
    if (k === word.length) return entry;
  }
  return -1;
}

export interface FunctionWordScores {
  /** By language index: each hit adds 1/(languages sharing the word), in text order. */
  scores: Float64Array;
  hits: number;
}

/**
 * Scores the function words among the first `n` characters, lower-casing as toLowerCase does.
 * Undefined when they hold a character above Latin-1 that lower-cases into the word pattern or
 * into two characters (İ, Ÿ, the Kelvin and Ångström signs): the caller lower-cases the sample.
 */
function scoreFunctionWords(text: string, n: number): FunctionWordScores | undefined {
  const scores = new Float64Array(FUNCTION_LANGS.length);
  let hits = 0;
  // Words are maximal runs of [a-zà-ÿ] after lower-casing; only runs short enough to be a
  // function word are looked up.
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c > 0xff) {
      if (c === 0x130 || c === 0x178 || c === 0x212a || c === 0x212b) return undefined;
      i++;
      continue;
    }
    if (WORD_UNIT[c] === 0) {
      i++;
      continue;
    }
    const start = i;
    let hash = hashStep(0, LOWER_LATIN1[c] ?? 0);
    for (i++; i < n; i++) {
      const d = text.charCodeAt(i);
      if (d > 0xff || WORD_UNIT[d] === 0) break;
      hash = hashStep(hash, LOWER_LATIN1[d] ?? 0);
    }
    if (i - start > longestFunctionWord) continue;
    const entry = functionWordEntry(text, start, i, hash);
    if (entry < 0) continue;
    const langs = slotLangs[entry] ?? [];
    hits++;
    for (const li of langs) scores[li] = (scores[li] ?? 0) + 1 / langs.length;
  }
  return { scores, hits };
}

/** Function-word scores of the text's first 3,000 characters, lower-cased. */
export function functionWordScores(text: string): FunctionWordScores {
  const n = Math.min(text.length, FUNCTION_SAMPLE_CHARS);
  const scored = scoreFunctionWords(text, n);
  if (scored) return scored;
  const sample = text.slice(0, n).toLowerCase();
  // A lower-cased sample holds none of the characters that stop the pass.
  return scoreFunctionWords(sample, sample.length) ?? { scores: new Float64Array(FUNCTION_LANGS.length), hits: 0 };
}

function byFunctionWords(text: string): string | undefined {
  const { scores, hits } = functionWordScores(text);
  if (hits < 8) return undefined;
  // A clear winner only: close calls (Dutch/Afrikaans-like text, mixed languages) go to franc.
  // A tie for first place is never clear, so which of the tied languages comes first is moot.
  let first = 0;
  for (let li = 1; li < scores.length; li++) if ((scores[li] ?? 0) > (scores[first] ?? 0)) first = li;
  let second = 0;
  for (let li = 0; li < scores.length; li++) if (li !== first) second = Math.max(second, scores[li] ?? 0);
  const top = scores[first] ?? 0;
  return top > 0 && top >= 2 * second ? FUNCTION_LANGS[first] : undefined;
}

export function detectLanguage(text: string): string {
  const quick = byFunctionWords(text);
  if (quick) return quick;
  const sample = text.length > LANGUAGE_SAMPLE_CHARS ? text.slice(0, LANGUAGE_SAMPLE_CHARS) : text;
  return trigramDetector.detect(sample);
}

export interface TextCounts {
  words: number;
  /** Characters excluding whitespace (what Word calls "Characters"). */
  characters: number;
  charactersWithSpaces: number;
  /** Non-empty lines; extractors that know real paragraphs override it. */
  paragraphs: number;
}

/** What a UTF-16 code unit is to the counts. */
export const enum Unit {
  Text = 0,
  Space = 1,
  Newline = 2,
  /** The second half of an astral character: counted with the first half. */
  LowSurrogate = 3,
}

/**
 * Every code unit's kind, so the count loop does one table lookup per character instead of a
 * chain of range tests (64 KiB, built once). Whitespace: \t \n \v \f \r, space, no-break space,
 * U+2000-U+200B and the ideographic space.
 */
const UNIT_KIND = new Uint8Array(0x10000);
for (const c of [9, 11, 12, 13, 32, 0xa0, 0x3000]) UNIT_KIND[c] = Unit.Space;
for (let c = 0x2000; c <= 0x200b; c++) UNIT_KIND[c] = Unit.Space;
UNIT_KIND[10] = Unit.Newline;
UNIT_KIND.fill(Unit.LowSurrogate, 0xdc00, 0xe000);

/** What a code unit is to the counts (the signing pass, minhash.ts `scanText`, counts by the same kinds). */
export function unitKind(c: number): Unit {
  return UNIT_KIND[c] as Unit;
}

/**
 * Whitespace other than ' ' and '\n', and low surrogates. Most extracted text holds none: then
 * words are the stretches between spaces and newlines, which indexOf finds far faster than a
 * loop over every character. Only the non-Latin-1 half goes through a regex, which V8 answers
 * without scanning when the string holds only Latin-1 characters.
 */
const RARE_ASCII_WHITESPACE = ['\t', '\v', '\f', '\r', '\xa0'];
const RARE_WIDE_UNITS = /[\u2000-\u200b\u3000\udc00-\udfff]/;

function onlySpacesAndNewlines(text: string): boolean {
  for (const c of RARE_ASCII_WHITESPACE) if (text.indexOf(c) >= 0) return false;
  return !RARE_WIDE_UNITS.test(text);
}

/** Counts of the words, characters and lines of the text; astral characters count once. */
export function countText(text: string): TextCounts {
  return onlySpacesAndNewlines(text) ? countBySeparators(text) : countByUnits(text);
}

/** countText for text whose only whitespace is ' ' and '\n' (and no surrogates): one step per word. */
function countBySeparators(text: string): TextCounts {
  const n = text.length;
  let words = 0;
  let characters = 0;
  let paragraphs = 0;
  let newlines = 0;
  let lineHasText = false;
  let from = 0;
  let nextSpace = text.indexOf(' ');
  let nextNewline = text.indexOf('\n');
  for (;;) {
    const sep = nextSpace < 0 ? (nextNewline < 0 ? n : nextNewline) : nextNewline < 0 || nextSpace < nextNewline ? nextSpace : nextNewline;
    if (sep > from) {
      words++;
      characters += sep - from;
      lineHasText = true;
    }
    if (sep === n) break;
    if (sep === nextNewline) {
      newlines++;
      if (lineHasText) paragraphs++;
      lineHasText = false;
      nextNewline = text.indexOf('\n', sep + 1);
    } else {
      nextSpace = text.indexOf(' ', sep + 1);
    }
    from = sep + 1;
  }
  if (lineHasText) paragraphs++;
  return { words, characters, charactersWithSpaces: n - newlines, paragraphs };
}

/**
 * countText for any text, one code unit at a time. A word is taken in one tight inner loop (most
 * characters are inside words), so the outer loop runs once per word or whitespace character.
 */
function countByUnits(text: string): TextCounts {
  let words = 0;
  let characters = 0;
  let paragraphs = 0;
  let lineHasText = false;
  let newlines = 0;
  let lowSurrogates = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const kind = UNIT_KIND[text.charCodeAt(i)];
    if (kind === Unit.Text) {
      // A word: every text unit up to the next whitespace; low surrogates go with it uncounted.
      words++;
      lineHasText = true;
      const start = i;
      let inWordSurrogates = 0;
      for (i++; i < n; i++) {
        const k = UNIT_KIND[text.charCodeAt(i)];
        if (k === Unit.Text) continue;
        if (k !== Unit.LowSurrogate) break;
        inWordSurrogates++;
      }
      characters += i - start - inWordSurrogates;
      lowSurrogates += inWordSurrogates;
      continue;
    }
    if (kind === Unit.Newline) {
      newlines++;
      if (lineHasText) paragraphs++;
      lineHasText = false;
    } else if (kind === Unit.LowSurrogate) {
      // A stray low surrogate after whitespace neither starts a word nor counts.
      lowSurrogates++;
    }
    i++;
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

  /**
   * The text without the newlines at its end, joined in one go: a slice of the joined text would
   * be a view on it, which the counting and language passes read more slowly than a flat string.
   */
  toStringWithoutTrailingNewlines(): string {
    const chunks = this.chunks;
    let kept = chunks.length;
    let tail = '';
    while (kept > 0) {
      const chunk = chunks[--kept] ?? '';
      let end = chunk.length;
      while (end > 0 && chunk.charCodeAt(end - 1) === 10) end--;
      if (end > 0) {
        tail = end === chunk.length ? chunk : chunk.slice(0, end);
        break;
      }
    }
    if (kept === 0) return tail;
    const parts = chunks.slice(0, kept);
    parts.push(tail);
    return parts.join('');
  }
}
