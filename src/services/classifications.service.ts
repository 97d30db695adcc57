/**
 * Starting classifications: validate the request, pin the taxonomy version, estimate (dry run) or
 * create the folder-level job (or find the identical active one) and enqueue its plan.
 */
import { createHash } from 'node:crypto';
import { type Classifier, estimateCost, type PriceTable } from '../classify/index.ts';
import type { ClassificationEstimate } from '../contract.ts';
import { assertFolderVisible, canSee, isScoped, type Principal } from '../domain/access.ts';
import { AppError, badRequest, notFound } from '../domain/errors.ts';
import { normalizeRelativePath } from '../domain/paths.ts';
import type { ClassificationMode } from '../domain/vocabulary.ts';
import type { ClassifyJobParams, Enqueue } from '../domain/work.ts';
import type { ClassificationsRepository } from '../store/classifications.repository.ts';
import type { FoldersRepository } from '../store/folders.repository.ts';
import type { JobsRepository } from '../store/jobs.repository.ts';
import type { FolderResolver } from './source-registry.ts';
import { enqueueOrFail, type JobView, toJobView } from './jobs.service.ts';
import type { TaxonomiesService } from './taxonomies.service.ts';

export interface ClassificationRequest {
  path?: string;
  documentIds?: string[];
  taxonomy?: string;
  summaryLanguage?: string;
  force?: boolean;
  budgetUsd?: number;
  /** Absent: `auto`. */
  mode?: ClassificationMode;
  /**
   * Another model of the provider (an evaluation's): its results are kept beside the documents'
   * own. Absent, or the workers' own model: an ordinary run.
   */
  model?: string;
  requestId?: string;
  access: Principal;
}

/** What POST /v1/classifications answers with dryRun (src/contract.ts). */
export type DryRunEstimate = ClassificationEstimate;

export const PROVIDER_NOT_CONFIGURED =
  'No LLM provider is configured: set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL (an OpenAI-compatible server such as Ollama or vLLM) and LLM_MODEL';

export interface ClassificationsServiceDeps {
  /** Absent when no provider is configured. */
  classifier?: Classifier;
  prices: PriceTable;
  summaryMaxWords: number;
  jobs: JobsRepository;
  classifications: ClassificationsRepository;
  folders: FoldersRepository;
  taxonomies: TaxonomiesService;
  /** Resolves a folder path: a bucket source's, or the documents root's (on disk). */
  sources: FolderResolver;
  enqueue: Enqueue;
  /** Present when the provider offers the Batch API (LLM_BATCH_API). */
  batchApi?: { minDocuments: number; priceFactor: number };
}

export const NO_BATCH_API =
  'The configured provider does not offer the Batch API (set LLM_BATCH_API=true if it does); leave out "mode" or use "direct"';

export function createClassificationsService(deps: ClassificationsServiceDeps) {
  async function prepare(req: ClassificationRequest) {
    const classifier = deps.classifier;
    if (!classifier) throw new AppError('provider_not_configured', PROVIDER_NOT_CONFIGURED);
    if (req.mode === 'batch' && !deps.batchApi) throw badRequest(NO_BATCH_API);
    if ((req.path === undefined) === (req.documentIds === undefined)) {
      throw badRequest('Give exactly one of "path" or "documentIds"');
    }
    let path: string | undefined;
    if (req.path !== undefined) {
      assertFolderVisible(req.access, normalizeRelativePath(req.path));
      path = (await deps.sources.resolveFolder(req.path)).rel;
    }
    if (req.documentIds && isScoped(req.access)) {
      // A scoped key may only name documents it can see; others are "not found".
      const paths = await deps.classifications.paths(req.documentIds);
      if (paths.length !== new Set(req.documentIds).size || paths.some((p) => !canSee(req.access, p))) {
        throw notFound('One or more documents not found');
      }
    }
    const taxonomy = await deps.taxonomies.resolve(req.taxonomy);
    const params: ClassifyJobParams = {
      ...(path !== undefined ? { path } : {}),
      ...(req.documentIds ? { documentIds: [...new Set(req.documentIds)].sort() } : {}),
      taxonomyId: taxonomy.id,
      taxonomyVersion: taxonomy.version,
      summaryLanguage: req.summaryLanguage?.toLowerCase() ?? null,
      force: req.force ?? false,
      ...(req.budgetUsd !== undefined ? { budgetUsd: req.budgetUsd } : {}),
      ...(req.mode !== undefined && req.mode !== 'auto' ? { mode: req.mode } : {}),
      ...(req.model !== undefined && req.model !== classifier.model ? { model: req.model } : {}),
    };
    return { classifier, taxonomy, params };
  }

  return {
    configured: deps.classifier !== undefined,

    async start(req: ClassificationRequest): Promise<{ job: JobView; created: boolean }> {
      const { params } = await prepare(req);
      const dedupeKey = `classify:${createHash('sha256').update(JSON.stringify(params)).digest('hex').slice(0, 32)}`;
      const { job, created } = await deps.jobs.createOrFind({
        kind: 'classify',
        folderPath: params.path ?? null,
        params: params as unknown as Record<string, unknown>,
        dedupeKey,
        requestId: req.requestId ?? null,
        createdBy: req.access.keyId,
      });
      await enqueueOrFail(deps.jobs, job.id, created, () => deps.enqueue('classify-plan', { jobId: job.id }));
      return { job: toJobView(job), created };
    },

    /** What a run would send, without calling the model: documents, tokens, cost. */
    async dryRun(req: ClassificationRequest): Promise<DryRunEstimate> {
      const { classifier, taxonomy, params } = await prepare(req);
      const scope = params.documentIds ? { ids: params.documentIds } : { folder: params.path ?? '' };
      const stats = await deps.classifications.textStats(scope);
      // The fixed part of a request (instructions, labels, schema) from the planner, plus the text
      // at ~4 characters a token: close enough to budget with, no need to tokenize every document.
      const probe = classifier.estimate({
        text: 'x',
        fileName: 'probe.txt',
        taxonomy: { id: taxonomy.id, version: taxonomy.version, name: taxonomy.name, labels: taxonomy.labels, fields: taxonomy.fields },
        summaryMaxWords: deps.summaryMaxWords,
        ...(params.summaryLanguage ? { summaryLanguage: params.summaryLanguage } : {}),
      });
      const inputTokens = stats.documents * probe.inputTokens + Math.ceil(stats.chars / 4);
      const outputTokens = stats.documents * probe.outputTokens;
      const folderNotScanned = params.path !== undefined && !(await deps.folders.find(params.path))?.lastScannedAt;
      // As the plan will decide (from the documents known now); long documents split into parts go directly, priced as such here.
      const batch =
        deps.batchApi !== undefined &&
        (params.mode === 'batch' || (params.mode !== 'direct' && deps.batchApi.minDocuments > 0 && stats.documents >= deps.batchApi.minDocuments));
      const factor = batch ? (deps.batchApi?.priceFactor ?? 1) : 1;
      return {
        dryRun: true,
        documents: stats.documents,
        estimatedInputTokens: inputTokens,
        estimatedOutputTokens: outputTokens,
        estimatedCostUsd: Math.round(estimateCost(params.model ?? classifier.model, inputTokens, outputTokens, deps.prices) * factor * 1e6) / 1e6,
        mode: batch ? 'batch' : 'direct',
        model: params.model ?? classifier.model,
        taxonomy: { id: taxonomy.id, name: taxonomy.name, version: taxonomy.version },
        folderNotScanned,
      };
    },
  };
}

export type ClassificationsService = ReturnType<typeof createClassificationsService>;

