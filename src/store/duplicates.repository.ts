/**
 * Reads behind duplicates and versions (migration 0013): exact copies by sha256, near-copy
 * candidates by shared LSH band hashes, and the signatures and facts to verify and show them.
 * Candidates are collapsed to distinct contents (sha256) in SQL, so a thousand identical copies
 * cost one row, not half a million pairs.
 */
import { type RawBuilder, sql } from 'kysely';
import { descendantRange } from '../domain/paths.ts';
import type { Db } from './database.ts';

/** A live file on disk as a duplicate group shows it. */
export interface DuplicateMember {
  id: string;
  path: string;
  name: string;
  size: number;
  /** The document's own modified date, else the file's mtime. */
  modified: Date;
  sha256: string;
}

/** A document that may be like another one, with what access is decided on. */
export interface SimilarCandidate extends DuplicateMember {
  /** The file on disk it is in (its own path for a file). */
  filePath: string;
  minhash: number[] | null;
}

/** Files on disk, live, inside the folder (the root: everywhere). */
function liveFilesIn(folder: string): RawBuilder<boolean> {
  const range = descendantRange(folder);
  const within = range ? sql`and d.path >= ${range.lower} and d.path < ${range.upper}` : sql``;
  return sql<boolean>`d.origin = 'file' and d.deleted_at is null and d.sha256 is not null ${within}`;
}

type MemberRow = { id: string; path: string; name: string; size: string | number; modified: Date; sha256: string };
const toMember = (r: MemberRow): DuplicateMember => ({ id: r.id, path: r.path, name: r.name, size: Number(r.size), modified: r.modified, sha256: r.sha256 });

export function createDuplicatesRepository(db: Db) {
  return {
    /** Contents (sha256) held by more than one file inside the folder. */
    async exactContents(folder: string): Promise<string[]> {
      const r = await sql<{ sha256: string }>`
        select d.sha256 from documents d where ${liveFilesIn(folder)}
        group by d.sha256 having count(*) > 1`.execute(db);
      return r.rows.map((x) => x.sha256);
    },

    /**
     * The LSH buckets inside the folder that hold more than one content: each is the sorted
     * contents sharing one band hash. One pass over the bands (`lsh`, migration 0021) of the folder's files.
     */
    async candidateBuckets(folder: string): Promise<string[][]> {
      const r = await sql<{ shas: string[] }>`
        select array_agg(distinct d.sha256 order by d.sha256) as shas
        from documents d cross join unnest(d.lsh) with ordinality as b(hash, band)
        where ${liveFilesIn(folder)} and d.minhash is not null
        group by b.band, b.hash having count(distinct d.sha256) > 1`.execute(db);
      return r.rows.map((x) => x.shas);
    },

    /** One signature per content, from a live file inside the folder. */
    async signatures(folder: string, shas: string[]): Promise<Map<string, number[]>> {
      if (shas.length === 0) return new Map();
      const r = await sql<{ sha256: string; minhash: number[] }>`
        select distinct on (d.sha256) d.sha256, d.minhash from documents d
        where d.sha256 = any(${shas}::text[]) and d.minhash is not null and ${liveFilesIn(folder)}`.execute(db);
      return new Map(r.rows.map((x) => [x.sha256, x.minhash]));
    },

    /** The live files inside the folder that hold these contents. */
    async members(folder: string, shas: string[]): Promise<DuplicateMember[]> {
      if (shas.length === 0) return [];
      const r = await sql<MemberRow>`
        select d.id, d.path, d.name, d.size, coalesce(d.doc_modified, d.mtime) as modified, d.sha256 from documents d
        where d.sha256 = any(${shas}::text[]) and ${liveFilesIn(folder)}`.execute(db);
      return r.rows.map(toMember);
    },

    /**
     * Up to `limit` live documents with text but no signature of today's format, after `afterId`
     * in id order: extracted before signatures were computed (migration 0013), signed in an older
     * format (some value without the top bit, extract/minhash.ts: int4 values of today's are all
     * negative), or too short for one (those stay without, and are read again by each backfill:
     * their text is short).
     */
    async unsigned(afterId: string | null, limit: number): Promise<{ id: string; sha256: string | null; text: string }[]> {
      const r = await sql<{ id: string; sha256: string | null; text: string }>`
        select d.id, d.sha256, d.text from documents d
        where d.deleted_at is null and (d.minhash is null or 0 <= any(d.minhash)) and d.text is not null and d.text <> ''
          ${afterId !== null ? sql`and d.id > ${afterId}::uuid` : sql``}
        order by d.id
        limit ${limit}`.execute(db);
      return r.rows;
    },

    /**
     * Store signatures computed from the text read by `unsigned` (`textMd5`: of its UTF-8 bytes)
     * and their LSH bands, in one transaction. A document whose content or text changed since (a re-extraction or OCR wrote
     * its own) is left alone. Returns how many were stored.
     */
    async saveSignatures(rows: { id: string; sha256: string | null; textMd5: string; minhash: number[] }[]): Promise<number> {
      if (rows.length === 0) return 0;
      // The LSH bands follow from the signature (a generated column, migration 0021).
      return db.transaction().execute(async (trx) => {
        const r = await sql<{ id: string }>`
          update documents d set minhash = x.minhash
          from (select * from jsonb_to_recordset(${JSON.stringify(rows.map((x) => ({ ...x, minhash: x.minhash.map((v) => v | 0) })))}::jsonb)
                as t(id uuid, sha256 text, "textMd5" text, minhash int4[])) x
          where d.id = x.id and (d.minhash is null or 0 <= any(d.minhash))
            and d.sha256 is not distinct from x.sha256 and md5(d.text) = x."textMd5"
          returning d.id`.execute(trx);
        return r.rows.length;
      });
    },

    /**
     * Live documents with the same content as this one or sharing a band hash with it (at most
     * `limit`), anywhere: the caller decides which it may see and which are alike enough.
     */
    async similarCandidates(id: string, limit: number): Promise<{ self: SimilarCandidate | undefined; others: SimilarCandidate[] }> {
      const r = await sql<MemberRow & { file_path: string; minhash: number[] | null }>`
        with self as (select id, sha256 from documents where id = ${id}),
        near as (
          select n.id from documents n, documents s
          where s.id = ${id} and n.id <> s.id and n.lsh && s.lsh
            and exists (select 1 from unnest(n.lsh, s.lsh) as b(x, y) where b.x = b.y)
          limit ${limit}),
        exact as (
          select d.id from documents d, self
          where d.sha256 = self.sha256 and d.deleted_at is null and d.sha256 is not null and d.id <> self.id
          limit ${limit})
        select d.id, d.path, d.name, d.size, coalesce(d.doc_modified, d.mtime) as modified, d.sha256, d.minhash,
          coalesce((select f.path from documents f where f.id = d.file_id), d.path) as file_path
        from documents d
        where d.id in (select id from self union select id from near union select id from exact)
          and (d.deleted_at is null or d.id = ${id})`.execute(db);
      const all = r.rows.map((x) => ({ ...toMember(x), filePath: x.file_path, minhash: x.minhash }));
      return { self: all.find((x) => x.id === id), others: all.filter((x) => x.id !== id && x.sha256 !== null) };
    },
  };
}

export type DuplicatesRepository = ReturnType<typeof createDuplicatesRepository>;
