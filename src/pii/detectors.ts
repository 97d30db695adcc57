/**
 * One finder per kind of personal data: a loose pattern proposes candidates, a validating check
 * keeps only real ones (11-test, mod-97, Luhn and issuer, phone numbering plans, calendar dates).
 *
 * The patterns are not run over the whole text: one look over it (`lookOver`) finds its digit runs,
 * its @ signs and where a birth keyword may begin, and each pattern is tried (sticky) only where a
 * value of its kind can start. Every value a pattern finds begins within two characters before a
 * digit run, at the start of the run of address characters before an @, or at a birth keyword, so
 * the values found are those a scan of every position finds, at a fraction of the cost on texts
 * where nothing is found (most of them).
 *
 * The phone library is the costliest check by far (tens of microseconds a call, more than the rest
 * of a page's detection): it reads each distinct candidate of a document once, and at most
 * MAX_PHONE_CHECKS of them (`Budget`).
 */
import { findPhoneNumbersInText } from 'libphonenumber-js/max';
import type { PiiKind } from '../domain/vocabulary.ts';
import { cardIssuer, ibanLength, isValidBsn, isValidIban } from './checks.ts';
import { maskBirthdate, maskBsn, maskCard, maskEmail, maskIban, maskPhone } from './mask.ts';

/** A value found in a text: where, what it is (normalised, kept in memory only) and how it is shown. */
export interface Found {
  start: number;
  end: number;
  value: string;
  masked: string;
}

/** What one look over a text found: where a value can start. */
export interface Lookout {
  /** Digit runs as start, end, start, end, ... in text order. */
  runs: number[];
  /** Offsets where a birth keyword may begin, in order; asked once at most. */
  birth(): number[];
}

/** The offsets a finder tries its pattern at, in order. */
type Starts = (text: string, look: Lookout) => number[];

/**
 * The values of one kind in a text: tried at `starts` (every offset where one can begin, in
 * order) or, without them, by a scan of every offset (the definition the starts must agree with).
 */
export type Finder = (text: string, starts: number[] | undefined, budget?: Budget) => Found[];

/** Distinct phone candidates the phone library reads in one document; the rest are not reported. */
export const MAX_PHONE_CHECKS = 500;

/** What one document's detection may still spend, and what it already learnt, on the phone library. */
export interface Budget {
  phoneChecks: number;
  phones: Map<string, readonly PhoneFound[]>;
}

export const newBudget = (): Budget => ({ phoneChecks: MAX_PHONE_CHECKS, phones: new Map() });

const DIGIT_RUN = /\d+/g;
/**
 * Where a birth keyword (KEYWORD below) may begin: `date` for "date of birth". Case-insensitive
 * without the u flag, as the pattern is, so the same characters match; after each hit the search
 * goes on one offset later, so overlapping keywords are all seen.
 */
const BIRTH_TRIGGER = /geb|born|birth|date|dob|d\.o\.b/gi;

const DIGITS = '0123456789';

/**
 * Where the text's first digit is (-1: none), by ten searches for one character, which V8 runs
 * far faster than the digit pattern's look at every unit before it: many texts hold no digit.
 */
function firstDigit(text: string): number {
  let first = -1;
  for (let d = 0; d < DIGITS.length; d++) {
    const at = text.indexOf(DIGITS[d]!);
    if (at >= 0 && (first < 0 || at < first)) first = at;
  }
  return first;
}

export function lookOver(text: string): Lookout {
  const runs: number[] = [];
  const first = firstDigit(text);
  if (first >= 0) {
    DIGIT_RUN.lastIndex = first;
    for (let m = DIGIT_RUN.exec(text); m; m = DIGIT_RUN.exec(text)) runs.push(m.index, m.index + m[0].length);
  }
  return {
    runs,
    birth() {
      // Every date the pattern reads ends in (or, ISO, begins with) a year of exactly four digits.
      let year = false;
      for (let k = 0; k < runs.length && !year; k += 2) year = runs[k + 1]! - runs[k]! === 4;
      if (!year) return [];
      const at: number[] = [];
      BIRTH_TRIGGER.lastIndex = 0;
      for (let m = BIRTH_TRIGGER.exec(text); m; m = BIRTH_TRIGGER.exec(text)) {
        at.push(m.index);
        BIRTH_TRIGGER.lastIndex = m.index + 1;
      }
      return at;
    },
  };
}

/** Has the text a run of two digits or more (what every kind but e-mail needs)? */
export function hasTwoDigits(look: Lookout): boolean {
  for (let k = 0; k < look.runs.length; k += 2) if (look.runs[k + 1]! - look.runs[k]! >= 2) return true;
  return false;
}

/** The sticky twin of a global pattern: tried at one offset at a time. */
const sticky = (re: RegExp) => new RegExp(re.source, re.flags.replace('g', '') + 'y');

/**
 * The matches of `re` (global) in text order, as `text.matchAll(re)` gives them: at `starts` only
 * (every offset where a match can begin, in order) or, without them, by a scan of the text.
 */
function matchesOf(re: RegExp, at: RegExp, text: string, starts: number[] | undefined): RegExpExecArray[] {
  if (!starts) return [...text.matchAll(re)];
  const out: RegExpExecArray[] = [];
  let end = 0;
  let last = -1;
  for (const p of starts) {
    // A scan goes on from the end of the last match; the same offset is tried once.
    if (p < end || p === last) continue;
    last = p;
    at.lastIndex = p;
    const m = at.exec(text);
    if (!m) continue;
    out.push(m);
    end = m.index + m[0].length;
  }
  return out;
}

/** Offsets at digit-run starts (shifted by `before`) where `keep(start, end)` holds. */
function atRuns(look: Lookout, before: number, keep: (start: number, end: number) => boolean): number[] {
  const out: number[] = [];
  const { runs } = look;
  for (let k = 0; k < runs.length; k += 2) {
    const start = runs[k]!;
    if (start >= before && keep(start, runs[k + 1]!)) out.push(start - before);
  }
  return out;
}

/** A country code and check digits not inside a word; the BBAN is walked by hand (single spaces allowed). */
const IBAN_START = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}/g;
const IBAN_AT = sticky(IBAN_START);
const ALNUM = /[A-Z0-9]/;
const isUpper = (c: number) => c >= 65 && c <= 90;

/** Two capitals right before a run of two digits or more. */
const ibanStarts: Starts = (text, look) =>
  atRuns(look, 2, (start, end) => end - start >= 2 && isUpper(text.charCodeAt(start - 2)) && isUpper(text.charCodeAt(start - 1)));

function findIbans(text: string, starts: number[] | undefined): Found[] {
  const out: Found[] = [];
  for (const m of matchesOf(IBAN_START, IBAN_AT, text, starts)) {
    const length = ibanLength(m[0].slice(0, 2));
    if (!length) continue;
    let chars = m[0];
    let i = m.index + 4;
    while (chars.length < length && i < text.length) {
      const c = text[i] ?? '';
      if (ALNUM.test(c)) chars += c;
      else if (!(c === ' ' && ALNUM.test(text[i + 1] ?? ''))) break;
      i++;
    }
    // The IBAN must end where its country says: a longer run of characters is something else.
    if (chars.length !== length || /[A-Za-z0-9]/.test(text[i] ?? '') || !isValidIban(chars)) continue;
    out.push({ start: m.index, end: i, value: chars, masked: maskIban(chars) });
  }
  return out;
}

/** 12 to 19 digits in one run, or in groups of 4 (Amex: 4-6-5) with one separator throughout. */
const CARD = /(?<![\d])(?:\d{12,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{4,5})(?!\d)/g;

const CARD_AT = sticky(CARD);

/** A run of 12 digits or more, or a group of four and a space or dash. */
const cardStarts: Starts = (text, look) =>
  atRuns(look, 0, (start, end) => end - start >= 12 || (end - start === 4 && (text[end] === ' ' || text[end] === '-')));

function findCards(text: string, starts: number[] | undefined): Found[] {
  const out: Found[] = [];
  for (const m of matchesOf(CARD, CARD_AT, text, starts)) {
    const digits = m[0].replace(/[ -]/g, '');
    if (cardIssuer(digits)) out.push({ start: m.index, end: m.index + m[0].length, value: digits, masked: maskCard(digits) });
  }
  return out;
}

/** Nine digits, also written 123.456.782, 123 456 782 or 1234.56.782. */
const BSN = /(?<![\d.,-])(?:\d{9}|\d{3}([. ])\d{3}\1\d{3}|\d{4}\.\d{2}\.\d{3})(?!\d|[.,-]\d)/g;

const BSN_AT = sticky(BSN);

/** A run of nine digits, three and a dot or space, or four and a dot. */
const bsnStarts: Starts = (text, look) =>
  atRuns(look, 0, (start, end) => {
    const n = end - start;
    return n === 9 || (n === 3 && (text[end] === '.' || text[end] === ' ')) || (n === 4 && text[end] === '.');
  });

function findBsns(text: string, starts: number[] | undefined): Found[] {
  const out: Found[] = [];
  for (const m of matchesOf(BSN, BSN_AT, text, starts)) {
    const digits = m[0].replace(/[. ]/g, '');
    if (isValidBsn(digits)) out.push({ start: m.index, end: m.index + m[0].length, value: digits, masked: maskBsn(digits) });
  }
  return out;
}

const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;

const EMAIL_AT = sticky(EMAIL);

/** A character of the local part ([A-Za-z0-9._%+-]). */
const isLocal = (c: number) => (c >= 97 && c <= 122) || (c >= 64 + 1 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;

/**
 * The start of the run of local-part characters before each @ (an address cannot begin inside the
 * run, and its local part is 64 characters at most: a longer run holds none).
 */
const emailStarts: Starts = (text) => {
  const out: number[] = [];
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start <= 64 && isLocal(text.charCodeAt(start - 1))) start--;
    if (start < at) out.push(start);
  }
  return out;
};

function findEmails(text: string, starts: number[] | undefined): Found[] {
  const out: Found[] = [];
  for (const m of matchesOf(EMAIL, EMAIL_AT, text, starts)) {
    const address = m[0];
    if (address.includes('..') || address.includes('.@')) continue;
    out.push({ start: m.index, end: m.index + address.length, value: address.toLowerCase(), masked: maskEmail(address) });
  }
  return out;
}

/**
 * A run that starts like a dialled number: an international prefix or the Dutch trunk prefix (a
 * bare 9-digit run is an account or a BSN, not a number to call). The phone library reads each
 * run alone: cheaper than over the whole text, and one number never swallows the next.
 */
const DIALLED = /(?<![\d+])(?:\+|00|\(0|0)\d[\d ().-]{5,18}\d(?!\d)/g;

const DIALLED_AT = sticky(DIALLED);

/** A + or ( right before a run (a ( only before a 0), and a run that begins with 0. */
const phoneStarts: Starts = (text, look) => {
  const out: number[] = [];
  const { runs } = look;
  for (let k = 0; k < runs.length; k += 2) {
    const start = runs[k]!;
    const zero = text.charCodeAt(start) === 48;
    const before = text[start - 1];
    if (before === '+' || (before === '(' && zero)) out.push(start - 1);
    if (zero) out.push(start);
  }
  return out;
};

/** A number the phone library found in a candidate: where in it, and the number in E.164. */
interface PhoneFound {
  startsAt: number;
  endsAt: number;
  number: string;
  masked: string;
}

/** The phone library's numbers in one candidate. Numbers without a country code are read as Dutch; numbers with + as their own country's. */
function readPhones(candidate: string): PhoneFound[] {
  return findPhoneNumbersInText(candidate, 'NL').map((p) => ({
    startsAt: p.startsAt,
    endsAt: p.endsAt,
    number: p.number.number,
    masked: maskPhone(p.number.number, p.number.countryCallingCode),
  }));
}

function findPhones(text: string, starts: number[] | undefined, budget?: Budget): Found[] {
  const out: Found[] = [];
  for (const m of matchesOf(DIALLED, DIALLED_AT, text, starts)) {
    let phones = budget?.phones.get(m[0]);
    if (!phones) {
      if (budget) {
        if (budget.phoneChecks <= 0) continue;
        budget.phoneChecks--;
      }
      phones = readPhones(m[0]);
      budget?.phones.set(m[0], phones);
    }
    for (const p of phones) out.push({ start: m.index + p.startsAt, end: m.index + p.endsAt, value: p.number, masked: p.masked });
  }
  return out;
}

const MONTHS: Record<string, number> = {
  jan: 1, januari: 1, january: 1, feb: 2, februari: 2, february: 2, mrt: 3, maart: 3, mar: 3, march: 3,
  apr: 4, april: 4, mei: 5, may: 5, jun: 6, juni: 6, june: 6, jul: 7, juli: 7, july: 7, aug: 8, augustus: 8,
  august: 8, sep: 9, sept: 9, september: 9, okt: 10, oktober: 10, oct: 10, october: 10, nov: 11, november: 11,
  dec: 12, december: 12,
};
const MONTH = Object.keys(MONTHS).sort((a, b) => b.length - a.length).join('|');
const KEYWORD = String.raw`geboortedatum|geb\.\s*datum|geboren(?:\s+op)?|date\s+of\s+birth|birth\s*date|d\.o\.b\.?|dob|born(?:\s+on)?`;
/** A birth keyword, then (after a colon or dash at most) a date: d-m-yyyy, yyyy-mm-dd, 12 maart 1980, March 12, 1980. */
const BIRTHDATE = new RegExp(
  String.raw`(?<![A-Za-z])(?:${KEYWORD})(?![A-Za-z])\s*[:\-–]?\s*` +
    String.raw`(?:(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})|(\d{4})-(\d{2})-(\d{2})|(\d{1,2})\s+(${MONTH})\.?\s+(\d{4})|(${MONTH})\.?\s+(\d{1,2}),?\s+(\d{4}))(?!\d)`,
  'gi',
);

function calendarDate(year: number, month: number, day: number): string | null {
  const thisYear = new Date().getUTCFullYear();
  if (year < 1900 || year > thisYear || month < 1 || month > 12 || day < 1) return null;
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCMonth() !== month - 1) return null;
  return d.toISOString().slice(0, 10);
}

const BIRTHDATE_AT = sticky(BIRTHDATE);

function findBirthdates(text: string, starts: number[] | undefined): Found[] {
  const out: Found[] = [];
  for (const m of matchesOf(BIRTHDATE, BIRTHDATE_AT, text, starts)) {
    const g = m.slice(1).map((s) => s ?? '');
    const month = (name: string) => MONTHS[name.toLowerCase()] ?? 0;
    const iso = m[1]
      // Day first (Dutch and European usage); month first when only that makes a date (US).
      ? (calendarDate(+g[2]!, +g[1]!, +g[0]!) ?? calendarDate(+g[2]!, +g[0]!, +g[1]!))
      : m[4]
        ? calendarDate(+g[3]!, +g[4]!, +g[5]!)
        : m[7]
          ? calendarDate(+g[8]!, month(g[7]!), +g[6]!)
          : calendarDate(+g[11]!, month(g[9]!), +g[10]!);
    if (iso) out.push({ start: m.index, end: m.index + m[0].length, value: iso, masked: maskBirthdate(iso) });
  }
  return out;
}

/**
 * The finders in the order they claim text: a span taken by an IBAN or a card is not looked at
 * again as a BSN or a phone number, so one value is one finding. `starts` says where each tries its
 * pattern; `needs` what a text must hold for the kind to be there at all.
 */
export const FINDERS: readonly { kind: PiiKind; find: Finder; starts: Starts; needs: 'digit' | 'at' | 'birth' }[] = [
  { kind: 'iban', find: findIbans, starts: ibanStarts, needs: 'digit' },
  { kind: 'card', find: findCards, starts: cardStarts, needs: 'digit' },
  { kind: 'bsn', find: findBsns, starts: bsnStarts, needs: 'digit' },
  { kind: 'email', find: findEmails, starts: emailStarts, needs: 'at' },
  { kind: 'birthdate', find: findBirthdates, starts: (_text, look) => look.birth(), needs: 'birth' },
  { kind: 'phone', find: findPhones, starts: phoneStarts, needs: 'digit' },
];
