import { type Kysely, sql } from 'kysely';

/**
 * Custom fields (docs/api.md, "Custom fields").
 *
 * - taxonomy_versions.fields: the field definitions of a version ([{name, type, description?,
 *   values?}]); versions from before hold none.
 * - classifications.fields: the values the model gave, normalised ({name: value|null}), as the
 *   document page and exports show them.
 * - classification_fields: the same values typed, one row per non-null value, for filters and
 *   facets. A trigger derives them from classifications.fields and the version's definitions, so
 *   every writer of a classification (the batch, a forced rerun replacing a result under its key,
 *   a correction) keeps them in step without knowing this table. text_value holds every value as
 *   text (the enum value, 'true'/'false', the number, the date): equality filters and facets read
 *   it; number_value and date_value serve ranges.
 *
 * A filter reaches a document through documents.classification_id, so the primary key
 * (classification_id, name) answers "this document's value" in one probe; the (name, value)
 * indexes serve a selective filter from the other side.
 *
 * Idempotent (if not exists, or replace), so a test can give an older schema these objects before
 * the repositories of today use them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table taxonomy_versions add column if not exists fields jsonb not null default '[]'`.execute(db);
  await sql`alter table classifications add column if not exists fields jsonb not null default '{}'`.execute(db);
  await sql`
    create table if not exists classification_fields (
      classification_id uuid not null references classifications (id) on delete cascade,
      name text not null,
      type text not null check (type in ('string', 'number', 'date', 'boolean', 'enum')),
      text_value text not null,
      number_value numeric,
      date_value date,
      bool_value boolean,
      primary key (classification_id, name)
    )`.execute(db);
  await sql`create index if not exists classification_fields_text_idx on classification_fields (name, lower(text_value))`.execute(db);
  await sql`create index if not exists classification_fields_number_idx on classification_fields (name, number_value) where number_value is not null`.execute(db);
  await sql`create index if not exists classification_fields_date_idx on classification_fields (name, date_value) where date_value is not null`.execute(db);

  // Values are normalised by the classifier (domain/fields.ts) before they are written; the casts
  // are guarded anyway, so a hand-written value of the wrong form is left out of the typed column
  // instead of failing the write of the whole result.
  await sql`
    create or replace function docsight_classification_fields() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' then
        delete from classification_fields where classification_id = new.id;
      end if;
      insert into classification_fields (classification_id, name, type, text_value, number_value, date_value, bool_value)
      select new.id, def->>'name', def->>'type', new.fields->>(def->>'name'),
             case when def->>'type' = 'number' and jsonb_typeof(new.fields->(def->>'name')) = 'number'
                  then (new.fields->(def->>'name'))::numeric end,
             -- Nested, not ANDed: only CASE guarantees the day is cast after the form was checked.
             case when def->>'type' = 'date' and new.fields->>(def->>'name') ~ '^[1-9]\\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$'
                  then case when substr(new.fields->>(def->>'name'), 9, 2)::int <= extract(day from
                         make_date(substr(new.fields->>(def->>'name'), 1, 4)::int, substr(new.fields->>(def->>'name'), 6, 2)::int, 1)
                         + interval '1 month - 1 day')
                       then (new.fields->>(def->>'name'))::date end end,
             case when def->>'type' = 'boolean' and jsonb_typeof(new.fields->(def->>'name')) = 'boolean'
                  then (new.fields->(def->>'name'))::boolean end
      from taxonomy_versions v, jsonb_array_elements(v.fields) def
      where v.taxonomy_id = new.taxonomy_id and v.version = new.taxonomy_version
        and jsonb_typeof(new.fields->(def->>'name')) in ('string', 'number', 'boolean');
      return null;
    end $$`.execute(db);
  await sql`drop trigger if exists classifications_fields_insert on classifications`.execute(db);
  await sql`
    create trigger classifications_fields_insert after insert on classifications
    for each row when (new.fields <> '{}'::jsonb) execute function docsight_classification_fields()`.execute(db);
  await sql`drop trigger if exists classifications_fields_update on classifications`.execute(db);
  await sql`
    create trigger classifications_fields_update after update of fields on classifications
    for each row when (old.fields is distinct from new.fields) execute function docsight_classification_fields()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists classifications_fields_update on classifications`.execute(db);
  await sql`drop trigger if exists classifications_fields_insert on classifications`.execute(db);
  await sql`drop function if exists docsight_classification_fields()`.execute(db);
  await sql`drop table if exists classification_fields`.execute(db);
  await sql`alter table classifications drop column if exists fields`.execute(db);
  await sql`alter table taxonomy_versions drop column if exists fields`.execute(db);
}
