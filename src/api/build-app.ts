/**
 * Builds the Fastify app from its dependencies without listening, so tests drive it with
 * inject() and the CLI decides where it listens. Routes only translate HTTP; services decide.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { InsightsService } from '../services/insights.service.ts';
import type { DuplicatesService } from '../services/duplicates.service.ts';
import type { ExportService } from '../services/export.service.ts';
import type { ChangesService } from '../services/changes.service.ts';
import type { WatchesService } from '../services/watches.service.ts';
import type { ClassificationsService } from '../services/classifications.service.ts';
import type { JobsService } from '../services/jobs.service.ts';
import type { TaxonomiesService } from '../services/taxonomies.service.ts';
import type { KeysService } from '../services/keys.service.ts';
import type { SourcesService } from '../services/sources.service.ts';
import type { SearchService } from '../services/search.service.ts';
import type { WebhooksService } from '../services/webhooks.service.ts';
import { registerAuth } from './plugins/auth.ts';
import { registerErrorHandling } from './plugins/errors.ts';
import { registerMetrics } from './plugins/metrics.ts';
import { registerResponseCache, type ResponseCacheOptions } from './plugins/response-cache.ts';
import { loopbackOnly, queueDashboard, type QueueDashboardOptions } from './plugins/queue-dashboard.ts';
import { queueSessionRoutes } from './routes/queue-session.ts';
import type { Metrics } from '../observability/metrics.ts';
import { registerSecurity, type SecurityOptions } from './plugins/security.ts';
import { keyRoutes } from './routes/keys.ts';
import { sourceRoutes } from './routes/sources.ts';
import { classificationRoutes } from './routes/classifications.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { documentRoutes } from './routes/documents.ts';
import { duplicateRoutes } from './routes/duplicates.ts';
import { changeRoutes } from './routes/changes.ts';
import { watchRoutes } from './routes/watches.ts';
import { folderRoutes } from './routes/folders.ts';
import { healthRoutes } from './routes/health.ts';
import { jobRoutes } from './routes/jobs.ts';
import { legacyRoutes } from './routes/legacy.ts';
import { searchRoutes } from './routes/search.ts';
import { taxonomyRoutes } from './routes/taxonomies.ts';
import { evaluationRoutes } from './routes/evaluations.ts';
import { reviewRoutes } from './routes/reviews.ts';
import type { EvaluationsService } from '../services/evaluations.service.ts';
import type { ReviewsService } from '../services/reviews.service.ts';
import { webhookRoutes } from './routes/webhooks.ts';

export interface AppDeps {
  version: string;
  mode: { database: 'embedded' | 'external'; queue: 'postgres' | 'bullmq' };
  authRequired: boolean;
  logger: Logger;
  jobs: JobsService;
  insights: InsightsService;
  duplicates: DuplicatesService;
  exports: ExportService;
  changes: ChangesService;
  watches: WatchesService;
  taxonomies: TaxonomiesService;
  keys: KeysService;
  sources: SourcesService;
  search: SearchService;
  webhooks: WebhooksService;
  security: SecurityOptions;
  /** Answers 503 provider_not_configured while no LLM provider is configured. */
  classifications: ClassificationsService;
  reviews: ReviewsService;
  evaluations: EvaluationsService;
  /** Take client addresses from X-Forwarded-For (behind a reverse proxy). */
  trustProxy?: boolean;
  /** How often the job events stream reads the job (default 500 ms). */
  eventsPollMs?: number;
  pingDatabase(): Promise<void>;
  pingQueue(): Promise<void>;
  /** Prometheus metrics: request counts and latency, and `GET /metrics`. */
  metrics?: Metrics;
  /** Warm folder reads served from memory, keyed by the data version (absent: every read is computed). */
  responseCache?: ResponseCacheOptions;
  /** Who may open admin pages (the queue dashboard); absent: direct loopback callers only. */
  adminGuard?: (req: FastifyRequest) => boolean | Promise<boolean>;
  /** The BullMQ queue bull-board shows on /admin/queues (Redis mode only). */
  queueDashboard?: Omit<QueueDashboardOptions, 'guard'>;
}

/**
 * Who may use the queue dashboard unless the caller supplies a guard: an unscoped admin, by key
 * (header or the queue-session cookie), or keyless only as a direct loopback caller in open mode.
 */
function unscopedAdmin(req: FastifyRequest): boolean {
  const p = req.principal;
  return p.role === 'admin' && p.scopes.length === 0 && (p.keyId !== null || loopbackOnly(req));
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // Folder names can be long; the path limit is enforced by the schemas.
    routerOptions: { maxParamLength: 4200 },
    genReqId: () => crypto.randomUUID(),
    requestIdHeader: 'x-request-id',
    trustProxy: deps.trustProxy ?? false,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app as unknown as FastifyInstance);
  registerAuth(app as unknown as FastifyInstance, { keys: deps.keys, required: deps.authRequired, rateLimit: deps.security });
  registerSecurity(app as unknown as FastifyInstance, deps.security);
  if (deps.metrics) registerMetrics(app as unknown as FastifyInstance, deps.metrics);
  if (deps.responseCache) registerResponseCache(app as unknown as FastifyInstance, deps.responseCache);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'docsight',
        version: deps.version,
        description:
          'What is in your document folders and what each document is about. Heavy work runs in jobs: POST answers at once with a job to poll.',
      },
      tags: [
        { name: 'jobs', description: 'Start scans, follow jobs' },
        { name: 'folders', description: 'Folder insights and document listings' },
        { name: 'documents', description: 'One document' },
        { name: 'classification', description: 'Tags, category and summary per document, by an LLM' },
        { name: 'taxonomies', description: 'Tag sets for classification, versioned' },
        { name: 'evaluation', description: 'Gold labels, and how well classification matches them' },
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'watches', description: 'Folders of the local root kept in sync by filesystem events' },
        { name: 'access', description: 'API keys, roles, scopes and the audit log' },
        { name: 'webhooks', description: 'Signed HTTP callbacks when jobs end, documents change or classifications need review' },
        { name: 'original design', description: 'Routes of the original design, same paths and fields' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());

  await app.register(healthRoutes(deps));
  await app.register(jobRoutes(deps));
  await app.register(folderRoutes(deps));
  await app.register(documentRoutes(deps));
  await app.register(duplicateRoutes(deps));
  await app.register(changeRoutes(deps));
  await app.register(watchRoutes(deps));
  await app.register(searchRoutes(deps));
  await app.register(keyRoutes(deps));
  await app.register(sourceRoutes(deps));
  await app.register(webhookRoutes(deps));
  await app.register(taxonomyRoutes(deps));
  await app.register(classificationRoutes(deps));
  await app.register(reviewRoutes(deps));
  await app.register(evaluationRoutes(deps));
  await app.register(legacyRoutes(deps));
  if (deps.queueDashboard) {
    await app.register(queueSessionRoutes);
    await app.register(queueDashboard({ ...deps.queueDashboard, guard: deps.adminGuard ?? unscopedAdmin }));
  }
  await app.register(dashboardRoutes());
  return app as unknown as FastifyInstance;
}
