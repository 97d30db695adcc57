/**
 * Reads behind duplicates and versions (migration 0013): each live file's content (sha256) and
 * LSH bands (`lsh`, migration 0021) in one paged pass, for the grouping to find exact copies and
 * band collisions; and the signatures and facts to verify and show them.
 */
import { endianness } from 'node:os';
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

/** Files read per statement by `bandedFiles`. */
const BANDED_PAGE = 10_000;

/** A live file as the grouping reads it: its content and the LSH bands of its signature. */
export interface BandedFile {
  sha256: string;
  /** Band b's 64-bit hash as two 32-bit halves, high at 2b and low at 2b + 1; null without a signature. */
  bands: Int32Array | null;
}

/** This machine stores integers little-endian (PostgreSQL's binary forms are big-endian). */
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * The elements of a one-dimensional array without nulls in PostgreSQL's binary form (array_send):
 * a 20-byte header (dimensions, null flag, element type, length, lower bound), then per element
 * its byte length and its big-endian bytes. Each element's bytes as `width / 4` 32-bit integers.
 */
function fixedWidthElements(buf: Buffer, width: number): Int32Array {
  // Copied to an aligned buffer and turned to this machine's byte order in one native step.
  const words = new Int32Array(buf.length >> 2);
  const bytes = Buffer.from(words.buffer);
  buf.copy(bytes, 0, 0, words.length * 4);
  if (LITTLE_ENDIAN) bytes.swap32();
  if (words[0] === 0) return new Int32Array(0);
  const n = words[3]!;
  const per = width / 4;
  const out = new Int32Array(n * per);
  for (let i = 0, at = 5, k = 0; i < n; i++, at += 1 + per) {
    if (words[at] !== width) throw new Error(`unexpected array element of ${words[at]} bytes`);
    for (let w = 1; w <= per; w++) out[k++] = words[at + w]!;
  }
  return out;
}

/** An int8[] as high and low 32-bit halves of each element. */
const int8Halves = (buf: Buffer): Int32Array => fixedWidthElements(buf, 8);
/** An int4[] as numbers. */
const int4Values = (buf: Buffer): number[] => Array.from(fixedWidthElements(buf, 4));

type MemberRow = { id: string; path: string; name: string; size: string | number; modified: Date; sha256: string };
const toMember = (r: MemberRow): DuplicateMember => ({ id: r.id, path: r.path, name: r.name, size: Number(r.size), modified: r.modified, sha256: r.sha256 });

export function createDuplicatesRepository(db: Db) {
  return {
    /**
     * Every live file inside the folder with its content and LSH bands (null: no signature), a
     * page of `pageSize` at a time in path order (keyset on the unique path), so the grouping
     * reads the folder in one pass and never holds more than two pages of rows.
     */
    async *bandedFiles(folder: string, pageSize = BANDED_PAGE): AsyncGenerator<BandedFile[]> {
      type Row = { path: string; sha256: string; lsh: Buffer | null };
      const read = async (after: string | null): Promise<Row[]> => {
        const r = await sql<Row>`
          select d.path, d.sha256, array_send(d.lsh) as lsh from documents d
          where ${liveFilesIn(folder)} ${after === null ? sql`` : sql`and d.path > ${after}`}
          order by d.path
          limit ${pageSize}`.execute(db);
        return r.rows;
      };
      let next = read(null);
      for (;;) {
        const rows = await next;
        const more = rows.length === pageSize;
        // The next page is read while this one is decoded; a reader that stops early leaves it unread.
        if (more) (next = read(rows[rows.length - 1]!.path)).catch(() => undefined);
        if (rows.length > 0) yield rows.map((x) => ({ sha256: x.sha256, bands: x.lsh ? int8Halves(x.lsh) : null }));
        if (!more) return;
      }
    },

    /** One signature per content, from a live file inside the folder. */
    async signatures(folder: string, shas: string[]): Promise<Map<string, number[]>> {
      if (shas.length === 0) return new Map();
      // Sent as arrays' binary form: parsing 128 numbers as text per file cost more than the query.
      const r = await sql<{ sha256: string; minhash: Buffer }>`
        select d.sha256, array_send(d.minhash) as minhash from documents d
        where d.sha256 = any(${shas}::text[]) and d.minhash is not null and ${liveFilesIn(folder)}`.execute(db);
      const out = new Map<string, number[]>();
      for (const x of r.rows) if (!out.has(x.sha256)) out.set(x.sha256, int4Values(x.minhash));
      return out;
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
