/** Taxonomies: list, read (any version), create, and edit (which makes a new version). */
import { z } from 'zod';
import { AppError, notFound } from '../domain/errors.ts';
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

    async create(input: { name: string; description?: string; labels: z.infer<typeof LabelsInput> }): Promise<TaxonomyRecord> {
      const t = await repo.create(input);
      if (!t) throw new AppError('conflict', `A taxonomy named "${input.name}" already exists`);
      return t;
    },

    async update(idOrName: string, input: { description?: string; labels: z.infer<typeof LabelsInput> }): Promise<TaxonomyRecord> {
      const current = await this.get(idOrName);
      const t = await repo.addVersion(current.id, input);
      if (!t) throw notFound(`Taxonomy not found: ${idOrName}`);
      return t;
    },
  };
}

export type TaxonomiesService = ReturnType<typeof createTaxonomiesService>;
