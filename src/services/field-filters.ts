/**
 * `field.<name>=value` and `field.<name>.<op>=value` filters (listings and search): parsed from the
 * query's keys, then read against the types the field has in the taxonomies, with the rule that
 * normalises the model's answers (domain/fields.ts), so `field.amount.gte=1.000,00` and
 * `field.end_date=31-12-2024` mean what they say. A value no type of the field can read, a range on
 * a text field, or a name no taxonomy defines answers 400 `invalid_field`.
 */
import { AppError } from '../domain/errors.ts';
import { FIELD_NAME, parseBoolean, parseDate, parseNumber } from '../domain/fields.ts';
import { FIELD_FILTER_OPS, type FieldFilterOp, type FieldType } from '../domain/vocabulary.ts';
import type { FieldCondition, FieldFilter } from '../store/field-filters.ts';

export type { FieldFilter };

/** A filter as the query gives it, before its field's types are known. */
export interface FieldFilterInput {
  name: string;
  op: 'eq' | FieldFilterOp;
  value: string;
}

/** How many field filters one request may hold. */
export const MAX_FIELD_FILTERS = 10;

const KEY = /^field\.([^.]+)(?:\.([a-z]+))?$/;

/** Whether a query key is a field filter (the routes let these through beside their own parameters). */
export const isFieldFilterKey = (key: string) => key.startsWith('field.');

/** The field filters among a query's keys; throws `invalid_field` for a malformed one. */
export function parseFieldFilters(query: Record<string, unknown>): FieldFilterInput[] {
  const out: FieldFilterInput[] = [];
  for (const [key, raw] of Object.entries(query)) {
    if (!isFieldFilterKey(key)) continue;
    const m = KEY.exec(key);
    const name = m?.[1] ?? '';
    const op = m?.[2];
    if (!m || !FIELD_NAME.test(name)) throw new AppError('invalid_field', `"${key}" is not a field filter: use field.<name>=value or field.<name>.<gte|gt|lte|lt>=value`);
    if (op !== undefined && !(FIELD_FILTER_OPS as readonly string[]).includes(op)) {
      throw new AppError('invalid_field', `"${key}": the comparisons are ${FIELD_FILTER_OPS.join(', ')} (equality is field.${name}=value)`);
    }
    if (typeof raw !== 'string') throw new AppError('invalid_field', `"${key}" must be given once, as text`);
    out.push({ name, op: (op ?? 'eq') as FieldFilterInput['op'], value: raw });
  }
  if (out.length > MAX_FIELD_FILTERS) throw new AppError('invalid_field', `At most ${MAX_FIELD_FILTERS} field filters`);
  return out;
}

/** The filter's value as one type reads it, or null when it cannot (or the comparison does not apply). */
function conditionFor(type: FieldType, f: FieldFilterInput): FieldCondition | null {
  const ranged = f.op !== 'eq';
  switch (type) {
    case 'string':
    case 'enum':
      return ranged ? null : { type, op: f.op, value: f.value.trim() };
    case 'number': {
      const n = parseNumber(f.value);
      return n === null ? null : { type, op: f.op, value: n };
    }
    case 'date': {
      const d = parseDate(f.value);
      return d === null ? null : { type, op: f.op, value: d };
    }
    case 'boolean': {
      const b = parseBoolean(f.value);
      return ranged || b === null ? null : { type, op: f.op, value: b };
    }
  }
}

/** Reads each filter against its field's types (`typesOf`: the types a name has in any taxonomy version). */
export async function resolveFieldFilters(inputs: readonly FieldFilterInput[], typesOf: (name: string) => Promise<FieldType[]>): Promise<FieldFilter[]> {
  const out: FieldFilter[] = [];
  for (const f of inputs) {
    const types = await typesOf(f.name);
    if (types.length === 0) throw new AppError('invalid_field', `No taxonomy defines a field named "${f.name}"`, { field: f.name });
    const conditions = types.flatMap((t) => conditionFor(t, f) ?? []);
    if (conditions.length === 0) {
      const what = f.op === 'eq' ? `the value "${f.value}"` : `a ${f.op} comparison with "${f.value}"`;
      throw new AppError('invalid_field', `Field "${f.name}" (${types.join(' or ')}) cannot take ${what}`, { field: f.name });
    }
    out.push({ name: f.name, conditions });
  }
  return out;
}
