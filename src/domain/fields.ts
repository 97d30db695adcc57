/**
 * Custom fields: what a taxonomy may ask the model to extract besides tags (counterparty, contract
 * value, end date), and the one rule that turns whatever the model answered into a typed value.
 * Pure: the classifier normalises answers with it, the listing and search filters parse their
 * values with it, and evaluation compares values it produced.
 */
import { FIELD_TYPES, type FieldType } from './vocabulary.ts';

export interface FieldDefinition {
  /** A safe identifier (FIELD_NAME): it is a JSON schema property and a query parameter. */
  name: string;
  type: FieldType;
  /** Goes into the prompt: what the value is and where it is found. */
  description?: string;
  /** The allowed values of an `enum` field (and only of one). */
  values?: string[];
}

/** A stored value: string and enum as text, number, date as `yyyy-mm-dd`, boolean; null when unknown. */
export type FieldValue = string | number | boolean | null;

/** Letters, digits and `_`, starting with a letter: safe as a schema property, query parameter and column name. */
export const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;
/** Every field is in every answer (strict structured outputs make each one required), so each costs output tokens. */
export const MAX_FIELDS = 20;
export const MAX_ENUM_VALUES = 50;
export const MAX_ENUM_VALUE_LENGTH = 100;
/** A string value longer than this is cut: a field holds a fact, not a passage. */
export const MAX_STRING_VALUE = 500;

/** Why a set of field definitions cannot be used, or null when it can. */
export function fieldDefinitionProblem(fields: readonly FieldDefinition[]): { field?: string; problem: string } | null {
  if (fields.length > MAX_FIELDS) return { problem: `A taxonomy has at most ${MAX_FIELDS} fields (got ${fields.length})` };
  const seen = new Set<string>();
  for (const f of fields) {
    if (!FIELD_NAME.test(f.name)) {
      return { field: f.name, problem: `Field name "${f.name}" must start with a letter and hold only letters, digits and _ (at most 40)` };
    }
    const key = f.name.toLowerCase();
    if (seen.has(key)) return { field: f.name, problem: `Field name "${f.name}" is used twice (names are compared without case)` };
    seen.add(key);
    if (!(FIELD_TYPES as readonly string[]).includes(f.type)) return { field: f.name, problem: `Field "${f.name}" has an unknown type "${String(f.type)}"` };
    if (f.type === 'enum') {
      const values = f.values ?? [];
      if (values.length === 0) return { field: f.name, problem: `Enum field "${f.name}" needs "values" (at least one)` };
      if (values.length > MAX_ENUM_VALUES) return { field: f.name, problem: `Enum field "${f.name}" has more than ${MAX_ENUM_VALUES} values` };
      const keys = new Set<string>();
      for (const v of values) {
        if (v.trim() === '' || v.length > MAX_ENUM_VALUE_LENGTH) {
          return { field: f.name, problem: `Enum field "${f.name}" has an empty value or one longer than ${MAX_ENUM_VALUE_LENGTH} characters` };
        }
        const k = textKey(v);
        if (keys.has(k)) return { field: f.name, problem: `Enum field "${f.name}" lists "${v}" twice (values are compared without case)` };
        keys.add(k);
      }
    } else if (f.values !== undefined) {
      return { field: f.name, problem: `Field "${f.name}" is of type ${f.type}: only enum fields take "values"` };
    }
  }
  return null;
}

/** What normalising a value did: kept as it was, converted to the field's type, or dropped (null). */
export type FieldOutcome = 'kept' | 'converted' | 'dropped';

const textKey = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * The model's answer for one field as a typed value. null (or an empty string) is "not found" and
 * kept; a value of another form is converted where one reading is clear (numbers from
 * "€ 1.234,50", dates to yyyy-mm-dd, enum values in other case, "yes"/"no"), otherwise dropped.
 */
export function normaliseFieldValue(field: FieldDefinition, raw: unknown): { value: FieldValue; outcome: FieldOutcome } {
  if (raw === null) return { value: null, outcome: 'kept' };
  if (typeof raw === 'string' && raw.trim() === '') return { value: null, outcome: raw === '' ? 'kept' : 'converted' };
  switch (field.type) {
    case 'string': {
      if (typeof raw === 'string') {
        const v = raw.trim().slice(0, MAX_STRING_VALUE);
        return { value: v, outcome: v === raw ? 'kept' : 'converted' };
      }
      if (typeof raw === 'number' && Number.isFinite(raw)) return { value: String(raw), outcome: 'converted' };
      if (typeof raw === 'boolean') return { value: String(raw), outcome: 'converted' };
      return dropped;
    }
    case 'number': {
      if (typeof raw === 'number') return Number.isFinite(raw) ? { value: raw, outcome: 'kept' } : dropped;
      const n = typeof raw === 'string' ? parseNumber(raw) : null;
      return n === null ? dropped : { value: n, outcome: 'converted' };
    }
    case 'date': {
      const d = typeof raw === 'string' ? parseDate(raw) : null;
      if (d === null) return dropped;
      return { value: d, outcome: d === raw ? 'kept' : 'converted' };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { value: raw, outcome: 'kept' };
      const b = parseBoolean(raw);
      return b === null ? dropped : { value: b, outcome: 'converted' };
    }
    case 'enum': {
      const values = field.values ?? [];
      if (typeof raw !== 'string' && typeof raw !== 'number') return dropped;
      const s = String(raw);
      if (values.includes(s)) return { value: s, outcome: 'kept' };
      const matches = values.filter((v) => textKey(v) === textKey(s));
      return matches.length === 1 && matches[0] !== undefined ? { value: matches[0], outcome: 'converted' } : dropped;
    }
  }
}

const dropped = { value: null, outcome: 'dropped' } as const;

const PLAIN_NUMBER = /^[+-]?\d+(\.\d+)?(e[+-]?\d+)?$/i;
/**
 * One number with at most a short non-digit prefix and suffix (a currency, a unit): "€ 1.234,50",
 * "USD 1,234.50", "1 234,50 EUR", "12%". Group separators: '.', ',', spaces, apostrophes.
 */
const DECORATED_NUMBER = /^[\p{Sc}\p{L}\s.:]{0,8}?([+-]?)\s*(\d[\d.,'\u2019\s\u00a0\u202f]*)[\p{Sc}\p{L}\s%.]{0,8}$/u;

/**
 * A number from text, or null when there is not exactly one clear reading. A plain literal
 * ("1.234", "-5", "1e3") is read as JavaScript reads it. Otherwise: with both '.' and ',' the
 * last one is the decimal mark; a lone mark is a group separator when it occurs more than once or
 * exactly three digits follow it ("1,234" and "€ 1.234" are 1234), else the decimal mark ("12,5").
 */
export function parseNumber(text: string): number | null {
  const s = text.trim();
  if (PLAIN_NUMBER.test(s)) {
    const n = Number(s);
    return Number.isFinite(n) ? n : null;
  }
  const m = DECORATED_NUMBER.exec(s);
  if (!m) return null;
  const sign = m[1] === '-' ? '-' : '';
  let digits = (m[2] ?? '').replace(/['\u2019\s\u00a0\u202f]/g, '');
  digits = digits.replace(/[.,]+$/, '');
  const dots = (digits.match(/\./g) ?? []).length;
  const commas = (digits.match(/,/g) ?? []).length;
  let normal: string;
  if (dots > 0 && commas > 0) {
    const decimal = digits.lastIndexOf('.') > digits.lastIndexOf(',') ? '.' : ',';
    const group = decimal === '.' ? ',' : '.';
    const [intPart, frac, ...more] = digits.split(decimal);
    if (more.length > 0 || frac === undefined || frac.includes(group)) return null;
    normal = `${(intPart ?? '').split(group).join('')}.${frac}`;
  } else if (dots + commas > 0) {
    const mark = dots > 0 ? '.' : ',';
    const parts = digits.split(mark);
    const grouped = parts.length > 2 || (parts[1]?.length === 3 && (parts[0]?.length ?? 0) > 0);
    if (grouped) {
      if (parts.slice(1).some((p) => p.length !== 3)) return null;
      normal = parts.join('');
    } else normal = parts.join('.');
  } else normal = digits;
  if (!/^\d+(\.\d+)?$/.test(normal)) return null;
  const n = Number(sign + normal);
  return Number.isFinite(n) ? n : null;
}

const MONTHS: Record<string, number> = {
  jan: 1, january: 1, januari: 1, feb: 2, february: 2, februari: 2, mar: 3, march: 3, maart: 3, mrt: 3,
  apr: 4, april: 4, may: 5, mei: 5, jun: 6, june: 6, juni: 6, jul: 7, july: 7, juli: 7, aug: 8, august: 8, augustus: 8,
  sep: 9, sept: 9, september: 9, oct: 10, october: 10, okt: 10, oktober: 10, nov: 11, november: 11, dec: 12, december: 12,
};

function isoDate(y: number, m: number, d: number): string | null {
  if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1) return null;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (d > days) return null;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/**
 * A calendar date as `yyyy-mm-dd`, or null. Read: ISO dates and timestamps (the date part),
 * `yyyy/mm/dd`, day-first numeric dates (`31-12-2024`, `31/12/2024`, `31.12.2024`; month-first only
 * when the second number cannot be a month), and month names in English or Dutch
 * ("1 March 2024", "March 1, 2024", "1 maart 2024"). Impossible dates (30 February) are null.
 */
export function parseDate(text: string): string | null {
  const s = text.trim().toLowerCase();
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[t ][\d:.]+(?:z|[+-]\d{2}:?\d{2})?)?$/.exec(s) ?? /^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$/.exec(s);
  if (m) return isoDate(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/.exec(s);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    const y = Number(m[3]);
    return b > 12 && a <= 12 ? isoDate(y, a, b) : isoDate(y, b, a);
  }
  m = /^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})$/.exec(s);
  if (m) {
    const month = MONTHS[m[2] ?? ''];
    return month ? isoDate(Number(m[3]), month, Number(m[1])) : null;
  }
  m = /^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$/.exec(s);
  if (m) {
    const month = MONTHS[m[1] ?? ''];
    return month ? isoDate(Number(m[3]), month, Number(m[2])) : null;
  }
  return null;
}

const TRUE_WORDS = new Set(['true', 'yes', 'y', 'ja', 'j', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'n', 'nee', '0']);

export function parseBoolean(raw: unknown): boolean | null {
  if (typeof raw === 'boolean') return raw;
  if (raw === 1 || raw === 0) return raw === 1;
  if (typeof raw !== 'string') return null;
  const s = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(s)) return true;
  if (FALSE_WORDS.has(s)) return false;
  return null;
}

/**
 * Values a person gives for a taxonomy's fields (a gold label, a reviewer's correction), read as the
 * model's answers are; names matched without case (they are unique without case) and answered as
 * the taxonomy spells them. An empty object is none given (null).
 */
export function readFieldValues(
  raw: Readonly<Record<string, unknown>> | undefined,
  defs: readonly FieldDefinition[],
): { fields: Record<string, FieldValue> | null } | { problem: 'unknown_field' | 'invalid_field_value'; field: string; message: string } {
  if (raw === undefined || Object.keys(raw).length === 0) return { fields: null };
  const byName = new Map(defs.map((d) => [d.name.toLowerCase(), d]));
  const out: Record<string, FieldValue> = {};
  for (const [name, value] of Object.entries(raw)) {
    const def = byName.get(name.toLowerCase());
    if (!def) {
      const known = defs.map((d) => d.name).join(', ');
      return { problem: 'unknown_field', field: name, message: `Field "${name}" is not defined by the taxonomy (${known ? `it defines ${known}` : 'it defines none'})` };
    }
    const read = normaliseFieldValue(def, value);
    if (read.outcome === 'dropped') {
      const of = def.type === 'enum' ? ` of ${(def.values ?? []).join(', ')}` : '';
      return { problem: 'invalid_field_value', field: def.name, message: `Field "${def.name}": ${JSON.stringify(value)} is not a ${def.type}${of}` };
    }
    out[def.name] = read.value;
  }
  return { fields: out };
}
