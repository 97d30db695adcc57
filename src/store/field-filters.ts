/**
 * The SQL of `field.<name>` filters (listings and search): one EXISTS probe per filter into
 * classification_fields (migration 0019) by the document's latest classification, which the
 * primary key (classification_id, name) answers in one index lookup per document.
 */
import { type RawBuilder, sql } from 'kysely';
import type { FieldFilterOp, FieldType } from '../domain/vocabulary.ts';

/** One way a filter's value reads for a type of the field (a name may have several types across taxonomies). */
export interface FieldCondition {
  type: FieldType;
  op: 'eq' | FieldFilterOp;
  /** Text for string and enum (compared without case), a number, a yyyy-mm-dd date, a boolean. */
  value: string | number | boolean;
}

/** A document matches when its value of `name` meets any of the conditions. */
export interface FieldFilter {
  name: string;
  conditions: FieldCondition[];
}

const OPS: Record<FieldCondition['op'], string> = { eq: '=', gte: '>=', gt: '>', lte: '<=', lt: '<' };

function condition(c: FieldCondition): RawBuilder<unknown> {
  const op = sql.raw(OPS[c.op]);
  switch (c.type) {
    case 'string':
    case 'enum':
      return sql`(cf.type = ${c.type} and lower(cf.text_value) = lower(${String(c.value)}))`;
    case 'number':
      return sql`(cf.type = 'number' and cf.number_value ${op} ${String(c.value)}::numeric)`;
    case 'date':
      return sql`(cf.type = 'date' and cf.date_value ${op} ${String(c.value)}::date)`;
    case 'boolean':
      return sql`(cf.type = 'boolean' and cf.bool_value = ${Boolean(c.value)})`;
  }
}

/** The filters as one SQL condition on `classificationId` (an expression of the outer query); true when none. */
export function fieldFiltersSql(filters: readonly FieldFilter[] | undefined, classificationId: RawBuilder<unknown>): RawBuilder<boolean> {
  if (!filters || filters.length === 0) return sql<boolean>`true`;
  const parts = filters.map(
    (f) => sql`exists (select 1 from classification_fields cf where cf.classification_id = ${classificationId} and cf.name = ${f.name}
      and (${f.conditions.length > 0 ? sql.join(f.conditions.map(condition), sql` or `) : sql`false`}))`,
  );
  return sql<boolean>`(${sql.join(parts, sql` and `)})`;
}
