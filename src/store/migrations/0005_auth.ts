import { type Kysely, sql } from 'kysely';

/** API keys (only their hash is stored), the audit log, and who started each job. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table api_keys (
      id uuid primary key default gen_random_uuid(),
      name text not null,
      prefix text not null,
      key_hash text not null unique,
      role text not null check (role in ('viewer', 'editor', 'admin')),
      scopes text[] not null default '{}',
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    )`.execute(db);
  await sql`
    create table audit_events (
      id bigserial primary key,
      at timestamptz not null default now(),
      key_id uuid,
      action text not null,
      target text,
      status integer,
      ip text,
      request_id text
    )`.execute(db);
  await sql`create index audit_events_at_idx on audit_events (at desc)`.execute(db);
  await sql`alter table jobs add column created_by uuid`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table jobs drop column created_by`.execute(db);
  await sql`drop table audit_events`.execute(db);
  await sql`drop table api_keys`.execute(db);
}
