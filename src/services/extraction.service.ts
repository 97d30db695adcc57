/**
 * Extracting a batch of documents: parse each in the extraction pool, then write every outcome,
 * the batch's completion and the job's counters in one transaction, so a batch counts exactly
 * once however often its queue job runs.
 */
import type { Logger } from 'pino';
import { createOrderedGate, createRequestGate } from '../classify/concurrency.ts';
import { createByteBudget } from './byte-budget.ts';
import { parentOf } from '../domain/paths.ts';
import path from 'node:path';
import type { Enqueue, JobPayloads } from '../domain/work.ts';
import type { ExtractionPool } from '../extract/pool.ts';
import type { ChildDocument, ExtractionResult, ExtractLimits } from '../extract/types.ts';
import type { DocumentsRepository, DocumentUpdate, EmbeddedDocument, MoveCandidate, ObjectTag, OcrState } from '../store/documents.repository.ts';
import type { FailureRow, JobsRepository } from '../store/jobs.repository.ts';
import type { OcrRepository } from '../store/ocr.repository.ts';
import type { StoreTx, UnitOfWork } from '../store/unit-of-work.ts';
import type { ChangeEntry } from '../store/changes.repository.ts';
import type { OcrPolicy } from './ocr-policy.ts';
import type { SourceReader } from './source-reader.ts';

/** Counts of one finished batch, for metrics. */
export interface BatchCounts {
  done: number;
  failures: FailureRow[];
  skipped: number;
}

export interface ExtractionServiceDeps {
  jobs: JobsRepository;
  documents: DocumentsRepository;
  unitOfWork: UnitOfWork;
  /** The source a document's path is in (the documents root or a bucket). */
  sources: { readerFor(path: string): Promise<SourceReader> };
  pool: ExtractionPool;
  limits: ExtractLimits;
  ocr: OcrRepository;
  ocrPolicy: OcrPolicy;
  enqueue: Enqueue;
  /** Changes are recorded here, in the batch's unit of work. */
  changes: Pick<ChangesRecorder, 'record'>;
  /** DELETED_RETENTION_DAYS: how long a deleted document can still be found moved. */
  deletedRetentionDays: number;
  /** Told of every batch that this process completed. */
  onBatchDone?(counts: BatchCounts): void;
  /** Told once a batch's documents are written (a classification waiting on the scan plans them). */
  onBatchWritten?(jobId: string, batchNo: number): Promise<void>;
}

/** GetObject requests one worker process keeps in flight (bodies are bounded by the byte budget). */
const DOWNLOADS_IN_FLIGHT = 16;

/** Where extraction writes what changed (store/changes.repository.ts's recordChanges). */
export interface ChangesRecorder {
  record(tx: StoreTx, entries: ChangeEntry[]): Promise<void>;
}

/** Another run of the same batch wrote it first: roll back what this one did. */
class BatchWrittenElsewhere extends Error {}

/** A fresh document whose content is that of a known one whose file is gone: tried in the unit of work. */
interface TentativeMove {
  fresh: { id: string; path: string; size: number; mtime: Date; sha256: string };
  known: MoveCandidate;
}

/** What one document of the batch turned out to hold, for the change history and move matching. */
interface Found {
  path: string;
  sha256: string | null;
  before: string | null;
  fresh: boolean;
  size: number;
  mtime: Date;
  extracted: boolean;
}

/** PostgreSQL text cannot hold NUL; documents sometimes do. */
const stripNul = (s: string) => (s.includes('\0') ? s.replaceAll('\0', '') : s);

function cleanJson(value: unknown): unknown {
  if (typeof value === 'string') return stripNul(value);
  if (Array.isArray(value)) return value.map(cleanJson);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[stripNul(k)] = cleanJson(v);
    return out;
  }
  return value;
}

function validDate(s: string | undefined): string | null {
  if (!s) return null;
  const t = Date.parse(s);
  // Producers write year 1601 or 9999 placeholders; keep only plausible dates.
  if (Number.isNaN(t) || t < Date.UTC(1970, 0, 1) || t > Date.UTC(2200, 0, 1)) return null;
  return new Date(t).toISOString();
}

type ExtractedUpdate = Extract<DocumentUpdate, { status: 'extracted' | 'unsupported' }>;

function toUpdate(id: string, size: number, mtime: Date, sha256: string, r: ExtractionResult, ocr: OcrState | undefined): ExtractedUpdate {
  const p = r.properties;
  // An image is a document when OCR reads it; otherwise there is nothing in it to read.
  const supported = r.format !== 'other' && (r.format !== 'image' || ocr?.status === 'pending' || ocr?.status === 'done');
  const text = stripNul(r.text);
  return {
    id,
    status: supported ? 'extracted' : 'unsupported',
    size,
    mtime,
    sha256,
    mimeType: r.mimeType,
    format: r.format,
    title: p.title ? stripNul(p.title).slice(0, 1000) : null,
    author: p.creator ? stripNul(p.creator).slice(0, 500) : null,
    docCreated: validDate(p.created),
    docModified: validDate(p.modified),
    language: r.language ?? null,
    pageCount: p.pages ?? null,
    wordCount: r.counts?.words ?? p.words ?? null,
    metadata: cleanJson({
      properties: p,
      raw: r.raw,
      counts: r.counts ?? {},
      structure: r.structure ?? {},
      parts: r.parts ?? {},
      warnings: r.warnings ?? [],
      ...(r.ocr ? { ocr: r.ocr } : {}),
    }) as Record<string, unknown>,
    text,
    textTruncated: r.textTruncated,
    textSource: text.trim() ? 'text-layer' : null,
    ...(ocr ? { ocr } : {}),
    ...(r.signature ? { signature: r.signature } : {}),
    ...(r.pii ? { pii: r.pii } : {}),
  };
}

/** A document whose pages OCR must read, found in this batch. */
interface OcrCandidate {
  /** The row's id, or (for an embedded document, whose id is known only once written) its path. */
  ref: { id: string } | { path: string };
  sha256: string;
  pages: number;
  update: ExtractedUpdate;
}

/** An extracted or failed child as a row, with the rows of what it holds in turn. */
function flattenChildren(
  children: ChildDocument[],
  parent: { path: string; folder: string; mtime: Date; at: number[] },
  decide: (path: string, sha256: string, r: ExtractionResult) => OcrState | undefined,
  out: EmbeddedDocument[],
): void {
  for (const c of children) {
    const childPath = `${parent.path}#${c.index}/${c.name}`;
    const at = [...parent.at, c.index];
    const common = { path: childPath, parentPath: parent.path, folder: parent.folder, name: c.name, extension: path.extname(c.name).slice(1).toLowerCase(), origin: c.kind, embeddedAt: at };
    if (c.outcome.kind === 'failed') {
      out.push({ ...common, update: { id: '', status: 'failed', size: c.size, mtime: parent.mtime, sha256: c.sha256, mimeType: null, format: null, errorCode: c.outcome.code, errorMessage: c.outcome.message } });
      continue;
    }
    const r = c.outcome.result;
    out.push({ ...common, update: toUpdate('', c.size, parent.mtime, c.sha256, r, decide(childPath, c.sha256, r)) });
    if (r.children?.length) flattenChildren(r.children, { path: childPath, folder: parent.folder, mtime: parent.mtime, at }, decide, out);
  }
}

/** What this batch found, as changes: new documents added, known ones with other content changed. */
function changesOf(found: ReadonlyMap<string, Found>, moved: ReadonlySet<string>, jobId: string): ChangeEntry[] {
  const out: ChangeEntry[] = [];
  for (const [id, f] of found) {
    if (moved.has(id)) continue;
    if (f.fresh) out.push({ jobId, documentId: id, kind: 'added', path: f.path, newSha256: f.sha256 });
    else if (f.sha256 !== f.before) out.push({ jobId, documentId: id, kind: 'changed', path: f.path, oldSha256: f.before, newSha256: f.sha256 });
  }
  return out;
}

export function createExtractionService(deps: ExtractionServiceDeps) {
  const { jobs, documents, pool, limits } = deps;
  // A bucket object is held in memory from its download to the end of its parse. The bytes held in
  // this process, whatever the number of batches running at once, stay within what one object of
  // the largest size per extraction thread would take; small objects download many at a time.
  const held = createByteBudget(pool.threads * limits.maxFileBytes);
  const requests = createRequestGate(DOWNLOADS_IN_FLIGHT);
  // Documents go to the threads in the order their batches began, not in the order their bytes
  // arrived: batches running at once would otherwise share the threads document by document and
  // all end together, so a scan's first batch (and the classification waiting for it) would wait
  // for the last. Twice the threads are handed documents, so each has its next one at hand; the
  // pool's time limit, which starts when a document is handed over, then covers its own parse and
  // at most that of the one ahead of it on its thread, not the whole queue.
  const parsing = createOrderedGate(pool.threads * 2);
  let batchesBegun = 0;


  /**
   * Fresh documents whose content is that of a known document whose file is gone (kept as deleted
   * within DELETED_RETENTION_DAYS, or not yet marked but missing from its source: a move the walk
   * has not finished seeing). Each known document is offered to one fresh document.
   */
  async function findMoves(found: ReadonlyMap<string, Found>, batchIds: string[]): Promise<TentativeMove[]> {
    const fresh = [...found].filter(([, f]) => f.fresh && f.extracted && f.sha256 !== null);
    if (fresh.length === 0) return [];
    const since = new Date(Date.now() - deps.deletedRetentionDays * 86_400_000);
    const candidates = await documents.moveCandidates([...new Set(fresh.map(([, f]) => f.sha256 as string))], batchIds, since);
    const taken = new Set<string>();
    const out: TentativeMove[] = [];
    for (const [id, f] of fresh) {
      for (const c of candidates) {
        if (c.sha256 !== f.sha256 || taken.has(c.id)) continue;
        if (c.deletedAt === null && (await (await deps.sources.readerFor(c.path)).exists(c.path))) continue;
        taken.add(c.id);
        out.push({ fresh: { id, path: f.path, size: f.size, mtime: f.mtime, sha256: f.sha256 as string }, known: c });
        break;
      }
    }
    return out;
  }
  return {
    /** Extract one batch (a no-op when the batch was completed by an earlier run or its job ended). */
    async runBatch(payload: JobPayloads['extract'], log: Logger): Promise<void> {
      if (!(await jobs.shouldRunBatch(payload.jobId, payload.batchNo))) return;
      const order = batchesBegun++;
      const parse: ExtractionPool['run'] = async (task) => {
        await parsing.enter(order);
        try {
          return await pool.run(task);
        } finally {
          parsing.leave();
        }
      };
      const targets = await documents.loadForExtraction(payload.documentIds);
      const updates: DocumentUpdate[] = [];
      const failures: FailureRow[] = [];
      const missing: string[] = [];
      const embedded = new Map<string, EmbeddedDocument[]>();
      const needOcr: OcrCandidate[] = [];
      /** Content found per document (extracted or failed with a hash), for the change history. */
      const found = new Map<string, Found>();
      const policy = deps.ocrPolicy;
      let done = 0;
      let skipped = 0;

      /** Whether (and how) OCR reads a document extraction found pages without text in. */
      const decideOcr = (docPath: string, sha256: string, r: ExtractionResult): OcrState | undefined => {
        const pages = r.ocr?.pages ?? [];
        if (pages.length === 0) return undefined;
        if (!policy.appliesTo(docPath)) {
          return policy.skipped('ocr_off', policy.settings.enabled ? 'OCR is limited to other folders (OCR_FOLDERS)' : 'OCR is off (OCR=off)');
        }
        const state = policy.pending(payload.jobId);
        return { ...state, pages: policy.pagesToRead(pages).length };
      };

      const tags: ObjectTag[] = [];
      const readers = new Map<string, Promise<SourceReader>>();
      const readerOf = (docPath: string) => {
        const first = docPath.split('/', 1)[0] ?? '';
        let r = readers.get(first);
        if (!r) readers.set(first, (r = deps.sources.readerFor(docPath)));
        return r;
      };

      await Promise.all(
        targets.map(async (doc) => {
          const reader = await readerOf(doc.path);
          const inBucket = reader.name !== null;
          let holding = 0;
          /** Hold at least `bytes` of the budget for this document (the listing's size first, the real one once known). */
          const hold = async (bytes: number) => {
            const more = Math.min(bytes, limits.maxFileBytes) - holding;
            if (more <= 0) return;
            await held.acquire(more);
            holding += more;
          };
          const extractOne = async () => {
            if (inBucket) await hold(Math.max(1, Number(doc.size)));
            const got = inBucket ? await requests.run(() => reader.fetch(doc.path, limits.maxFileBytes, hold)) : await reader.fetch(doc.path, limits.maxFileBytes);
            if (got.kind === 'missing') {
              missing.push(doc.id);
              return;
            }
            const { mtime, size } = got;
            if (got.etag !== null) tags.push({ id: doc.id, etag: got.etag });
            const fail = (code: string, message: string, sha256: string | null = null) => {
              found.set(doc.id, { path: doc.path, sha256, before: doc.sha256, fresh: doc.extractionCount === 0, size, mtime, extracted: false });
              updates.push({ id: doc.id, status: 'failed', size, mtime, sha256, mimeType: null, format: null, errorCode: code, errorMessage: message });
              failures.push({ documentId: doc.id, path: doc.path, code, message });
            };
            if (got.kind === 'too_large' || size > limits.maxFileBytes) {
              fail('too_large', `File is ${size} bytes; the limit is ${limits.maxFileBytes}`);
              return;
            }
            const previous = doc.status === 'extracted' || doc.status === 'unsupported' ? doc.sha256 : null;
            const outcome = await parse({ ...got.input, name: doc.path.slice(doc.path.lastIndexOf('/') + 1), previousSha256: previous, limits });
            switch (outcome.kind) {
              case 'missing':
                missing.push(doc.id);
                return;
              case 'unchanged':
                updates.push({ id: doc.id, status: 'unchanged', size: outcome.size, mtime });
                skipped++;
                return;
              case 'failed':
                fail(outcome.code, outcome.message, outcome.sha256);
                return;
              case 'extracted': {
                const r = outcome.result;
                const update = toUpdate(doc.id, outcome.size, mtime, outcome.sha256, r, decideOcr(doc.path, outcome.sha256, r));
                found.set(doc.id, { path: doc.path, sha256: outcome.sha256, before: doc.sha256, fresh: doc.extractionCount === 0, size: outcome.size, mtime, extracted: true });
                updates.push(update);
                if (update.ocr?.status === 'pending') needOcr.push({ ref: { id: doc.id }, sha256: outcome.sha256, pages: update.ocr.pages ?? 0, update });
                const inside: EmbeddedDocument[] = [];
                if (r.children?.length) flattenChildren(r.children, { path: doc.path, folder: parentOf(doc.path), mtime, at: [] }, decideOcr, inside);
                for (const e of inside) {
                  if (e.update.status !== 'failed' && e.update.ocr?.status === 'pending') {
                    needOcr.push({ ref: { path: e.path }, sha256: e.update.sha256, pages: e.update.ocr.pages ?? 0, update: e.update });
                  }
                }
                // Compared with what it held before, also when it holds nothing now (one query a batch).
                embedded.set(doc.id, inside);
                done++;
                return;
              }
            }
          };
          try {
            await extractOne();
          } finally {
            if (holding > 0) held.release(holding);
          }
        }),
      );

      // What OCR read before, from the same bytes in the same languages, is applied at once.
      const cached = needOcr.length === 0 ? new Map() : await deps.ocr.cached(await Promise.all(needOcr.map((c) => policy.key(c.sha256))));
      const toReadAll = needOcr.filter((c) => {
        const reading = cached.get(c.sha256);
        if (!reading) return true;
        const applied = policy.applied(reading);
        Object.assign(c.update, {
          status: 'extracted',
          text: applied.text,
          textSource: applied.textSource,
          language: applied.language,
          wordCount: applied.wordCount,
          ocr: applied.ocr,
          pii: applied.pii ?? undefined,
          signature: applied.signature ?? undefined,
        });
        return false;
      });
      const tentative = await findMoves(found, payload.documentIds);

      // Files gone since the scan saw them are not documents any more: skipped, and marked deleted.
      // Ids that no longer exist at all (never expected) are skipped too, so the batch still adds up.
      skipped += missing.length + (payload.documentIds.length - targets.length);
      let toRead = toReadAll;
      let written: { id: string; path: string }[] = [];
      try {
        written = await deps.unitOfWork.run(async (tx) => {
          // Moves first: whether a fresh document is a known one moved decides its OCR work, which the
          // batch's completion counts. Claimed under lock, so two batches never take the same one.
          const adopted = new Set<string>();
          for (const m of tentative) {
            if (!(await documents.claimMoveCandidate(tx, m.known))) continue;
            await documents.adoptMove(tx, {
              freshId: m.fresh.id,
              knownId: m.known.id,
              oldPath: m.known.path,
              newPath: m.fresh.path,
              sha256: m.fresh.sha256,
              size: m.fresh.size,
              mtime: m.fresh.mtime,
              etag: tags.find((t) => t.id === m.fresh.id)?.etag ?? null,
              deletedAt: m.known.deletedAt,
              jobId: payload.jobId,
            });
            adopted.add(m.fresh.id);
          }
          toRead = toReadAll.filter((c) => !('id' in c.ref && adopted.has(c.ref.id)));
          const ocrWork = { documents: toRead.length, pages: toRead.reduce((n, c) => n + c.pages, 0) };
          // Completing the batch (row-locked) decides which of two overlapping runs of the same
          // batch (a lost lease, a stalled job whose worker lives on) writes: only the first one.
          const first = await jobs.completeBatch(tx, payload.jobId, payload.batchNo, { done, failed: failures.length, skipped, ocr: ocrWork }, failures);
          if (!first) throw new BatchWrittenElsewhere();
          await documents.applyExtraction(
            tx,
            updates.filter((u) => !adopted.has(u.id)),
            tags.filter((t) => !adopted.has(t.id)),
          );
          for (const id of adopted) embedded.delete(id);
          await deps.changes.record(tx, changesOf(found, adopted, payload.jobId));
          return documents.replaceEmbedded(tx, embedded);
        });
      } catch (err) {
        if (!(err instanceof BatchWrittenElsewhere)) throw err;
        return;
      }
      // Said as soon as the batch is committed (before the calls below), so a worker killed after the
      // commit cannot leave a written batch unsaid.
      log.debug(
        { jobId: payload.jobId, batchNo: payload.batchNo, documents: payload.documentIds.length, done, failed: failures.length, skipped },
        'extract batch done',
      );
      // Enqueued once the rows are committed, so the OCR stage always finds them pending.
      const idByPath = new Map(written.map((w) => [w.path, w.id]));
      for (const c of toRead) {
        const id = 'id' in c.ref ? c.ref.id : idByPath.get(c.ref.path);
        if (id) await deps.enqueue('ocr', { jobId: payload.jobId, documentId: id });
      }
      await documents.markDeleted(missing, payload.jobId);
      deps.onBatchDone?.({ done, failures, skipped });
      // Only a wake-up: whoever waits on the job also looks on its own.
      await deps.onBatchWritten?.(payload.jobId, payload.batchNo).catch((err: unknown) => log.warn({ err: String(err) }, 'could not tell of a written extraction batch'));
    },
  };
}

export type ExtractionService = ReturnType<typeof createExtractionService>;
