/** Taxonomies: list, read (any version), create, and edit (which makes a new version). */
import { z } from 'zod';
import { AppError, notFound } from '../domain/errors.ts';
import { type FieldDefinition, fieldDefinitionProblem, MAX_FIELDS } from '../domain/fields.ts';
import { FIELD_TYPES } from '../domain/vocabulary.ts';
import type { TaxonomiesRepository, TaxonomyRecord } from '../store/taxonomies.repository.ts';
import { DEFAULT_TAXONOMY_NAME } from '../store/taxonomies.repository.ts';

export const LabelInput = z.strictObject({
  name: z.string().trim().min(1).max(80),
  description: z.string().trim().max(500).optional(),
});

export const LabelsInput = z
  .array(LabelInput)
  .min(1)
  .max(100)
  .refine((labels) => new Set(labels.map((l) => l.name.toLowerCase())).size === labels.length, 'Label names must be unique');

/**
 * The shape of a custom field definition. The rules between its parts (a safe name, values for
 * enums only, unique names, how many) are checked by the service, so each breach answers its own
 * `invalid_field` message instead of a schema error.
 */
export const FieldInput = z.strictObject({
  name: z.string().trim().min(1).max(100),
  type: z.enum(FIELD_TYPES),
  description: z.string().trim().max(500).optional(),
  values: z.array(z.string().trim().max(200)).max(200).optional(),
});

/** Bounded loosely here (the service says what the real limit is). */
export const FieldsInput = z.array(FieldInput).max(MAX_FIELDS * 5);

export const TaxonomyName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/, 'letters, digits, space, _ . - (max 64)');

export function createTaxonomiesService(repo: TaxonomiesRepository) {
  return {
    list: () => repo.list(),

    async get(idOrName: string, version?: number): Promise<TaxonomyRecord> {
      const t = await repo.find(idOrName, version);
      if (!t) throw notFound(version ? `Taxonomy ${idOrName} has no version ${version}` : `Taxonomy not found: ${idOrName}`);
      return t;
    },

    /** The taxonomy a classification uses: the named one, or the default. */
    async resolve(idOrName?: string): Promise<TaxonomyRecord> {
      return this.get(idOrName ?? DEFAULT_TAXONOMY_NAME);
    },

    async create(input: { name: string; description?: string; labels: z.infer<typeof LabelsInput>; fields?: FieldDefinition[] }): Promise<TaxonomyRecord> {
      checkFields(input.fields ?? []);
      const t = await repo.create(input);
      if (!t) throw new AppError('conflict', `A taxonomy named "${input.name}" already exists`);
      return t;
    },

    /** The next version; `fields` absent keeps the current version's fields, `[]` removes them. */
    async update(idOrName: string, input: { description?: string; labels: z.infer<typeof LabelsInput>; fields?: FieldDefinition[] }): Promise<TaxonomyRecord> {
      if (input.fields) checkFields(input.fields);
      const current = await this.get(idOrName);
      const t = await repo.addVersion(current.id, { ...input, fields: input.fields ?? current.fields });
      if (!t) throw notFound(`Taxonomy not found: ${idOrName}`);
      return t;
    },
  };
}

function checkFields(fields: readonly FieldDefinition[]): void {
  const problem = fieldDefinitionProblem(fields);
  if (problem) throw new AppError('invalid_field', problem.problem, problem.field === undefined ? undefined : { field: problem.field });
}

export type TaxonomiesService = ReturnType<typeof createTaxonomiesService>;
