/** Taxonomies and their versions. An edit never changes a version: it adds the next one. */
import { sql } from 'kysely';
import type { TaxonomyLabel } from '../contract.ts';
import type { FieldDefinition } from '../domain/fields.ts';
import type { FieldType } from '../domain/vocabulary.ts';
import type { Db } from './database.ts';

export type { FieldDefinition, TaxonomyLabel };

export interface TaxonomyRecord {
  id: string;
  name: string;
  description: string | null;
  version: number;
  currentVersion: number;
  labels: TaxonomyLabel[];
  /** Custom fields of this version (migration 0019); empty for versions without. */
  fields: FieldDefinition[];
  createdAt: Date;
  updatedAt: Date;
}

export const DEFAULT_TAXONOMY_NAME = 'internal-documents';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createTaxonomiesRepository(db: Db) {
  const base = () =>
    db
      .selectFrom('taxonomies as t')
      .innerJoin('taxonomy_versions as v', 'v.taxonomy_id', 't.id')
      .select([
        't.id',
        't.name',
        't.description',
        't.current_version',
        't.created_at',
        't.updated_at',
        'v.version',
        'v.labels',
        'v.fields',
      ]);
  const toRecord = (r: {
    id: string;
    name: string;
    description: string | null;
    current_version: number;
    created_at: Date;
    updated_at: Date;
    version: number;
    labels: TaxonomyLabel[];
    fields: FieldDefinition[];
  }): TaxonomyRecord => ({
    id: r.id,
    name: r.name,
    description: r.description,
    version: r.version,
    currentVersion: r.current_version,
    labels: r.labels,
    fields: r.fields,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });

  return {
    async list(): Promise<TaxonomyRecord[]> {
      const rows = await base().whereRef('v.version', '=', 't.current_version').orderBy('t.name').execute();
      return rows.map(toRecord);
    },

    /** By id or by name; the current version unless `version` is given. */
    async find(idOrName: string, version?: number): Promise<TaxonomyRecord | undefined> {
      let q = base();
      q = UUID.test(idOrName) ? q.where('t.id', '=', idOrName) : q.where('t.name', '=', idOrName);
      q = version === undefined ? q.whereRef('v.version', '=', 't.current_version') : q.where('v.version', '=', version);
      const r = await q.executeTakeFirst();
      return r ? toRecord(r) : undefined;
    },

    /** Create a taxonomy at version 1; undefined when the name is taken. */
    async create(input: { name: string; description?: string; labels: TaxonomyLabel[]; fields?: FieldDefinition[] }): Promise<TaxonomyRecord | undefined> {
      return db.transaction().execute(async (trx) => {
        const t = await trx
          .insertInto('taxonomies')
          .values({ name: input.name, description: input.description ?? null })
          .onConflict((oc) => oc.column('name').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (!t) return undefined;
        await trx
          .insertInto('taxonomy_versions')
          .values({ taxonomy_id: t.id, version: 1, labels: JSON.stringify(input.labels), fields: JSON.stringify(input.fields ?? []) })
          .execute();
        const r = await trx
          .selectFrom('taxonomies as t')
          .innerJoin('taxonomy_versions as v', 'v.taxonomy_id', 't.id')
          .select(['t.id', 't.name', 't.description', 't.current_version', 't.created_at', 't.updated_at', 'v.version', 'v.labels', 'v.fields'])
          .where('t.id', '=', t.id)
          .executeTakeFirstOrThrow();
        return toRecord(r);
      });
    },

    /**
     * The types a field of this name has in any taxonomy version (usually one): a filter on it
     * compares the typed value of each. Taxonomies are few and small, so the definitions are read whole.
     */
    async fieldTypes(name: string): Promise<FieldType[]> {
      const r = await sql<{ type: FieldType }>`
        select distinct def->>'type' as type
        from taxonomy_versions v, jsonb_array_elements(v.fields) def
        where def->>'name' = ${name}
        order by 1`.execute(db);
      return r.rows.map((x) => x.type);
    },

    /** Add the next version (labels, and optionally a new description). */
    async addVersion(id: string, input: { description?: string; labels: TaxonomyLabel[]; fields: FieldDefinition[] }): Promise<TaxonomyRecord | undefined> {
      return db.transaction().execute(async (trx) => {
        const t = await trx
          .updateTable('taxonomies')
          .set({
            current_version: sql`current_version + 1`,
            updated_at: sql`now()`,
            ...(input.description !== undefined ? { description: input.description } : {}),
          })
          .where('id', '=', id)
          .returning(['id', 'current_version'])
          .executeTakeFirst();
        if (!t) return undefined;
        await trx
          .insertInto('taxonomy_versions')
          .values({ taxonomy_id: t.id, version: t.current_version, labels: JSON.stringify(input.labels), fields: JSON.stringify(input.fields) })
          .execute();
        const r = await trx
          .selectFrom('taxonomies as t')
          .innerJoin('taxonomy_versions as v', 'v.taxonomy_id', 't.id')
          .select(['t.id', 't.name', 't.description', 't.current_version', 't.created_at', 't.updated_at', 'v.version', 'v.labels', 'v.fields'])
          .where('t.id', '=', t.id)
          .whereRef('v.version', '=', 't.current_version')
          .executeTakeFirstOrThrow();
        return toRecord(r);
      });
    },
  };
}

export type TaxonomiesRepository = ReturnType<typeof createTaxonomiesRepository>;
