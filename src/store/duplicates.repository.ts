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

/** Contents whose files and signatures are read per statement by `holders`. */
const HOLDER_BATCH = 5000;

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
 * Arrays in PostgreSQL's binary form (array_send), one after another in one binary string, read
 * in order. Every part of an int4[] or int8[] is whole 32-bit words (dimensions, a null flag, the
 * element type, length and lower bound, then per element its byte length and its big-endian
 * bytes), so the string turns to this machine's byte order in one native step.
 */
function arrayReader(buf: Buffer) {
  const words = new Int32Array(buf.length >> 2);
  const bytes = Buffer.from(words.buffer);
  buf.copy(bytes, 0, 0, words.length * 4);
  if (LITTLE_ENDIAN) bytes.swap32();
  let at = 0;
  return {
    /** The next word (a flag written beside the arrays). */
    word: (): number => words[at++]!,
    /**
     * The next array, of `width`-byte elements without nulls, copied into `out` from `k` as
     * `width / 4` 32-bit words each; returns where its copy ends.
     */
    into(width: 4 | 8, out: Int32Array, k: number): number {
      const dims = words[at]!;
      if (dims === 0) {
        at += 3;
        return k;
      }
      const n = words[at + 3]!;
      at += 5;
      const per = width / 4;
      for (let i = 0; i < n; i++, at += 1 + per) {
        if (words[at] !== width) throw new Error(`unexpected array element of ${words[at]} bytes`);
        for (let w = 1; w <= per; w++) out[k++] = words[at + w]!;
      }
      return k;
    },
    /** The next array as `into` copies it, in an array of its own. */
    array(width: 4 | 8): Int32Array {
      const out = new Int32Array(words[at] === 0 ? 0 : (words[at + 3]! * width) / 4);
      this.into(width, out, 0);
      return out;
    },
    /** How many words are left to read. */
    left: (): number => words.length - at,
    /** Whether every word was read. */
    done: (): boolean => at === words.length,
  };
}

/**
 * The results of a chain of reads, one read ahead: `next` asks for the read after a result (null:
 * none), before that result is given out, so the database works on one while this process decodes
 * the other. A consumer that stops early leaves the read ahead unheard, and that is no failure.
 */
async function* readAhead<T>(first: Promise<T>, next: (result: T) => Promise<T> | null): AsyncGenerator<T> {
  let pending: Promise<T> | null = first;
  while (pending !== null) {
    const result: T = await pending;
    pending = next(result);
    pending?.catch(() => undefined);
    yield result;
  }
}

/** `read` over `keys` in batches of `size`, in order, one batch read ahead (none for no keys). */
async function* inBatches<T>(keys: string[], size: number, read: (batch: string[]) => Promise<T>): AsyncGenerator<T> {
  let at = 0;
  const nextBatch = () => (at < keys.length ? read(keys.slice(at, (at += size))) : null);
  const first = nextBatch();
  if (first) yield* readAhead(first, nextBatch);
}

/** `n` files of a page read by `bandedFiles`: contents joined by line breaks, flagged bands (int8[]) in one binary string. */
function bandedPage(shas: string, bands: Buffer, n: number): BandedFile[] {
  const contents = shas.split('\n');
  if (contents.length !== n) throw new Error(`a page of ${n} files came with ${contents.length} contents`);
  const read = arrayReader(bands);
  const out = new Array<BandedFile>(n);
  // An int8 element is two words, high first: the halves BandedFile holds. Every file's are a
  // view of one array for the page: an array of its own per file cost an allocation each.
  const halves = new Int32Array(read.left());
  for (let i = 0, k = 0; i < n; i++) {
    if (read.word() === 0) out[i] = { sha256: contents[i]!, bands: null };
    else {
      const from = k;
      k = read.into(8, halves, k);
      out[i] = { sha256: contents[i]!, bands: halves.subarray(from, k) };
    }
  }
  if (!read.done()) throw new Error('a page of bands held more than its files');
  return out;
}

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
      // A page comes as one row: its contents joined by line breaks and its bands as one binary
      // string, each file's a 4-byte flag (1: a signature follows) and its int8[] in array_send's
      // form. Read a row per file, the rows' parsing (a message, three fields and a hex string
      // each) took most of the grouping's time; this way a page is two strings and one native
      // byte swap. Both aggregates read the same rows in the same order, so the i-th content and
      // the i-th bands are one file's; which order that is does not matter to the grouping. The
      // binary string comes as base64, not as bytea's hex: a third fewer characters to receive
      // and decode (about 0.1 s of this process's time over 100,000 files).
      type Page = { n: number; last: string | null; shas: string | null; bands: string | null };
      const read = async (after: string | null): Promise<Page> => {
        const r = await sql<Page>`
          select count(*)::int as n, max(t.path) as last,
                 string_agg(t.sha256, chr(10)) as shas,
                 encode(string_agg(case when t.lsh is null then decode('00000000', 'hex') else decode('00000001', 'hex') || array_send(t.lsh) end, decode('', 'hex')), 'base64') as bands
          from (select d.path, d.sha256, d.lsh from documents d
                where ${liveFilesIn(folder)} ${after === null ? sql`` : sql`and d.path > ${after}`}
                order by d.path
                limit ${pageSize}) t`.execute(db);
        return r.rows[0] ?? { n: 0, last: null, shas: null, bands: null };
      };
      // A full page may have a next one (keyset on the path); it is read while this one is decoded.
      for await (const page of readAhead(read(null), (p) => (p.n === pageSize ? read(p.last) : null))) {
        if (page.n > 0) yield bandedPage(page.shas ?? '', Buffer.from(page.bands ?? '', 'base64'), page.n);
      }
    },

    /**
     * The live files inside the folder that hold these contents, and one signature per content
     * (from one of them; none where none has one). One statement reads both: the contents' files
     * are found once, not once for each.
     */
    async holders(folder: string, shas: string[], batchSize = HOLDER_BATCH): Promise<{ members: DuplicateMember[]; signatures: Map<string, Int32Array> }> {
      const members: DuplicateMember[] = [];
      const signatures = new Map<string, Int32Array>();
      // Per statement one row: the files as one JSON array of arrays, the signed contents joined
      // by line breaks and their signatures' binary forms (array_send) in one string, as base64
      // (parsing a row per file, six fields each, a date among them, cost more than the query).
      // The modified date goes as whole milliseconds since 1970 (floor: the instant a JS Date of
      // it has).
      type Member = [id: string, path: string, name: string, size: number, modified: number, sha256: string];
      type Batch = { members: Member[] | null; n: number; shas: string | null; sigs: string | null };
      const read = async (batch: string[]): Promise<Batch> => {
        const r = await sql<Batch>`
          with f as materialized (
            select d.id, d.path, d.name, d.size, coalesce(d.doc_modified, d.mtime) as modified, d.sha256, d.minhash from documents d
            where d.sha256 = any(${batch}::text[]) and ${liveFilesIn(folder)}),
          s as (select distinct on (f.sha256) f.sha256, f.minhash from f where f.minhash is not null)
          select m.members, g.n, g.shas, g.sigs
          from (select json_agg(json_build_array(f.id, f.path, f.name, f.size, floor(extract(epoch from f.modified) * 1000), f.sha256)) as members from f) m,
               (select count(*)::int as n, string_agg(s.sha256, chr(10)) as shas, encode(string_agg(array_send(s.minhash), decode('', 'hex')), 'base64') as sigs from s) g`.execute(db);
        return r.rows[0] ?? { members: null, n: 0, shas: null, sigs: null };
      };
      for await (const batch of inBatches(shas, batchSize, read)) {
        for (const [id, path, name, size, modified, sha256] of batch.members ?? []) members.push({ id, path, name, size, modified: new Date(modified), sha256 });
        if (batch.n === 0) continue;
        const contents = (batch.shas ?? '').split('\n');
        const sigs = arrayReader(Buffer.from(batch.sigs ?? '', 'base64'));
        for (const sha of contents) signatures.set(sha, sigs.array(4));
        if (contents.length !== batch.n || !sigs.done()) throw new Error('signatures and contents did not pair up');
      }
      return { members, signatures };
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
