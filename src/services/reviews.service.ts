/**
 * Reviewer corrections: a folder's review queue (documents whose current result has a tag under
 * the review threshold, oldest result first), and corrections of a document's result, validated
 * against its taxonomy and stored with who and when. A correction wins over later automatic runs
 * for the same content and taxonomy unless a run is forced (the rule is applied where results are
 * saved: classifications.repository.ts, `overrideReview`).
 */
import { z } from 'zod';
import type { ClassificationCorrection } from '../contract.ts';
import { canSee, type Principal } from '../domain/access.ts';
import { AppError, badRequest, notFound } from '../domain/errors.ts';
import { readFieldValues } from '../domain/fields.ts';
import type { ReviewQueueItem, ReviewsRepository } from '../store/reviews.repository.ts';
import type { TaxonomiesRepository } from '../store/taxonomies.repository.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

export interface ReviewsServiceDeps {
  reviews: ReviewsRepository;
  taxonomies: Pick<TaxonomiesRepository, 'find'>;
  /** The folder check insights use: in scope, and recorded or on disk (else 404). */
  knownFolder(path: string, access: Principal): Promise<{ rel: string }>;
}

/** A PostgreSQL timestamptz as text (microseconds kept: a JavaScript Date would drop them) and an id. */
export const PG_TIME_TEXT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;
const QueueCursor = z.tuple([z.string().regex(PG_TIME_TEXT), z.uuid()]);

/**
 * Labels as the taxonomy spells them; a label in other case or spacing is the taxonomy's. Throws
 * 400 label_outside_taxonomy naming every label that is not in it.
 */
export function canonicalLabels(labels: readonly string[], taxonomyLabels: readonly { name: string }[]): string[] {
  const byKey = new Map(taxonomyLabels.map((l) => [labelKey(l.name), l.name]));
  const out: string[] = [];
  const outside: string[] = [];
  for (const l of labels) {
    const name = byKey.get(labelKey(l));
    if (name === undefined) outside.push(l);
    else if (!out.includes(name)) out.push(name);
  }
  if (outside.length > 0) {
    throw new AppError('label_outside_taxonomy', `Not in the taxonomy: ${outside.map((l) => JSON.stringify(l)).join(', ')}`, { labels: outside });
  }
  return out;
}

function labelKey(label: string): string {
  return label.trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * The labels and primary category a correction leads to, from the current ones: `tags` replaces
 * the set, then `add` and `remove` apply; a primary category not among the tags joins them (as
 * the classifier normalises a model's answer), and when the primary category is removed the
 * first remaining tag takes its place.
 */
export function applyCorrection(
  current: { tags: readonly string[]; primaryCategory: string },
  c: { tags?: readonly string[]; add?: readonly string[]; remove?: readonly string[]; primaryCategory?: string },
): { tags: string[]; primaryCategory: string } {
  let tags = [...(c.tags ?? current.tags)];
  for (const l of c.add ?? []) if (!tags.includes(l)) tags.push(l);
  const removed = new Set(c.remove ?? []);
  tags = tags.filter((l) => !removed.has(l));
  let primaryCategory = c.primaryCategory ?? current.primaryCategory;
  if (c.primaryCategory !== undefined) {
    if (!tags.includes(primaryCategory)) tags.unshift(primaryCategory);
  } else if (!tags.includes(primaryCategory)) {
    primaryCategory = tags[0] ?? '';
  }
  return { tags, primaryCategory };
}

export function createReviewsService(deps: ReviewsServiceDeps) {
  return {
    async queue(
      path: string,
      q: { cursor?: string; limit: number },
      access: Principal,
    ): Promise<{ folder: string; items: ReviewQueueItem[]; nextCursor: string | null }> {
      const folder = await deps.knownFolder(path, access);
      const after = q.cursor ? decodeCursor(q.cursor, QueueCursor) : undefined;
      const items = await deps.reviews.queue(folder.rel, after ? { at: after[0], id: after[1] } : undefined, q.limit);
      const last = items.at(-1);
      return {
        folder: folder.rel,
        items,
        nextCursor: last && items.length === q.limit ? encodeCursor([last.position, last.classificationId]) : null,
      };
    },

    /** Correct (or accept) a document's current result; answers with nothing: read the document back. */
    async correct(documentId: string, c: ClassificationCorrection, access: Principal): Promise<void> {
      const base = await deps.reviews.base(documentId);
      if (!base || base.deleted || !canSee(access, base.filePath)) throw notFound(`Document not found: ${documentId}`);
      const changes = c.tags !== undefined || c.add !== undefined || c.remove !== undefined || c.primaryCategory !== undefined || c.fields !== undefined;
      if (!changes && c.accept !== true) throw badRequest('Give tags, add, remove, primaryCategory or fields, or accept: true');
      const current = base.classification;
      if (!current || !base.sha256) {
        throw new AppError('not_classified', `Document ${documentId} has no classification to correct: classify it first`);
      }
      const taxonomy = await deps.taxonomies.find(current.taxonomyId, current.taxonomyVersion);
      if (!taxonomy) throw new AppError('not_classified', `The taxonomy of the document's result is gone`);
      const canon = (xs: readonly string[] | undefined) => (xs === undefined ? undefined : canonicalLabels(xs, taxonomy.labels));
      const primary = c.primaryCategory === undefined ? undefined : canonicalLabels([c.primaryCategory], taxonomy.labels)[0];
      const before = { tags: current.tags.map((t) => t.label), primaryCategory: current.primaryCategory };
      const after = applyCorrection(before, { tags: canon(c.tags), add: canon(c.add), remove: canon(c.remove), primaryCategory: primary });
      if (after.tags.length === 0) throw badRequest('A result keeps at least one tag');
      const fields = readFieldValues(c.fields, taxonomy.fields);
      if (!('fields' in fields)) throw new AppError('invalid_field', fields.message, { field: fields.field });
      // Setting a field is a judgement of its own, so such a correction is not a plain acceptance.
      const accepted = sameResult(before, after) && fields.fields === null;
      await deps.reviews.save({
        documentId,
        path: base.path,
        contentSha256: base.sha256,
        taxonomyId: current.taxonomyId,
        taxonomyVersion: current.taxonomyVersion,
        tags: after.tags,
        primaryCategory: after.primaryCategory,
        fields: fields.fields,
        accepted,
        baseClassificationId: current.id,
        summary: current.summary,
        summaryLanguage: current.summaryLanguage,
        language: current.language,
        reviewedBy: access.keyId,
      });
    },
  };
}

function sameResult(a: { tags: readonly string[]; primaryCategory: string }, b: { tags: readonly string[]; primaryCategory: string }): boolean {
  return a.primaryCategory === b.primaryCategory && a.tags.length === b.tags.length && a.tags.every((t) => b.tags.includes(t));
}

export type ReviewsService = ReturnType<typeof createReviewsService>;
