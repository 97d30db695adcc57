/**
 * The composition root: builds the database, queue, repositories, services, worker and API from
 * the config, for the roles this process plays (`start`: both; `api`; `worker`).
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './api/build-app.ts';
import type { Config } from './config.ts';
import { closeRedisClient, createRedisClient, whenConnected } from './redis.ts';
import {
  createClassifier,
  createOpenAIProvider,
  createRequestGate,
  sdkRetryCount,
  priceTable,
} from './classify/index.ts';
import { admitLocallyDuringOutage, createMemoryStore, createRateLimiter, createRedisStore, type GcraStore } from './rate-limit/index.ts';
import { createExtractionPool } from './extract/pool.ts';
import type { ExtractLimits } from './extract/types.ts';
import { type JobName, type JobPayloads, queueJobId } from './domain/work.ts';
import { createPipelineHandler } from './jobs/pipeline.ts';
import { createQueue } from './queue/index.ts';
import type { JobQueue } from './queue/types.ts';
import { AppError } from './domain/errors.ts';
import type { Principal } from './domain/access.ts';
import { DocsRoot } from './services/docs-root.ts';
import { isIgnoredFileName } from './extract/ignored-files.ts';
import { createSourceRegistry } from './services/source-registry.ts';
import { createSourceWatch } from './services/source-watch.service.ts';
import { createSourcesService } from './services/sources.service.ts';
import { createSourcesRepository } from './store/sources.repository.ts';
import { createInsightsService } from './services/insights.service.ts';
import { backfillSignatures, createDuplicatesService } from './services/duplicates.service.ts';
import { createExportService } from './services/export.service.ts';
import { applyJobRetention, createJobsService } from './services/jobs.service.ts';
import { createKeysService, type KeysService } from './services/keys.service.ts';
import { createSearchService, type SearchService } from './services/search.service.ts';
import { createSecretBox } from './services/secrets.ts';
import { createWebhookDeliverer } from './services/webhook-delivery.service.ts';
import { checkWebhookUrl, postOnce } from './services/webhook-sender.ts';
import { createWebhooksService } from './services/webhooks.service.ts';
import { createWebhooksRepository } from './store/webhooks.repository.ts';
import { createSearchRepository } from './store/search.repository.ts';
import { createKeysRepository } from './store/keys.repository.ts';
import { createTaxonomiesService } from './services/taxonomies.service.ts';
import { createClassificationsService } from './services/classifications.service.ts';
import { createEvaluationsService } from './services/evaluations.service.ts';
import { createReviewsService } from './services/reviews.service.ts';
import { createEvaluationsRepository } from './store/evaluations.repository.ts';
import { createReviewsRepository } from './store/reviews.repository.ts';
import { createClassificationBatchService, createClassifyService } from './services/classification-batch.service.ts';
import { createClassificationPlanService, wakeClassificationOf } from './services/classification-plan.service.ts';
import { cancelBatchApiBatches } from './services/classification-batch-api.ts';
import { createLlmBatchesRepository } from './store/llm-batches.repository.ts';
import { createExtractionService } from './services/extraction.service.ts';
import { createJobRecoveryService } from './services/job-recovery.service.ts';
import { createScanService } from './services/scan.service.ts';
import { createCpuBoundJobs } from './services/cpu-bound-jobs.ts';
import { createChangesService } from './services/changes.service.ts';
import { createWatchesService } from './services/watches.service.ts';
import { createFolderWatcher } from './services/watcher.service.ts';
import { createWatchesRepository } from './store/watches.repository.ts';
import { tryLeadership } from './store/leader-lock.ts';
import { createIdleSearchIndexer } from './services/search-indexing.service.ts';
import { createUnitOfWork } from './store/unit-of-work.ts';
import { createOcrRepository } from './store/ocr.repository.ts';
import { createClassificationsRepository } from './store/classifications.repository.ts';
import { createTaxonomiesRepository } from './store/taxonomies.repository.ts';
import { createDatabase, type DatabaseHandle } from './store/database.ts';
import { createReadVersion } from './store/read-version.ts';
import { createDocumentsRepository } from './store/documents.repository.ts';
import { createChangesRepository, recordChanges } from './store/changes.repository.ts';
import type { EmbeddedDatabase } from './store/embedded-postgres.ts';
import { createFoldersRepository } from './store/folders.repository.ts';
import { createInsightsRepository } from './store/insights.repository.ts';
import { createDuplicatesRepository } from './store/duplicates.repository.ts';
import { createExportRepository } from './store/export.repository.ts';
import { createJobsRepository } from './store/jobs.repository.ts';
import { migrateToLatest, pingDatabase, schemaIsCurrent } from './store/migrate.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { startMetricsServer } from './observability/metrics-server.ts';
import { VERSION } from './version.ts';

/** How often a worker looks for bucket watches that are due (intervals are 10 s or more). */
const WATCH_TICK_MS = 2_000;
/** Who the watchers act as: the deployment itself, on every folder of the local root. */
const WATCHER_ACCESS = { keyId: null, role: 'editor', scopes: [] } as const satisfies Principal;

export interface Roles {
  api: boolean;
  worker: boolean;
}

export interface Runtime {
  app?: FastifyInstance;
  /** Base URL the API listens on, when it does. */
  url?: string;
  stop(): Promise<void>;
}

export interface Store {
  handle: DatabaseHandle;
  mode: 'embedded' | 'external';
  close(): Promise<void>;
}

/**
 * Connect to DATABASE_URL, or start the embedded PostgreSQL under DATA_DIR (with
 * `shareRunningEmbedded`, connect to the one a running docsight serves from there instead).
 */
export async function openStore(
  config: Config,
  log: Logger,
  opts: { allowEmbedded: boolean; poolSize?: number; shareRunningEmbedded?: boolean },
): Promise<Store> {
  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl;
  if (!url) {
    if (!opts.allowEmbedded) {
      throw new AppError(
        'bad_request',
        'DATABASE_URL is not set. Separate api and worker processes share one PostgreSQL server; use `docsight start` for the embedded single-process mode.',
      );
    }
    log.info({ dataDir: config.dataDir, port: config.embeddedPgPort }, 'starting embedded PostgreSQL');
    // Loaded only here: the package hooks process signals when imported.
    const { startEmbeddedPostgres } = await import('./store/embedded-postgres.ts');
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.embeddedPgPort,
      whenRunning: opts.shareRunningEmbedded ? 'connect' : 'refuse',
      onLog: (line) => log.debug({ pg: line }, 'embedded postgres'),
    });
    url = embedded.url;
  }
  const handle = createDatabase(url, { max: opts.poolSize ?? 20 });
  return {
    handle,
    mode: embedded ? 'embedded' : 'external',
    async close() {
      await handle.close();
      await embedded?.stop();
    },
  };
}

/** What the one-shot commands (`keys`, `migrate`, `reindex-search`, `duplicates backfill`) work with. */
export interface AdminServices {
  keys: KeysService;
  search: Pick<SearchService, 'reindex'>;
  /** Signatures for documents whose stored text has none (see backfillSignatures). */
  backfillSignatures(onProgress?: (p: { read: number; signed: number }) => void): Promise<{ read: number; signed: number }>;
  /** Migrations applied on opening (empty when the schema was current). */
  appliedMigrations: string[];
  close(): Promise<void>;
}

/**
 * The database of a one-shot command, migrated: DATABASE_URL; in embedded mode the server of the
 * docsight running from DATA_DIR (so keys can be made and revoked while it runs), or one started
 * for the command when none runs.
 */
export async function openAdminServices(config: Config, log: Logger): Promise<AdminServices> {
  const store = await openStore(config, log, { allowEmbedded: true, poolSize: 2, shareRunningEmbedded: true });
  try {
    const { db } = store.handle;
    const migrated = await migrateToLatest(db);
    return {
      keys: createKeysService(createKeysRepository(db)),
      search: createSearchService({ search: createSearchRepository(db) }),
      backfillSignatures: (onProgress) => backfillSignatures(createDuplicatesRepository(db), onProgress),
      appliedMigrations: migrated.results?.filter((m) => m.status === 'Success').map((m) => m.migrationName) ?? [],
      close: () => store.close(),
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** Workers do not migrate (only `migrate`, `start` and `api` do); they wait for the schema. */
async function waitForSchema(store: Store, log: Logger, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    if (await schemaIsCurrent(store.handle.db)) return;
    if (Date.now() > deadline) throw new Error('The database schema is not at the latest migration: run `docsight migrate`');
    if (i === 0) log.info('waiting for migrations (run `docsight migrate` or start the api)');
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * The process's one rate-limit store, for the API's limits and the LLM's: in Redis in Redis mode,
 * so every replica and every worker on every machine shares it; in process otherwise.
 */
async function openRateLimitStore(config: Config, closers: (() => Promise<void>)[]): Promise<GcraStore> {
  const local = createMemoryStore();
  if (!config.redisUrl) return local;
  // Errors are outages the store's callers hear about (see admitLocallyDuringOutage); it reconnects by itself.
  const redis = createRedisClient(config.redisUrl, 'rate-limit', { name: `docsight:${config.queueName}:rate-limit` });
  closers.push(() => closeRedisClient(redis));
  await whenConnected(redis, 5_000);
  return admitLocallyDuringOutage(createRedisStore(redis, `docsight:${config.queueName}`), local);
}

/**
 * The LLM stack when a provider is configured: the OpenAI-compatible provider, its limits in the
 * process's rate limiter, and the classifier.
 */
function createLlm(config: Config, metrics: Metrics, rateStore: GcraStore) {
  if (!config.llm.configured) return undefined;
  // LLM_CONCURRENCY bounds HTTP requests in flight, not documents: a document sleeping through
  // the SDK's retry backoff holds no slot. (Documents admitted are bounded by the queue:
  // WORKER_CONCURRENCY × CLASSIFY_BATCH_SIZE, whose default follows from LLM_CONCURRENCY.) A due
  // retry takes the next free slot before first attempts: its batch waits for it, so behind them
  // it would stretch the batch's tail.
  const inFlight = createRequestGate(config.llm.concurrency);
  const instrumented = metrics.instrumentLlmFetch(globalThis.fetch);
  const limitedFetch: typeof globalThis.fetch = (input, init) => inFlight.run(() => instrumented(input, init), { retry: sdkRetryCount(init) > 0 });
  const provider = createOpenAIProvider({
    model: config.llm.model,
    apiKey: config.llm.apiKey,
    baseURL: config.llm.baseUrl,
    timeoutMs: config.llm.timeoutMs,
    maxRetries: config.llm.maxRetries,
    fetch: limitedFetch,
    batchApi: config.llm.batchApi.supported,
  });
  const limits = { requestsPerWindow: config.llm.rpm, tokensPerWindow: config.llm.tpm, windowMs: 60_000 };
  const rateLimiter = createRateLimiter({ ...limits, store: rateStore, key: 'llm' });
  const prices = priceTable(
    Object.fromEntries(
      Object.entries(config.llm.prices).map(([model, p]) => [model, { inputPerMillion: p.input, outputPerMillion: p.output }]),
    ),
  );
  const classifier = createClassifier({
    provider,
    rateLimiter,
    maxInputTokens: config.llm.maxInputTokens,
    summaryMaxWords: config.llm.summaryMaxWords,
    prices,
    batchPriceFactor: config.llm.batchApi.priceFactor,
  });
  return { classifier, rateLimiter, prices, batchApi: provider.batch };
}

/**
 * The OCR engine of a worker, with what the OCR stage needs to reach documents inside files.
 * Loaded only here: the engines and image libraries are large, and an API process needs none.
 */
async function openOcrEngine(config: Config) {
  const [{ openOcrStage }, { readChild }] = await Promise.all([import('./ocr/stage.ts'), import('./extract/index.ts')]);
  const stage = await openOcrStage({
    engine: config.ocr.engine === 'wasm' ? 'tesseract.js' : config.ocr.engine,
    concurrency: config.ocr.concurrency,
    languages: config.ocr.languages,
    languageDirs: [config.ocr.langDir],
    detectOrientation: true,
    dpi: config.ocr.dpi,
  });
  return {
    id: stage.id,
    open: stage.open,
    close: stage.close,
    readEmbedded: async (file: Uint8Array, at: number[], limits: ExtractLimits) => (await readChild(file, at, limits)).bytes,
  };
}

export async function startRuntime(config: Config, roles: Roles, log: Logger): Promise<Runtime> {
  const allInOne = roles.api && roles.worker;
  if (!existsSync(config.docsRoot)) {
    mkdirSync(config.docsRoot, { recursive: true });
    log.warn({ docsRoot: config.docsRoot }, 'documents root did not exist: created it empty');
  }
  const store = await openStore(config, log, { allowEmbedded: allInOne });
  const closers: (() => Promise<void>)[] = [() => store.close()];
  const stop = async () => {
    for (const close of closers.reverse()) {
      await close().catch((err: unknown) => log.error({ err: String(err) }, 'error while stopping'));
    }
  };
  try {
    const { db, pool } = store.handle;
    if (roles.api) await migrateToLatest(db);
    else await waitForSchema(store, log);

    const queue: JobQueue = createQueue({ redisUrl: config.redisUrl, pool, queueName: config.queueName, logger: log });
    closers.push(() => queue.close());
    // OCR has a queue of its own, so its slow pages never hold the slots born-digital documents use.
    const ocrQueue: JobQueue = createQueue({ redisUrl: config.redisUrl, pool, queueName: `${config.queueName}-ocr`, logger: log });
    closers.push(() => ocrQueue.close());
    const enqueue = async <N extends JobName>(name: N, payload: JobPayloads[N], opts: { delayMs?: number } = {}) => {
      try {
        const target = name === 'ocr' ? ocrQueue : queue;
        await target.add(name, payload, { jobId: queueJobId[name](payload as never), attempts: config.worker.jobAttempts, ...opts });
      } catch (err) {
        log.warn({ err: String(err) }, 'queue unavailable');
        throw new AppError('unavailable', 'The job queue is unavailable; try again shortly');
      }
    };
    // One registry per process: in `start` the API's /metrics also shows the worker's numbers.
    const metrics = createMetrics();
    const rateStore = await openRateLimitStore(config, closers);
    const llm = createLlm(config, metrics, rateStore);
    metrics.setSources({ queueCounts: () => queue.counts(), ...(llm ? { rateLimitWaitedMs: () => llm.rateLimiter.waitedMs } : {}) });
    const docsRoot = new DocsRoot(config.docsRoot);
    const sourcesRepo = createSourcesRepository(db);
    const secrets = createSecretBox(config.secretsKey);
    if (!secrets.encrypting) log.warn('SECRETS_KEY is not set: bucket credentials cannot be stored and webhook signing secrets are stored unencrypted');
    const sources = createSourceRegistry({
      repo: sourcesRepo,
      docsRoot,
      secrets,
      s3: { timeoutMs: config.sources.timeoutMs, maxAttempts: config.sources.maxAttempts },
      allowHardlinks: config.allowHardlinks,
      isIgnoredName: isIgnoredFileName,
    });
    closers.push(async () => sources.close());
    const jobs = createJobsRepository(db);
    const documents = createDocumentsRepository(db);
    const folders = createFoldersRepository(db);
    const insightsRepo = createInsightsRepository(db);
    const classificationsRepo = createClassificationsRepository(db);
    const taxonomiesRepo = createTaxonomiesRepository(db);
    const llmBatches = createLlmBatchesRepository(db);
    const batchApi = llm?.batchApi ? { api: llm.batchApi, batches: llmBatches, enqueue, pollMs: config.llm.batchApi.pollMs } : undefined;
    const webhooksRepo = createWebhooksRepository(db);
    const watchesRepo = createWatchesRepository(db);
    // Used by the API and by the folder watchers (which start scans and classifications as the API does).
    const jobsService = createJobsService({
      jobs,
      sources,
      enqueue,
      ...(batchApi
        ? {
            onCancelled: (jobId: string) =>
              cancelBatchApiBatches(batchApi, jobId).catch((err: unknown) =>
                log.warn({ jobId, err: String(err) }, 'could not cancel the Batch API batches of a cancelled job; its next poll will'),
              ),
          }
        : {}),
    });
    const taxonomies = createTaxonomiesService(taxonomiesRepo);
    const classifications = createClassificationsService({
      classifier: llm?.classifier,
      prices: llm?.prices ?? priceTable(),
      summaryMaxWords: config.llm.summaryMaxWords,
      jobs,
      classifications: classificationsRepo,
      folders,
      taxonomies,
      sources,
      enqueue,
      ...(batchApi ? { batchApi: { minDocuments: config.llm.batchApi.minDocuments, priceFactor: config.llm.batchApi.priceFactor } } : {}),
    });

    if (roles.worker) {
      const pipelinePool = createExtractionPool(config.worker.extractThreads);
      closers.push(() => pipelinePool.close());
      const workerLog = log.child({ role: 'worker' });
      const unitOfWork = createUnitOfWork(db);
      const ocrRepo = createOcrRepository(db);
      const recovery = createJobRecoveryService({ jobs, documents, ocr: ocrRepo, unitOfWork, enqueue });
      // Opened when the first document needs OCR: engines and image libraries are large.
      let opened: ReturnType<typeof openOcrEngine> | undefined;
      const engine = () => (opened ??= openOcrEngine(config));
      const ocrEngine = config.ocr.enabled
        ? {
            open: async (bytes: Uint8Array, kind: 'pdf' | 'image') => (await engine()).open(bytes, kind),
            readEmbedded: async (file: Uint8Array, at: number[], limits: ExtractLimits) => (await engine()).readEmbedded(file, at, limits),
          }
        : undefined;
      closers.push(async () => {
        if (opened) await (await opened).close();
      });
      // Worker only: OCR text is checked for personal data, whose phone metadata is large.
      const [{ createOcrPolicy }, { createOcrService }] = await Promise.all([import('./services/ocr-policy.ts'), import('./services/ocr.service.ts')]);
      const ocrPolicy = createOcrPolicy({ ...config.ocr, piiKinds: config.limits.piiKinds }, async () => (await engine()).id);
      const classifier = llm
        ? metrics.instrumentClassifier(
            createClassifyService({ classifier: llm.classifier, reviewThreshold: config.llm.reviewThreshold, summaryMaxWords: config.llm.summaryMaxWords }),
          )
        : undefined;
      const searchIndexer = createIdleSearchIndexer(createSearchRepository(db), log.child({ role: 'search-indexer' }));
      const cpuBound = createCpuBoundJobs({ watchers: [searchIndexer] });
      const handler = createPipelineHandler({
        scan: createScanService({ jobs, documents, folders, sources, enqueue, batchSize: config.worker.batchSize }),
        extraction: createExtractionService({
          jobs,
          documents,
          unitOfWork,
          sources,
          pool: pipelinePool,
          limits: config.limits,
          ocr: ocrRepo,
          ocrPolicy,
          enqueue,
          changes: { record: recordChanges },
          deletedRetentionDays: config.deletedRetentionDays,
          onBatchDone: (counts) => metrics.documentsProcessed(counts),
          onBatchWritten: (jobId, batchNo) => wakeClassificationOf({ jobs, enqueue }, jobId, batchNo),
        }),
        classificationPlan: createClassificationPlanService({
          jobs,
          classifications: classificationsRepo,
          classifier,
          enqueue,
          batchSize: config.worker.classifyBatchSize,
          sources,
          ...(batchApi ? { batchApi: { minDocuments: config.llm.batchApi.minDocuments } } : {}),
        }),
        classificationBatch: createClassificationBatchService({
          jobs,
          classifications: classificationsRepo,
          taxonomies: taxonomiesRepo,
          unitOfWork,
          classifier,
          ...(batchApi ? { batchApi } : {}),
        }),
        recovery,
        ...(ocrEngine
          ? {
              ocr: createOcrService({
                jobs,
                ocr: ocrRepo,
                unitOfWork,
                sources,
                engine: ocrEngine,
                policy: ocrPolicy,
                limits: config.limits,
                yieldTo: { jobs: cpuBound, maxWaitMs: config.ocr.maxWaitMs },
              }),
            }
          : {}),
        cpuBound,
        log: workerLog,
        metrics,
      });
      const worker = queue.work(handler, { concurrency: config.worker.concurrency });
      closers.push(() => worker.close(config.worker.shutdownTimeoutMs));
      if (ocrEngine) {
        const ocrWorker = ocrQueue.work(handler, { concurrency: config.ocr.concurrency });
        closers.push(() => ocrWorker.close(config.worker.shutdownTimeoutMs));
      }
      // Stops the background search indexer (runs before the worker closes: closers run in reverse).
      closers.push(() => searchIndexer.close());
      const webhookOptions = { allowPrivate: config.webhooks.allowPrivate, timeoutMs: config.webhooks.timeoutMs };
      const deliverer = createWebhookDeliverer({
        webhooks: webhooksRepo,
        jobs,
        classifications: classificationsRepo,
        unitOfWork,
        secrets,
        post: (url, body, headers) => postOnce(url, body, headers, webhookOptions),
        settings: { ...config.webhooks, reviewThreshold: config.llm.reviewThreshold },
        userAgent: `docsight/${VERSION}`,
        log: log.child({ role: 'webhooks' }),
      }).start();
      closers.push(() => deliverer.close());
      const reconciler = setInterval(() => {
        recovery
          .reconcileStale(config.worker.reconcileAfterMs)
          .then((ids) => {
            if (ids.length > 0) workerLog.warn({ jobs: ids }, 're-enqueued jobs that had stopped moving');
          })
          .catch((err: unknown) => workerLog.warn({ err: String(err) }, 'job reconciliation failed; trying again later'));
      }, Math.min(30_000, config.worker.reconcileAfterMs / 2));
      reconciler.unref();
      closers.push(async () => clearInterval(reconciler));
      // Bucket watches: every worker ticks, one claims each due source (source-watch.service.ts).
      const watch = createSourceWatch({ repo: sourcesRepo, startScan: jobsService.startScan, log: workerLog });
      const bucketTicker = setInterval(() => {
        watch.tick().catch((err: unknown) => workerLog.warn({ err: String(err) }, 'source watch failed; trying again later'));
      }, WATCH_TICK_MS);
      bucketTicker.unref();
      closers.push(async () => clearInterval(bucketTicker));
      // Watched folders: every worker offers; the holder of the lock runs them (one per deployment).
      const watcher = createFolderWatcher({
        watches: watchesRepo,
        docsRoot,
        startScan: async (folder) => jobsService.startScan({ path: folder, access: WATCHER_ACCESS }),
        ...(classifications.configured ? { startClassification: async (folder: string) => classifications.start({ path: folder, access: WATCHER_ACCESS }) } : {}),
        lead: () => tryLeadership(db, `docsight:${config.queueName}:watchers`),
        ...config.watch,
        log: log.child({ role: 'watcher' }),
      });
      watcher.start();
      closers.push(() => watcher.stop());
      log.info(
        { queue: queue.kind, concurrency: config.worker.concurrency, threads: pipelinePool.threads },
        'worker started',
      );
    }

    if (config.metricsPort) {
      const server = await startMetricsServer(metrics, { port: config.metricsPort, host: config.host });
      closers.push(() => server.close());
      log.info({ port: server.port }, 'metrics listener started (GET /metrics)');
    }

    if (!roles.api) return { stop };

    const keys = createKeysService(createKeysRepository(db));
    // Duplicates resolve folders as insights do.
    const duplicates = createDuplicatesService({
      repo: createDuplicatesRepository(db),
      threshold: config.duplicateSimilarity,
      knownFolder: (path, access) => insights.knownFolder(path, access),
    });
    const reviewsRepo = createReviewsRepository(db);
    const insights = createInsightsService({
      insights: insightsRepo,
      folders,
      documents,
      classifications: classificationsRepo,
      sources,
      reviews: reviewsRepo,
      staleAfterYears: config.staleAfterYears,
      fieldTypes: (name) => taxonomiesRepo.fieldTypes(name),
    });
    const reviews = createReviewsService({ reviews: reviewsRepo, taxonomies: taxonomiesRepo, knownFolder: insights.knownFolder });
    const exports = createExportService({ exports: createExportRepository(db), knownFolder: insights.knownFolder, duplicates });
    const search = createSearchService({ search: createSearchRepository(db), fieldTypes: (name) => taxonomiesRepo.fieldTypes(name) });
    const webhooks = createWebhooksService({
      repo: webhooksRepo,
      secrets,
      checkUrl: (url) => checkWebhookUrl(url, { allowPrivate: config.webhooks.allowPrivate }),
    });
    const evaluations = createEvaluationsService({
      evaluations: createEvaluationsRepository(db),
      reviews: reviewsRepo,
      jobs,
      taxonomies,
      classifications,
      ...(llm ? { classifier: { model: llm.classifier.model, promptVersion: llm.classifier.promptVersion } } : {}),
      knownFolder: insights.knownFolder,
    });
    const changes = createChangesService({ changes: createChangesRepository(db), documents, knownFolder: insights.knownFolder });
    const watches = createWatchesService({ watches: watchesRepo, docsRoot });
    const readVersion =
      config.responseCache.maxBytes > 0
        ? createReadVersion({
            connection: pool.options,
            onState: ({ listening, error }) => {
              if (listening) log.info('response cache on: hearing of committed writes');
              else log.warn({ err: error }, 'response cache bypassed: the LISTEN connection was lost; reconnecting');
            },
          })
        : undefined;
    if (readVersion) closers.push(() => readVersion.close());
    const app = await buildApp({
      version: VERSION,
      mode: { database: store.mode, queue: queue.kind },
      authRequired: config.authRequired,
      trustProxy: config.trustProxy,
      logger: log,
      jobs: jobsService,
      insights,
      duplicates,
      exports,
      changes,
      watches,
      taxonomies,
      classifications,
      reviews,
      evaluations,
      keys,
      sources: createSourcesService({ repo: sourcesRepo, secrets, docsRoot }),
      search,
      webhooks,
      security: {
        store: rateStore,
        perKeyPerMinute: config.rateLimit.perKeyPerMinute,
        // Without auth (loopback) a keyless caller is the machine's own user: no per-IP limit.
        anonymousPerMinute: config.authRequired ? config.rateLimit.anonymousPerMinute : 0,
        corsOrigins: config.corsOrigins,
      },
      pingDatabase: () => pingDatabase(db),
      pingQueue: () => queue.ping(),
      metrics,
      ...(readVersion ? { responseCache: { version: readVersion, ...config.responseCache } } : {}),
      ...(config.redisUrl ? { queueDashboard: { redisUrl: config.redisUrl, queueName: config.queueName } } : {}),
    });
    closers.push(() => app.close());
    // Job history retention: hourly, in API processes (any replica may do it; deletes are idempotent).
    const retention = setInterval(() => {
      applyJobRetention(jobs, config.jobRetentionDays).catch((err: unknown) => log.warn({ err: String(err) }, 'job retention failed'));
      // Webhook events and their delivery log are history too, kept as long as jobs.
      if (config.jobRetentionDays > 0) {
        webhooksRepo
          .deleteEventsBefore(new Date(Date.now() - config.jobRetentionDays * 86_400_000))
          .catch((err: unknown) => log.warn({ err: String(err) }, 'webhook event retention failed'));
      }
    }, 3_600_000);
    retention.unref();
    // Deleted documents past DELETED_RETENTION_DAYS: hourly too, and once at start.
    const purge = () => {
      changes
        .purgeDeleted(config.deletedRetentionDays)
        .then((n) => {
          if (n > 0) log.info({ documents: n }, 'purged documents deleted past DELETED_RETENTION_DAYS');
        })
        .catch((err: unknown) => log.warn({ err: String(err) }, 'purging deleted documents failed'));
    };
    purge();
    const purger = setInterval(purge, 3_600_000);
    purger.unref();
    closers.push(async () => clearInterval(purger));
    closers.push(async () => clearInterval(retention));
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${host}:${port}`;
    log.info(
      { url, docs: `${url}/docs`, docsRoot: config.docsRoot, database: store.mode, queue: queue.kind, auth: config.authRequired ? 'required' : 'open' },
      `docsight listening on ${url} (API docs at ${url}/docs)`,
    );
    if (!config.authRequired) {
      log.warn('API keys are not required (auth is open because the API listens on loopback): anyone on this machine can use it');
    }
    return { app, url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
