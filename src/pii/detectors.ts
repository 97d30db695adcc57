/**
 * One finder per kind of personal data: a loose pattern proposes candidates, a validating check
 * keeps only real ones (11-test, mod-97, Luhn and issuer, phone numbering plans, calendar dates).
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

export type Finder = (text: string) => Found[];

/** A country code and check digits not inside a word; the BBAN is walked by hand (single spaces allowed). */
const IBAN_START = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}/g;
const ALNUM = /[A-Z0-9]/;

function findIbans(text: string): Found[] {
  const out: Found[] = [];
  for (const m of text.matchAll(IBAN_START)) {
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

function findCards(text: string): Found[] {
  const out: Found[] = [];
  for (const m of text.matchAll(CARD)) {
    const digits = m[0].replace(/[ -]/g, '');
    if (cardIssuer(digits)) out.push({ start: m.index, end: m.index + m[0].length, value: digits, masked: maskCard(digits) });
  }
  return out;
}

/** Nine digits, also written 123.456.782, 123 456 782 or 1234.56.782. */
const BSN = /(?<![\d.,-])(?:\d{9}|\d{3}([. ])\d{3}\1\d{3}|\d{4}\.\d{2}\.\d{3})(?!\d|[.,-]\d)/g;

function findBsns(text: string): Found[] {
  const out: Found[] = [];
  for (const m of text.matchAll(BSN)) {
    const digits = m[0].replace(/[. ]/g, '');
    if (isValidBsn(digits)) out.push({ start: m.index, end: m.index + m[0].length, value: digits, masked: maskBsn(digits) });
  }
  return out;
}

const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;

function findEmails(text: string): Found[] {
  const out: Found[] = [];
  for (const m of text.matchAll(EMAIL)) {
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

function findPhones(text: string): Found[] {
  const out: Found[] = [];
  for (const m of text.matchAll(DIALLED)) {
    // Numbers without a country code are read as Dutch; numbers with + as their own country's.
    for (const p of findPhoneNumbersInText(m[0], 'NL')) {
      out.push({
        start: m.index + p.startsAt,
        end: m.index + p.endsAt,
        value: p.number.number,
        masked: maskPhone(p.number.number, p.number.countryCallingCode),
      });
    }
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

function findBirthdates(text: string): Found[] {
  const out: Found[] = [];
  for (const m of text.matchAll(BIRTHDATE)) {
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
 * again as a BSN or a phone number, so one value is one finding.
 */
export const FINDERS: readonly { kind: PiiKind; find: Finder; needs: 'digit' | 'at' | 'birth' }[] = [
  { kind: 'iban', find: findIbans, needs: 'digit' },
  { kind: 'card', find: findCards, needs: 'digit' },
  { kind: 'bsn', find: findBsns, needs: 'digit' },
  { kind: 'email', find: findEmails, needs: 'at' },
  { kind: 'birthdate', find: findBirthdates, needs: 'birth' },
  { kind: 'phone', find: findPhones, needs: 'digit' },
];

/** Cheap tests that rule a kind out before its finder runs. */
export const PREFILTERS: Record<'digit' | 'at' | 'birth', RegExp> = {
  digit: /\d{2}/,
  at: /@/,
  birth: /geb|born|birth|dob|d\.o\.b/i,
};
