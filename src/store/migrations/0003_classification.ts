import { type Kysely, sql } from 'kysely';

/**
 * Taxonomies (versioned: an edit makes a new version), classification results keyed by what
 * produced them, and token/cost counters on jobs. Seeds the original design's 15 tags.
 */
const DEFAULT_LABELS = [
  ['Internal Policy', 'Rules, policies and procedures the organisation sets for itself'],
  ['Meeting Notes', 'Minutes, agendas and notes of meetings'],
  ['Project Documentation', 'Plans, proposals, status reports and deliverables of a project'],
  ['Training Materials', 'Courses, manuals and onboarding or learning material'],
  ['Performance Reviews', 'Appraisals and evaluations of employees or teams'],
  ['Financial Reports', 'Budgets, invoices, statements, forecasts and financial analyses'],
  ['HR Documents', 'Employment contracts, personnel matters, leave and recruitment'],
  ['Technical Documentation', 'Specifications, architecture, manuals of systems and products'],
  ['Research & Development', 'Research, experiments, studies and innovation work'],
  ['Compliance', 'Legal and regulatory obligations, audits, privacy and certification'],
  ['Internal Communications', 'Announcements, newsletters, memos and letters within or from the organisation'],
  ['Feedback & Surveys', 'Questionnaires, survey results and feedback received'],
  ['Strategic Planning', 'Strategy, long-term plans, goals and decisions on direction'],
  ['Risk Management', 'Risk analyses, mitigation plans, incidents and continuity'],
  ['Miscellaneous', 'Anything that fits none of the other labels'],
].map(([name, description]) => ({ name, description }));

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table taxonomies (
      id uuid primary key default gen_random_uuid(),
      name text not null unique,
      description text,
      current_version integer not null default 1,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table taxonomy_versions (
      taxonomy_id uuid not null references taxonomies (id) on delete cascade,
      version integer not null,
      labels jsonb not null,
      created_at timestamptz not null default now(),
      primary key (taxonomy_id, version)
    )`.execute(db);
  await sql`
    with t as (
      insert into taxonomies (name, description)
      values ('internal-documents', 'The original design''s 15 internal-document tags')
      returning id
    )
    insert into taxonomy_versions (taxonomy_id, version, labels)
    select id, 1, ${JSON.stringify(DEFAULT_LABELS)}::jsonb from t`.execute(db);

  await sql`
    create table classifications (
      id uuid primary key default gen_random_uuid(),
      document_id uuid not null references documents (id) on delete cascade,
      content_sha256 text not null,
      taxonomy_id uuid not null references taxonomies (id) on delete cascade,
      taxonomy_version integer not null,
      model text not null,
      prompt_version text not null,
      summary_language text not null,
      tags jsonb not null,
      primary_category text not null,
      summary text not null,
      language text,
      strategy text not null,
      chunks integer not null,
      input_tokens integer not null,
      output_tokens integer not null,
      cost_usd numeric(14, 6) not null default 0,
      needs_review boolean not null default false,
      job_id uuid references jobs (id) on delete set null,
      created_at timestamptz not null default now()
    )`.execute(db);
  // The result key: unchanged content under the same taxonomy version, model, prompt and
  // summary language is never sent to the model twice (unless forced).
  await sql`
    create unique index classifications_key_idx on classifications
      (document_id, content_sha256, taxonomy_id, taxonomy_version, model, prompt_version, summary_language)`.execute(db);
  await sql`create index classifications_document_idx on classifications (document_id, created_at desc)`.execute(db);
  await sql`create index classifications_tags_idx on classifications using gin (tags jsonb_path_ops)`.execute(db);
  await sql`alter table documents add column classification_id uuid references classifications (id) on delete set null`.execute(db);
  await sql`
    alter table jobs
      add column input_tokens bigint not null default 0,
      add column output_tokens bigint not null default 0,
      add column cost_usd numeric(14, 6) not null default 0`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table jobs drop column input_tokens, drop column output_tokens, drop column cost_usd`.execute(db);
  await sql`alter table documents drop column classification_id`.execute(db);
  await sql`drop table classifications`.execute(db);
  await sql`drop table taxonomy_versions`.execute(db);
  await sql`drop table taxonomies`.execute(db);
}
