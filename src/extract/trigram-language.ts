/**
 * franc's answer for a fixed list of allowed languages, computed faster. franc scores a sample
 * against each allowed language with one object lookup per (trigram, language) pair, on keys that
 * are fresh strings. This builds, once per script, one table from trigram
 * to its rank in every allowed language, so a sample costs one lookup per trigram. The models and
 * script expressions are franc's own; the trigram cleaning, arithmetic and tie-breaking are
 * copied from franc 6 and its trigram-utils 2 (clean, getTopScript, getDistance, the stable sort),
 * so the answer is the same (franc and trigram-utils: MIT, Titus Wormer). test/unit/language.test.ts
 * compares the two on generated samples.
 */
import { data } from 'franc/data.js';
import { expressions } from 'franc/expressions.js';

/** franc's limits: samples are cut at 2,048 characters; a trigram a model lacks costs 300. */
const MAX_LENGTH = 2048;
const MAX_DIFFERENCE = 300;

interface ScriptModel {
  /** Allowed languages of the script, in franc's data order (which breaks ties). */
  languages: string[];
  /** Row of each trigram. */
  rows: Map<string, number>;
  /**
   * The languages whose model holds each trigram and its rank there, row by row: row r is
   * entries [rowStart[r], rowStart[r + 1]) of entryLanguage and entryRank. Most trigrams are in
   * few of the models, so a sample visits only the languages that rank its trigrams.
   */
  rowStart: Int32Array;
  entryLanguage: Int16Array;
  entryRank: Int16Array;
}

export class TrigramLanguageDetector {
  private readonly allowed: ReadonlySet<string>;
  private readonly models = new Map<string, ScriptModel>();

  constructor(
    only: readonly string[],
    private readonly minLength: number,
  ) {
    this.allowed = new Set(only);
  }

  /** What franc(value, { only, minLength }) answers. */
  detect(value: string): string {
    if (!value || value.length < this.minLength) return 'und';
    const sample = value.slice(0, MAX_LENGTH);
    const [script, share] = topScript(sample);
    const languages = script === undefined ? undefined : data[script];
    if (script === undefined || languages === undefined) {
      // A script with one language (or none matched): franc answers the script's language.
      if (script === undefined || share === 0 || !this.allowed.has(script)) return 'und';
      return script;
    }
    const model = this.modelOf(script, languages);
    if (model.languages.length === 0) return 'und';
    return model.languages[closest(model, trigramCounts(sample))] ?? 'und';
  }

  private modelOf(script: string, languages: Record<string, string>): ScriptModel {
    const known = this.models.get(script);
    if (known) return known;
    const names = Object.keys(languages).filter((l) => this.allowed.has(l));
    const lists = names.map((name) => (languages[name] ?? '').split('|'));
    // Flat tables (not an array per trigram) keep the ~10,000 Latin trigrams to a few hundred KB.
    const rows = new Map<string, number>();
    for (const list of lists) for (const t of list) if (!rows.has(t)) rows.set(t, rows.size);
    const ranks = new Int16Array(rows.size * names.length).fill(-1);
    lists.forEach((list, li) => {
      // franc assigns from the end, so a trigram listed twice keeps its first (lowest) rank.
      for (let w = list.length - 1; w >= 0; w--) ranks[(rows.get(list[w] ?? '') ?? 0) * names.length + li] = w;
    });
    const rowStart = new Int32Array(rows.size + 1);
    for (let r = 0, entries = 0; r < rows.size; r++) {
      for (let li = 0; li < names.length; li++) if ((ranks[r * names.length + li] ?? -1) >= 0) entries++;
      rowStart[r + 1] = entries;
    }
    const entryLanguage = new Int16Array(rowStart[rows.size] ?? 0);
    const entryRank = new Int16Array(entryLanguage.length);
    for (let at = 0, e = 0; at < ranks.length; at++) {
      const rank = ranks[at] ?? -1;
      if (rank < 0) continue;
      entryLanguage[e] = at % names.length;
      entryRank[e++] = rank;
    }
    const model = { languages: names, rows, rowStart, entryLanguage, entryRank };
    this.models.set(script, model);
    return model;
  }
}

/** franc's getTopScript: the expression with the largest share of the sample (first wins ties). */
function topScript(value: string): [string | undefined, number] {
  let topCount = -1;
  let top: string | undefined;
  for (const [script, expression] of Object.entries(expressions)) {
    const count = (value.match(expression)?.length ?? 0) / value.length || 0;
    if (count > topCount) {
      topCount = count;
      top = script;
    }
  }
  return [top, topCount];
}

/** trigram-utils' clean(): ASCII punctuation and digits become spaces, whitespace runs one space. */
const PUNCTUATION_AND_DIGITS = /[\u0021-\u0040]+/g;
const WHITESPACE_RUN = /\s+/g;

/**
 * How often each trigram of the cleaned, space-padded sample occurs (trigram-utils' asTuples
 * without its sort: the distance is a sum over trigrams, so their order does not matter, and a
 * Map counts faster than a plain object).
 */
function trigramCounts(value: string): Map<string, number> {
  const padded = ` ${value.replace(PUNCTUATION_AND_DIGITS, ' ').replace(WHITESPACE_RUN, ' ').trim().toLowerCase()} `;
  const counts = new Map<string, number>();
  for (let i = 0; i + 3 <= padded.length; i++) {
    const t = padded.slice(i, i + 3);
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return counts;
}

/** Index of the language with the smallest franc distance; the first of equals, as franc's stable sort keeps. */
function closest(model: ScriptModel, counts: Map<string, number>): number {
  const n = model.languages.length;
  const distance = new Float64Array(n).fill(counts.size * MAX_DIFFERENCE);
  const { rowStart, entryLanguage, entryRank } = model;
  for (const [trigram, count] of counts) {
    const row = model.rows.get(trigram);
    if (row === undefined) continue;
    const end = rowStart[row + 1] ?? 0;
    for (let e = rowStart[row] ?? 0; e < end; e++) {
      const li = entryLanguage[e] ?? 0;
      distance[li] = (distance[li] ?? 0) + Math.abs(count - (entryRank[e] ?? 0) - 1) - MAX_DIFFERENCE;
    }
  }
  let best = 0;
  for (let li = 1; li < n; li++) if ((distance[li] ?? 0) < (distance[best] ?? 0)) best = li;
  return best;
}
