import { type Kysely, sql } from 'kysely';

/**
 * Oldest and newest modified document (coalesce(doc_modified, mtime)) per direct folder, so folder
 * insights read summary rows only, instead of two index probes into documents per folder (0007).
 *
 * Min and max cannot be kept by deltas: when the oldest document leaves, the next oldest is not in
 * any counter. So the bounds are kept exact by a recheck scheme:
 * - `folder_bounds` holds, per folder with live documents, the exact bounds as of the last
 *   recomputation of that folder.
 * - Writers never update it: statement-level triggers append a mark (`folder_bound_marks`) for
 *   every folder whose set of live modified values the statement changed (insert, undelete,
 *   delete, move, new modified value). Appending takes no row locks, as for 0007's deltas.
 * - Readers take the stored bounds of unmarked folders and recompute marked folders from the
 *   index (the 0007 probes, for those folders only). A mark is committed with the change it marks,
 *   so in any snapshot a folder's stored bounds are exact unless a mark of it is visible.
 * - Every ~32 marks a writer recomputes the marked folders it can see and deletes their marks, in
 *   one statement (one snapshot: the marks it deletes are those of changes it sees); one at a time
 *   by advisory lock, others skip. Marks of transactions still running stay for the next round.
 * So nothing is ever stale: what compaction bounds is the number of folders a read recomputes
 * (those changed since the last compaction, typically the few being written).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table folder_bounds (
      folder text collate "C" primary key,
      oldest timestamptz not null,
      newest timestamptz not null
    )`.execute(db);
  await sql`
    create table folder_bound_marks (
      id bigint generated always as identity primary key,
      folder text collate "C" not null
    )`.execute(db);
  await sql`create index folder_bound_marks_folder_idx on folder_bound_marks (folder)`.execute(db);

  // Recompute the marked folders visible now and drop their marks: one statement, one snapshot.
  // The upsert and the delete touch different folders (with and without live documents).
  await sql`
    create function docsight_folder_bounds_compact() returns void
    language plpgsql as $$
    begin
      if not pg_try_advisory_xact_lock(hashtext('docsight_folder_bounds')) then
        return;
      end if;
      with moved as (
        delete from folder_bound_marks returning folder
      ), now as (
        select f.folder, x.oldest, x.newest
        from (select distinct folder from moved) f
        cross join lateral (
          select min(coalesce(d.doc_modified, d.mtime)) as oldest, max(coalesce(d.doc_modified, d.mtime)) as newest
          from documents d where d.folder = f.folder and d.deleted_at is null
        ) x
      ), gone as (
        delete from folder_bounds b using now where b.folder = now.folder and now.oldest is null
      )
      insert into folder_bounds as b (folder, oldest, newest)
      select now.folder, now.oldest, now.newest from now where now.oldest is not null
      on conflict (folder) do update set oldest = excluded.oldest, newest = excluded.newest;
    end
    $$`.execute(db);

  // Everything from scratch (backfill, TRUNCATE), under the compactor's lock.
  await sql`
    create function docsight_folder_bounds_rebuild() returns void
    language plpgsql as $$
    begin
      perform pg_advisory_xact_lock(hashtext('docsight_folder_bounds'));
      delete from folder_bound_marks;
      delete from folder_bounds;
      insert into folder_bounds (folder, oldest, newest)
      select d.folder, min(coalesce(d.doc_modified, d.mtime)), max(coalesce(d.doc_modified, d.mtime))
      from documents d where d.deleted_at is null
      group by d.folder;
    end
    $$`.execute(db);

  // Each branch names only the transition tables its event has (plpgsql plans a statement when it
  // first runs it).
  await sql`
    create function docsight_documents_bounds() returns trigger
    language plpgsql as $$
    declare
      last_id bigint;
      added bigint;
    begin
      if tg_op = 'TRUNCATE' then
        perform docsight_folder_bounds_rebuild();
        return null;
      elsif tg_op = 'INSERT' then
        with ins as (
          insert into folder_bound_marks (folder)
          select distinct n.folder from new_rows n where n.deleted_at is null
          returning id
        )
        select max(id), count(*) into last_id, added from ins;
      elsif tg_op = 'DELETE' then
        with ins as (
          insert into folder_bound_marks (folder)
          select distinct o.folder from old_rows o where o.deleted_at is null
          returning id
        )
        select max(id), count(*) into last_id, added from ins;
      else
        with ins as (
          insert into folder_bound_marks (folder)
          select distinct y.folder
          from old_rows o join new_rows n on n.id = o.id,
            lateral (values (case when o.deleted_at is null then o.folder end),
                            (case when n.deleted_at is null then n.folder end)) y (folder)
          -- Only rows whose live modified value or folder changed (most updates change neither).
          where y.folder is not null
            and (o.deleted_at is null, o.folder, coalesce(o.doc_modified, o.mtime))
                is distinct from (n.deleted_at is null, n.folder, coalesce(n.doc_modified, n.mtime))
          returning id
        )
        select max(id), count(*) into last_id, added from ins;
      end if;
      if last_id is not null and last_id / 32 <> (last_id - added) / 32 then
        perform docsight_folder_bounds_compact();
      end if;
      return null;
    end
    $$`.execute(db);

  await sql`
    create trigger documents_bounds_insert after insert on documents
    referencing new table as new_rows for each statement execute function docsight_documents_bounds()`.execute(db);
  await sql`
    create trigger documents_bounds_update after update on documents
    referencing old table as old_rows new table as new_rows
    for each statement execute function docsight_documents_bounds()`.execute(db);
  await sql`
    create trigger documents_bounds_delete after delete on documents
    referencing old table as old_rows for each statement execute function docsight_documents_bounds()`.execute(db);
  await sql`
    create trigger documents_bounds_truncate after truncate on documents
    for each statement execute function docsight_documents_bounds()`.execute(db);

  // Backfill: everything there is now.
  await sql`select docsight_folder_bounds_rebuild()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['documents_bounds_insert', 'documents_bounds_update', 'documents_bounds_delete', 'documents_bounds_truncate']) {
    await sql`drop trigger if exists ${sql.id(t)} on documents`.execute(db);
  }
  for (const f of ['docsight_documents_bounds', 'docsight_folder_bounds_rebuild', 'docsight_folder_bounds_compact']) {
    await sql`drop function if exists ${sql.id(f)}()`.execute(db);
  }
  await sql`drop table if exists folder_bound_marks`.execute(db);
  await sql`drop table if exists folder_bounds`.execute(db);
}
