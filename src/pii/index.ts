/**
 * Personal data in a document's text, as a library: which kinds appear, how many distinct values
 * of each, and at most MAX_SAMPLES masked samples per kind with the part they came from. Pure
 * (text in, summary out); the kinds to look for are the caller's choice (configuration).
 */
import type { PiiSummary } from '../contract.ts';
import type { PiiKind } from '../domain/vocabulary.ts';
import { FINDERS, type Found, hasTwoDigits, lookOver, newBudget } from './detectors.ts';

export { isValidBsn, cardIssuer, luhnValid, isValidIban } from './checks.ts';

/** Masked samples kept per kind and document. */
export const MAX_SAMPLES = 3;

export type { PiiSample, PiiSummary } from '../contract.ts';

/** The text of a document as extraction returns it: the body, and parts kept apart. */
export interface PiiInput {
  text: string;
  parts?: Record<string, string>;
}

/** Parts that hold names of things, not content (sheet names). */
const SKIPPED_PARTS = new Set(['sheetNames']);

/**
 * Code units of the body and of each part that are looked at (1 Mi: some 500 pages); values
 * further on are not reported. Detection then costs a bounded time however long the text is
 * (extraction keeps up to maxTextChars, 2 M).
 */
export const MAX_SCAN_CHARS = 1 << 20;

/**
 * Scan a document's body and parts for the given kinds. Undefined when none is found (or no kind
 * is asked for), so a document without personal data stores nothing.
 */
export function detectPersonalData(input: PiiInput, kinds: readonly PiiKind[]): PiiSummary | undefined {
  if (kinds.length === 0) return undefined;
  const finders = FINDERS.filter((f) => kinds.includes(f.kind));
  const seen = new Map<PiiKind, Set<string>>();
  const summary: PiiSummary = {};
  const record = (kind: PiiKind, found: Found, part: string) => {
    let values = seen.get(kind);
    if (!values) seen.set(kind, (values = new Set()));
    if (values.has(found.value)) return;
    values.add(found.value);
    const finding = (summary[kind] ??= { count: 0, samples: [] });
    finding.count++;
    if (finding.samples.length < MAX_SAMPLES) finding.samples.push({ masked: found.masked, part });
  };
  const sections: [string, string][] = [['body', input.text]];
  for (const [key, text] of Object.entries(input.parts ?? {})) if (!SKIPPED_PARTS.has(key)) sections.push([key, text]);
  const budget = newBudget();
  for (const [name, whole] of sections) {
    const text = whole.length > MAX_SCAN_CHARS ? whole.slice(0, MAX_SCAN_CHARS) : whole;
    const look = lookOver(text);
    const digits = hasTwoDigits(look);
    const at = text.includes('@');
    if (!digits && !at) continue;
    const partAt = name === 'body' ? pageOf(text) : () => name;
    // Characters already part of a finding (allocated on the first one): spans are short, so
    // claiming and testing cost their length, however many findings a document holds.
    let claimed: Uint8Array | undefined;
    for (const f of finders) {
      if (f.needs === 'digit' ? !digits : f.needs === 'at' ? !at : false) continue;
      const starts = f.starts(text, look);
      if (starts.length === 0) continue;
      for (const found of f.find(text, starts, budget)) {
        claimed ??= new Uint8Array(text.length);
        if (claimed.subarray(found.start, found.end).includes(1)) continue;
        claimed.fill(1, found.start, found.end);
        record(f.kind, found, partAt(found.start));
      }
    }
  }
  return Object.keys(summary).length > 0 ? summary : undefined;
}

/** Pages of a body are separated by form feeds (PDF); a body without them is one part, `body`. */
function pageOf(text: string): (offset: number) => string {
  if (!text.includes('\f')) return () => 'body';
  const breaks: number[] = [];
  for (let i = text.indexOf('\f'); i >= 0; i = text.indexOf('\f', i + 1)) breaks.push(i);
  return (offset) => {
    let lo = 0;
    let hi = breaks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (breaks[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return `page ${lo + 1}`;
  };
}
