/** Bucket sources. Credentials go in and out as ciphertext only: this file never sees a secret. */
import { type Selectable, sql } from 'kysely';
import { descendantRange } from '../domain/paths.ts';
import type { Db } from './database.ts';
import type { SourcesTable } from './schema.ts';
import type { SourceKind } from '../domain/vocabulary.ts';

export interface SourceRecord {
  name: string;
  kind: SourceKind;
  bucket: string;
  prefix: string;
  endpoint: string | null;
  region: string | null;
  forcePathStyle: boolean;
  accessKeyIdEnc: string | null;
  secretAccessKeyEnc: string | null;
  watchIntervalSeconds: number | null;
  watchedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type SourceWrite = Omit<SourceRecord, 'watchedAt' | 'createdAt' | 'updatedAt'>;

const cols = [
  'name',
  'kind',
  'bucket',
  'prefix',
  'endpoint',
  'region',
  'force_path_style',
  'access_key_id_enc',
  'secret_access_key_enc',
  'watch_interval_seconds',
  'watched_at',
  'created_at',
  'updated_at',
] as const;

/** A sources row as the schema types it (migration 0015). */
type Row = Selectable<SourcesTable>;

const toRecord = (r: Row): SourceRecord => ({
  name: r.name,
  kind: r.kind,
  bucket: r.bucket,
  prefix: r.prefix,
  endpoint: r.endpoint,
  region: r.region,
  forcePathStyle: r.force_path_style,
  accessKeyIdEnc: r.access_key_id_enc,
  secretAccessKeyEnc: r.secret_access_key_enc,
  watchIntervalSeconds: r.watch_interval_seconds,
  watchedAt: r.watched_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toRow = (s: SourceWrite) => ({
  name: s.name,
  kind: s.kind,
  bucket: s.bucket,
  prefix: s.prefix,
  endpoint: s.endpoint,
  region: s.region,
  force_path_style: s.forcePathStyle,
  access_key_id_enc: s.accessKeyIdEnc,
  secret_access_key_enc: s.secretAccessKeyEnc,
  watch_interval_seconds: s.watchIntervalSeconds,
});

export function createSourcesRepository(db: Db) {
  return {
    async list(): Promise<SourceRecord[]> {
      return (await db.selectFrom('sources').select(cols).orderBy('name').execute()).map(toRecord);
    },

    async find(name: string): Promise<SourceRecord | undefined> {
      const r = await db.selectFrom('sources').select(cols).where('name', '=', name).executeTakeFirst();
      return r ? toRecord(r) : undefined;
    },

    /** Insert; undefined when the name is taken. */
    async create(s: SourceWrite): Promise<SourceRecord | undefined> {
      const r = await db
        .insertInto('sources')
        .values(toRow(s))
        .onConflict((oc) => oc.column('name').doNothing())
        .returning(cols)
        .executeTakeFirst();
      return r ? toRecord(r) : undefined;
    },

    async update(s: SourceWrite): Promise<SourceRecord | undefined> {
      const { name, ...rest } = toRow(s);
      const r = await db
        .updateTable('sources')
        .set({ ...rest, updated_at: sql`now()` })
        .where('name', '=', name)
        .returning(cols)
        .executeTakeFirst();
      return r ? toRecord(r) : undefined;
    },

    /** Remove the source; its documents stay, marked deleted (they can no longer be read). */
    async remove(name: string): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const gone = await trx.deleteFrom('sources').where('name', '=', name).returning('name').executeTakeFirst();
        if (!gone) return false;
        const range = descendantRange(name);
        if (!range) return true;
        await trx
          .updateTable('documents')
          .set({ deleted_at: sql`now()`, updated_at: sql`now()` })
          .where('deleted_at', 'is', null)
          .where('path', '>=', range.lower)
          .where('path', '<', range.upper)
          .execute();
        return true;
      });
    },

    /**
     * Claim the sources whose watch is due: one statement that moves `watched_at`, so of any
     * number of workers ticking at once exactly one gets each due source (row locks decide).
     */
    async claimDueWatches(now = new Date()): Promise<string[]> {
      const rows = await db
        .updateTable('sources')
        .set({ watched_at: now })
        .where('watch_interval_seconds', 'is not', null)
        .where((eb) =>
          eb.or([
            eb('watched_at', 'is', null),
            eb('watched_at', '<=', sql<Date>`${now}::timestamptz - make_interval(secs => watch_interval_seconds)`),
          ]),
        )
        .returning('name')
        .execute();
      return rows.map((r) => r.name);
    },
  };
}

export type SourcesRepository = ReturnType<typeof createSourcesRepository>;
