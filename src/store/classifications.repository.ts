/** Classification results: stored per document under the key that produced them. */
import { type Transaction, sql } from 'kysely';
import { descendantRange } from '../domain/paths.ts';
import type { FieldValue } from '../domain/fields.ts';
import type { Db } from './database.ts';
import type { Database, DocumentStatus } from './schema.ts';

export interface ResultKey {
  taxonomyId: string;
  taxonomyVersion: number;
  model: string;
  promptVersion: string;
  /** 'auto' when summaries follow each document's own language. */
  summaryLanguage: string;
}

export interface StoredTag {
  label: string;
  confidence: number;
  needsReview: boolean;
}

/** What one classification produced, as stored. */
export interface ClassificationOutput {
  tags: StoredTag[];
  primaryCategory: string;
  summary: string;
  language: string | null;
  strategy: string;
  chunks: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  needsReview: boolean;
  /** What the classifier normalised in the model's answers; absent: none. */
  warnings?: string[];
  /** Wall time of the document's requests; absent: not measured. */
  latencyMs?: number;
  /** Custom field values by name (typed copies are kept by a trigger, migration 0019); absent: none. */
  fields?: Record<string, FieldValue>;
}

export interface NewClassification extends ResultKey, ClassificationOutput {
  documentId: string;
  contentSha256: string;
  jobId: string;
  /**
   * Point the document at this result even when a reviewer corrected its content under this
   * taxonomy (a forced run); otherwise the correction stays the document's result and this one is
   * only kept (for evaluation, and to be reused).
   */
  overrideReview?: boolean;
  /**
   * Keep this result without making it the document's: another model's, classified for an
   * evaluation. The document keeps showing the workers' own model's result (or the correction).
   */
  besideCurrent?: boolean;
}


export interface ClassificationView {
  id: string;
  taxonomyId: string;
  taxonomyVersion: number;
  model: string;
  promptVersion: string;
  summaryLanguage: string;
  tags: StoredTag[];
  primaryCategory: string;
  summary: string;
  language: string | null;
  strategy: string;
  chunks: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  needsReview: boolean;
  warnings: string[];
  fields: Record<string, FieldValue>;
  jobId: string | null;
  createdAt: Date;
  /** Wall time of the document's requests (null: not measured). */
  latencyMs: number | null;
  /** Set when this result is a reviewer's correction. */
  review: { keyId: string | null; name: string | null; at: Date; accepted: boolean } | null;
}

export interface ClassifyCandidate {
  id: string;
  path: string;
  sha256: string;
}

/** A candidate, and whether it is the first (by path) in its scope holding its content. */
export interface PlannedCandidate extends ClassifyCandidate {
  firstCopy: boolean;
}

/** What a scan compares a file on disk with: the size and mtime of its last extraction. */
export interface KnownFile {
  path: string;
  size: number;
  mtime: Date;
  status: DocumentStatus;
  etag: string | null;
}

export interface ClassifyInputRow {
  id: string;
  path: string;
  name: string;
  sha256: string | null;
  title: string | null;
  language: string | null;
  text: string | null;
}

/** The unique key of a result (classifications_key_idx, migration 0003): what an upsert conflicts on. */
export const RESULT_KEY_COLUMNS = ['document_id', 'content_sha256', 'taxonomy_id', 'taxonomy_version', 'model', 'prompt_version', 'summary_language'] as const;

/** Most results in one statement. */
const GROUP_MAX = 100;

/**
 * Inserts (or, under the same key, replaces) results and points their documents at them, in one
 * statement (the insert is a data-modifying CTE): one round trip, no explicit transaction, however
 * many results. Its statement-level triggers (folder statistics, migration 0007) fire once both
 * writes are done, and recompute a document's classified state from what is there then, so the
 * order they run in does not matter. Callers pass at most one result per document (ON CONFLICT
 * may not touch a row twice in one statement).
 *
 * Lock order: the documents are locked first, in id order, as a scan and an extraction lock them
 * (documents.repository.ts); an UPDATE ... FROM would lock them in whatever order its plan visits
 * them, and could deadlock with a re-extraction of the same documents.
 */
export async function writeResults(db: Db, group: readonly NewClassification[]): Promise<void> {
  const ids = group.map((c) => c.documentId);
  const overriding = group.filter((c) => c.overrideReview).map((c) => c.documentId);
  const beside = group.filter((c) => c.besideCurrent).map((c) => c.documentId);
  await db
    .with('locked', (qb) =>
      qb
        .selectFrom('documents')
        .select('id')
        .where('id', '=', sql<string>`any(${ids}::uuid[])`)
        .orderBy('id')
        .forNoKeyUpdate(),
    )
    .with('saved', (qb) =>
      qb
        .insertInto('classifications')
        .values(
          group.map((c) => ({
            document_id: c.documentId,
            content_sha256: c.contentSha256,
            taxonomy_id: c.taxonomyId,
            taxonomy_version: c.taxonomyVersion,
            model: c.model,
            prompt_version: c.promptVersion,
            summary_language: c.summaryLanguage,
            tags: JSON.stringify(c.tags),
            primary_category: c.primaryCategory,
            summary: c.summary,
            language: c.language,
            strategy: c.strategy,
            chunks: c.chunks,
            input_tokens: c.inputTokens,
            output_tokens: c.outputTokens,
            cost_usd: c.costUsd,
            needs_review: c.needsReview,
            warnings: c.warnings ?? [],
            fields: JSON.stringify(c.fields ?? {}),
            job_id: c.jobId,
            latency_ms: c.latencyMs ?? null,
          })),
        )
        .onConflict((oc) =>
          oc
            .columns(RESULT_KEY_COLUMNS)
            .doUpdateSet((eb) => ({
              tags: eb.ref('excluded.tags'),
              primary_category: eb.ref('excluded.primary_category'),
              summary: eb.ref('excluded.summary'),
              language: eb.ref('excluded.language'),
              strategy: eb.ref('excluded.strategy'),
              chunks: eb.ref('excluded.chunks'),
              input_tokens: eb.ref('excluded.input_tokens'),
              output_tokens: eb.ref('excluded.output_tokens'),
              cost_usd: eb.ref('excluded.cost_usd'),
              needs_review: eb.ref('excluded.needs_review'),
              warnings: eb.ref('excluded.warnings'),
              fields: eb.ref('excluded.fields'),
              job_id: eb.ref('excluded.job_id'),
              latency_ms: eb.ref('excluded.latency_ms'),
              created_at: sql`now()`,
            })),
        )
        .returning(['id', 'document_id', 'content_sha256', 'taxonomy_id']),
    )
    .updateTable('documents')
    .from('saved')
    .set((eb) => ({ classification_id: eb.ref('saved.id') }))
    .whereRef('documents.id', '=', 'saved.document_id')
    // A reviewer's correction of this content under this taxonomy stays the document's result,
    // unless the run was forced (migration 0018).
    .where(
      sql<boolean>`(documents.id = any(${overriding}::uuid[]) or not exists (
        select 1 from classification_reviews r
        where r.document_id = saved.document_id and r.content_sha256 = saved.content_sha256 and r.taxonomy_id = saved.taxonomy_id))`,
    )
    // An evaluation's result of another model is only kept.
    .where(sql<boolean>`documents.id <> all(${beside}::uuid[])`)
    // Referenced, so the locking CTE runs (once, before the first document is updated).
    .where(sql<boolean>`(select count(*) from locked) >= 0`)
    .execute();
}

/** Save statements in flight at once per repository (see `resultWriter`). */
const WRITES_IN_FLIGHT = 2;

/**
 * How long a result may wait for others to share its statement. The statement's fixed cost
 * (planning, and the folder statistics' statement triggers of migrations 0007/0008/0028) is about
 * ten times a row's: measured on PostgreSQL, ~6 ms of server CPU for a statement of one result
 * against ~0.7 ms a result in statements of fifty, and the Node side goes the same way. Results
 * arriving at 200 a second shared a statement three by three when each was written as soon as
 * possible, which made the writes a quarter of the CPU of a classification (issue 18).
 */
export const RESULT_LINGER_MS = 100;

/**
 * Group commit for `save`: a result waits up to `lingerMs` (or until GROUP_MAX are waiting, or
 * `flush`) for others to go in the same statement, with at most WRITES_IN_FLIGHT statements at a
 * time. Two in flight rather than one, so a slow statement (a trigger compacting statistics, a
 * lock wait) does not hold up every other result. A document appears in at most one statement in
 * flight (a second result for it, e.g. under another taxonomy, goes in a later one, after the
 * first has committed). Should a group fail, its results are written one by one, so one bad
 * result fails only its own save.
 */
export function resultWriter(write: (group: readonly NewClassification[]) => Promise<void>, lingerMs = RESULT_LINGER_MS) {
  type Pending = { c: NewClassification; resolve: () => void; reject: (err: unknown) => void; due: number };
  let queue: Pending[] = [];
  let inFlight = 0;
  let scheduled = false;
  let timer: NodeJS.Timeout | undefined;
  /** Documents with a result in a statement in flight: their next result waits, so the later one stays the latest. */
  const writing = new Set<string>();

  const take = (): Pending[] => {
    const group: Pending[] = [];
    const rest: Pending[] = [];
    for (const p of queue) {
      if (group.length < GROUP_MAX && !writing.has(p.c.documentId)) {
        writing.add(p.c.documentId);
        group.push(p);
      } else rest.push(p);
    }
    queue = rest;
    return group;
  };

  const writeGroup = async (group: Pending[]) => {
    try {
      await write(group.map((p) => p.c));
      for (const p of group) p.resolve();
    } catch (err) {
      if (group.length === 1) group[0]?.reject(err);
      else for (const p of group) await write([p.c]).then(p.resolve, p.reject);
    }
  };

  /** Waits for the oldest result's turn; a statement in flight pumps again when it ends. */
  const arm = () => {
    if (timer !== undefined || queue.length === 0 || inFlight >= WRITES_IN_FLIGHT) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        pump();
      },
      Math.max(0, (queue[0]?.due ?? 0) - Date.now()),
    );
  };

  const pump = () => {
    scheduled = false;
    while (inFlight < WRITES_IN_FLIGHT && queue.length > 0) {
      // Nothing due yet, and too few to fill a statement: wait for more.
      if (queue.length < GROUP_MAX && (queue[0]?.due ?? 0) > Date.now()) break;
      const group = take();
      if (group.length === 0) return; // every waiting result's document is being written: the write's end pumps again
      inFlight += 1;
      void writeGroup(group).finally(() => {
        for (const p of group) writing.delete(p.c.documentId);
        inFlight -= 1;
        pump();
      });
    }
    arm();
  };

  /** On the next turn: results that arrived in the same burst share the statement. */
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    setImmediate(pump);
  };

  return {
    save(c: NewClassification): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ c, resolve, reject, due: Date.now() + lingerMs });
        if (queue.length >= GROUP_MAX) schedule();
        else arm();
      });
    },
    /** The results waiting now go without waiting for more (their caller has no more coming). */
    flush(): void {
      if (queue.length === 0) return;
      for (const p of queue) p.due = 0;
      schedule();
    },
  };
}

/**
 * Which documents a plan looks at: those of its job not planned yet (classify_planned), and while
 * the job's scan is still running, only those extracted since it started (`freshSince`): another
 * document's row may still hold the content its file had before a change the scan has yet to extract.
 */
export interface PlanFilter {
  jobId: string;
  freshSince?: Date;
}

/** An extracted document of `t` (the alias) in scope that the plan may still put in a batch. */
function plannable(t: 'd' | 'o', scope: { folder: string } | { ids: string[] }, plan: PlanFilter | undefined) {
  const ref = (c: string) => sql.ref(`${t}.${c}`);
  let inScope = sql`true`;
  if ('ids' in scope) inScope = sql`${ref('id')} = any(${scope.ids}::uuid[])`;
  else {
    const range = descendantRange(scope.folder);
    if (range) inScope = sql`${ref('path')} >= ${range.lower} and ${ref('path')} < ${range.upper}`;
  }
  return sql`${ref('status')} = 'extracted' and ${ref('deleted_at')} is null and ${inScope}
    ${plan ? sql`and not exists (select 1 from classify_planned p where p.job_id = ${plan.jobId} and p.document_id = ${ref('id')})` : sql``}
    ${plan?.freshSince ? sql`and ${ref('extracted_at')} >= ${plan.freshSince}` : sql``}`;
}

/** `resultLingerMs`: how long a saved result may wait for others to share its statement (RESULT_LINGER_MS). */
export function createClassificationsRepository(db: Db, opts: { resultLingerMs?: number } = {}) {
  const writer = resultWriter((group) => writeResults(db, group), opts.resultLingerMs);
  return {
    /**
     * Documents a classification job left with a tag under the review threshold (its results
     * flagged needs_review, and the documents' current ones: those the review queue lists, not
     * an evaluation's results of another model, nor results a correction stays in front of): how
     * many, and the first `limit` of them by path.
     */
    async needingReview(jobId: string, limit: number): Promise<{ count: number; documents: { id: string; path: string }[] }> {
      const r = await sql<{ id: string; path: string; n: number }>`
        select d.id, d.path, count(*) over ()::int as n
        from classifications c join documents d on d.id = c.document_id and d.classification_id = c.id
        where c.job_id = ${jobId} and c.needs_review and d.deleted_at is null
        order by d.path limit ${limit}`.execute(db);
      return { count: r.rows[0]?.n ?? 0, documents: r.rows.map((x) => ({ id: x.id, path: x.path })) };
    },

    /**
     * Extracted documents to classify, a page at a time in path order: those inside `folder`, or
     * the listed ids.
     */
    async candidates(
      scope: { folder: string } | { ids: string[] },
      after: string | null,
      limit: number,
      plan?: PlanFilter,
    ): Promise<PlannedCandidate[]> {
      if ('ids' in scope && scope.ids.length === 0) return [];
      const r = await sql<{ id: string; path: string; sha256: string; first_copy: boolean }>`
        select d.id, d.path, d.sha256, not exists (
            select 1 from documents o
            where o.sha256 = d.sha256 and o.path < d.path and ${plannable('o', scope, plan)}
          ) as first_copy
        from documents d
        where d.sha256 is not null and ${plannable('d', scope, plan)}
          ${after !== null ? sql`and d.path > ${after}` : sql``}
        order by d.path
        limit ${limit}`.execute(db);
      return r.rows.map((x) => ({ id: x.id, path: x.path, sha256: x.sha256, firstCopy: x.first_copy }));
    },

    /**
     * The later copies in scope of these first copies (the same content, another document), so a
     * plan can put each content's copies in one batch.
     */
    async laterCopies(scope: { folder: string } | { ids: string[] }, first: ClassifyCandidate[], plan?: PlanFilter): Promise<ClassifyCandidate[]> {
      if (first.length === 0) return [];
      const r = await sql<{ id: string; path: string; sha256: string }>`
        select d.id, d.path, d.sha256 from documents d
        where d.sha256 = any(${first.map((d) => d.sha256)}::text[]) and d.id <> all(${first.map((d) => d.id)}::uuid[])
          and ${plannable('d', scope, plan)}
        order by d.path`.execute(db);
      return r.rows.map((x) => ({ id: x.id, path: x.path, sha256: x.sha256 }));
    },

    /**
     * A result per content under this key, from any document holding it: made by `jobId` only,
     * or by any job when `jobId` is null. Exact copies share it instead of being sent again.
     */
    async sharedResults(shas: string[], key: ResultKey, jobId: string | null): Promise<Map<string, ClassificationOutput>> {
      if (shas.length === 0) return new Map();
      const r = await sql<{
        content_sha256: string;
        tags: StoredTag[];
        primary_category: string;
        summary: string;
        language: string | null;
        strategy: string;
        chunks: number;
        needs_review: boolean;
        warnings: string[] | null;
        fields: Record<string, FieldValue> | null;
      }>`
        select distinct on (c.content_sha256) c.content_sha256, c.tags, c.primary_category, c.summary, c.language,
               c.strategy, c.chunks, c.needs_review, c.warnings, c.fields
        from classifications c
        where c.content_sha256 = any(${shas}::text[])
          and c.taxonomy_id = ${key.taxonomyId} and c.taxonomy_version = ${key.taxonomyVersion} and c.model = ${key.model}
          and c.prompt_version = ${key.promptVersion} and c.summary_language = ${key.summaryLanguage}
          ${jobId !== null ? sql`and c.job_id = ${jobId}` : sql``}
        order by c.content_sha256, c.created_at desc`.execute(db);
      return new Map(
        r.rows.map((x) => [
          x.content_sha256,
          {
            tags: x.tags,
            primaryCategory: x.primary_category,
            summary: x.summary,
            language: x.language,
            strategy: x.strategy,
            chunks: x.chunks,
            // Shared, not sent: the tokens and cost are on the result it was made for.
            inputTokens: 0,
            outputTokens: 0,
            costUsd: 0,
            needsReview: x.needs_review,
            warnings: x.warnings ?? [],
            ...(x.fields ? { fields: x.fields } : {}),
          },
        ]),
      );
    },

    /**
     * The documents on record inside `folder` (not deleted), at most `limit`, to tell whether a
     * rescan would find anything.
     */
    async knownFiles(folder: string, limit: number): Promise<KnownFile[]> {
      // Files only: the documents inside them are never walked.
      let q = db.selectFrom('documents').select(['path', 'size', 'mtime', 'status', 'etag']).where('deleted_at', 'is', null).where('parent_id', 'is', null);
      const range = descendantRange(folder);
      if (range) q = q.where('path', '>=', range.lower).where('path', '<', range.upper);
      const rows = await q.limit(limit).execute();
      return rows.map((r) => ({ path: r.path, size: Number(r.size), mtime: r.mtime, status: r.status, etag: r.etag }));
    },

    /** Which of these documents already have a result for their current content under this key. */
    async existing(docs: ClassifyCandidate[], key: ResultKey): Promise<Map<string, string | null>> {
      if (docs.length === 0) return new Map();
      const rows = await db
        .selectFrom('classifications')
        .select(['document_id', 'content_sha256', 'job_id'])
        .where('document_id', 'in', docs.map((d) => d.id))
        .where('taxonomy_id', '=', key.taxonomyId)
        .where('taxonomy_version', '=', key.taxonomyVersion)
        .where('model', '=', key.model)
        .where('prompt_version', '=', key.promptVersion)
        .where('summary_language', '=', key.summaryLanguage)
        .execute();
      const sha = new Map(docs.map((d) => [d.id, d.sha256]));
      const out = new Map<string, string | null>();
      for (const r of rows) if (sha.get(r.document_id) === r.content_sha256) out.set(r.document_id, r.job_id);
      return out;
    },

    /** Paths of the documents with these ids (those that exist). */
    async paths(ids: string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      const rows = await db.selectFrom('documents').select('path').where('id', 'in', ids).execute();
      return rows.map((r) => r.path);
    },

    async inputs(ids: string[]): Promise<ClassifyInputRow[]> {
      if (ids.length === 0) return [];
      return db
        .selectFrom('documents')
        .select(['id', 'path', 'name', 'sha256', 'title', 'language', 'text'])
        .where('id', 'in', ids)
        .execute();
    },

    /**
     * Store one result soon after it arrives (a rerun of the batch then skips it) and make it the
     * document's latest. A forced rerun replaces the result under the same key. Resolves once the
     * result is committed.
     *
     * A group commit (`resultWriter`): results arriving within RESULT_LINGER_MS of each other go in
     * one statement, sooner when `flushSaves` says no more are coming; see `writeResults` for the
     * statement.
     */
    save(c: NewClassification): Promise<void> {
      return writer.save(c);
    },

    /** Write the results waiting in `save`'s group commit at once: the caller expects no more soon. */
    flushSaves(): void {
      writer.flush();
    },

    /** Tokens and cost of a job's results among these documents (summed once, at batch completion). */
    async usage(trx: Transaction<Database>, jobId: string, documentIds: string[]) {
      if (documentIds.length === 0) return { inputTokens: 0, outputTokens: 0, costUsd: 0, count: 0 };
      const r = await trx
        .selectFrom('classifications')
        .select([
          sql<number>`coalesce(sum(input_tokens), 0)::bigint`.as('i'),
          sql<number>`coalesce(sum(output_tokens), 0)::bigint`.as('o'),
          sql<number>`coalesce(sum(cost_usd), 0)`.as('c'),
          sql<number>`count(*)::int`.as('n'),
        ])
        .where('job_id', '=', jobId)
        .where('document_id', 'in', documentIds)
        .executeTakeFirstOrThrow();
      return { inputTokens: Number(r.i), outputTokens: Number(r.o), costUsd: Number(r.c), count: Number(r.n) };
    },

    async forDocument(documentId: string, limit = 20): Promise<ClassificationView[]> {
      const rows = await db
        .selectFrom('classifications as c')
        .leftJoin('classification_reviews as r', 'r.classification_id', 'c.id')
        .selectAll('c')
        .select(['r.reviewed_by', 'r.reviewer_name', 'r.reviewed_at', 'r.accepted'])
        .where('c.document_id', '=', documentId)
        .orderBy('c.created_at', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        id: r.id,
        taxonomyId: r.taxonomy_id,
        taxonomyVersion: r.taxonomy_version,
        model: r.model,
        promptVersion: r.prompt_version,
        summaryLanguage: r.summary_language,
        tags: r.tags,
        primaryCategory: r.primary_category,
        summary: r.summary,
        language: r.language,
        strategy: r.strategy,
        chunks: r.chunks,
        inputTokens: r.input_tokens,
        outputTokens: r.output_tokens,
        costUsd: Number(r.cost_usd),
        needsReview: r.needs_review,
        warnings: r.warnings,
        fields: r.fields,
        jobId: r.job_id,
        createdAt: r.created_at,
        latencyMs: r.latency_ms,
        review: r.reviewed_at ? { keyId: r.reviewed_by, name: r.reviewer_name, at: r.reviewed_at, accepted: r.accepted ?? false } : null,
      }));
    },

    /** Sum of text lengths and count of classifiable documents, for dry-run estimates. */
    async textStats(scope: { folder: string } | { ids: string[] }): Promise<{ documents: number; chars: number }> {
      let q = db
        .selectFrom('documents')
        .select([sql<number>`count(*)::int`.as('n'), sql<number>`coalesce(sum(length(text)), 0)::bigint`.as('chars')])
        .where('status', '=', 'extracted')
        .where('deleted_at', 'is', null);
      if ('ids' in scope) q = q.where('id', 'in', scope.ids.length ? scope.ids : ['00000000-0000-0000-0000-000000000000']);
      else {
        const range = descendantRange(scope.folder);
        if (range) q = q.where('path', '>=', range.lower).where('path', '<', range.upper);
      }
      const r = await q.executeTakeFirstOrThrow();
      return { documents: Number(r.n), chars: Number(r.chars) };
    },
  };
}

export type ClassificationsRepository = ReturnType<typeof createClassificationsRepository>;
