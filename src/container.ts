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
import { DocsRoot } from './services/docs-root.ts';
import { createInsightsService } from './services/insights.service.ts';
import { backfillSignatures, createDuplicatesService } from './services/duplicates.service.ts';
import { createExportService } from './services/export.service.ts';
import { applyJobRetention, createJobsService } from './services/jobs.service.ts';
import { createKeysService, type KeysService } from './services/keys.service.ts';
import { createSearchService, type SearchService } from './services/search.service.ts';
import { createSearchRepository } from './store/search.repository.ts';
import { createKeysRepository } from './store/keys.repository.ts';
import { createTaxonomiesService } from './services/taxonomies.service.ts';
import { createClassificationsService } from './services/classifications.service.ts';
import { createClassificationBatchService, createClassifyService } from './services/classification-batch.service.ts';
import { createClassificationPlanService } from './services/classification-plan.service.ts';
import { createExtractionService } from './services/extraction.service.ts';
import { createJobRecoveryService } from './services/job-recovery.service.ts';
import { createScanService } from './services/scan.service.ts';
import { createIdleSearchIndexer } from './services/search-indexing.service.ts';
import { createUnitOfWork } from './store/unit-of-work.ts';
import { createOcrRepository } from './store/ocr.repository.ts';
import { createClassificationsRepository } from './store/classifications.repository.ts';
import { createTaxonomiesRepository } from './store/taxonomies.repository.ts';
import { createDatabase, type DatabaseHandle } from './store/database.ts';
import { createDocumentsRepository } from './store/documents.repository.ts';
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
  // WORKER_CONCURRENCY × CLASSIFY_BATCH_SIZE.) A due retry takes the next free slot before
  // first attempts: its batch waits for it, so behind them it would stretch the batch's tail.
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
  });
  return { classifier, rateLimiter, prices };
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
    const jobs = createJobsRepository(db);
    const documents = createDocumentsRepository(db);
    const folders = createFoldersRepository(db);
    const insightsRepo = createInsightsRepository(db);
    const classificationsRepo = createClassificationsRepository(db);
    const taxonomiesRepo = createTaxonomiesRepository(db);

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
      const handler = createPipelineHandler({
        scan: createScanService({ jobs, documents, folders, docsRoot, enqueue, batchSize: config.worker.batchSize, allowHardlinks: config.allowHardlinks }),
        extraction: createExtractionService({
          jobs,
          documents,
          unitOfWork,
          docsRoot,
          pool: pipelinePool,
          limits: config.limits,
          ocr: ocrRepo,
          ocrPolicy,
          enqueue,
          onBatchDone: (counts) => metrics.documentsProcessed(counts),
        }),
        classificationPlan: createClassificationPlanService({
          jobs,
          classifications: classificationsRepo,
          classifier,
          enqueue,
          batchSize: config.worker.classifyBatchSize,
          docsRoot,
          allowHardlinks: config.allowHardlinks,
        }),
        classificationBatch: createClassificationBatchService({ jobs, classifications: classificationsRepo, taxonomies: taxonomiesRepo, unitOfWork, classifier }),
        recovery,
        ...(ocrEngine
          ? { ocr: createOcrService({ jobs, ocr: ocrRepo, unitOfWork, docsRoot, engine: ocrEngine, policy: ocrPolicy, limits: config.limits }) }
          : {}),
        searchIndexer,
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

    const jobsService = createJobsService({ jobs, docsRoot, enqueue });
    const keys = createKeysService(createKeysRepository(db));
    // Duplicates resolve folders as insights do.
    const duplicates = createDuplicatesService({
      repo: createDuplicatesRepository(db),
      threshold: config.duplicateSimilarity,
      knownFolder: (path, access) => insights.knownFolder(path, access),
    });
    const insights = createInsightsService({
      insights: insightsRepo,
      folders,
      documents,
      classifications: classificationsRepo,
      docsRoot,
      staleAfterYears: config.staleAfterYears,
      fieldTypes: (name) => taxonomiesRepo.fieldTypes(name),
    });
    const exports = createExportService({ exports: createExportRepository(db), knownFolder: insights.knownFolder, duplicates });
    const taxonomies = createTaxonomiesService(taxonomiesRepo);
    const search = createSearchService({ search: createSearchRepository(db), fieldTypes: (name) => taxonomiesRepo.fieldTypes(name) });
    const classifications = createClassificationsService({
      classifier: llm?.classifier,
      prices: llm?.prices ?? priceTable(),
      summaryMaxWords: config.llm.summaryMaxWords,
      jobs,
      classifications: classificationsRepo,
      folders,
      taxonomies,
      docsRoot,
      enqueue,
    });
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
      taxonomies,
      classifications,
      keys,
      search,
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
      ...(config.redisUrl ? { queueDashboard: { redisUrl: config.redisUrl, queueName: config.queueName } } : {}),
    });
    closers.push(() => app.close());
    // Job history retention: hourly, in API processes (any replica may do it; deletes are idempotent).
    const retention = setInterval(() => {
      applyJobRetention(jobs, config.jobRetentionDays).catch((err: unknown) => log.warn({ err: String(err) }, 'job retention failed'));
    }, 3_600_000);
    retention.unref();
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
