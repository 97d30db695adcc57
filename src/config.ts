/**
 * Configuration: one zod schema, parsed once at start. Nothing else in docsight reads
 * process.env. Every variable is documented here and in the README's configuration table.
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const EnvSchema = z.object({
  /** HTTP port of the API. */
  PORT: int(0, 65535).default(8000),
  /** Interface the API listens on. Anything but loopback requires API keys (see AUTH_REQUIRED). */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** The documents root: every folder path in the API is relative to it. */
  DOCS_ROOT: z.string().min(1).default('./documents'),
  /** Where the embedded PostgreSQL keeps its data when DATABASE_URL is not set. */
  DATA_DIR: z.string().min(1).default('./data'),
  /** PostgreSQL server; unset means embedded PostgreSQL under DATA_DIR. */
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  /** Redis for the BullMQ queue; unset means the PostgreSQL-backed queue. */
  REDIS_URL: optionalString.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
  /** Name of the work queue (and BullMQ key prefix part); processes sharing work use the same. */
  QUEUE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only')
    .default('docsight'),
  /** Port of the embedded PostgreSQL (loopback only). */
  EMBEDDED_PG_PORT: int(1, 65535).default(54329),
  /** Queue jobs (batches of documents) one worker process runs at once. */
  WORKER_CONCURRENCY: int(1, 256).default(4),
  /** Worker threads that parse documents, per worker process. */
  EXTRACT_THREADS: int(1, 64).default(Math.max(1, availableParallelism())),
  /** Documents per classification job. */
  CLASSIFY_BATCH_SIZE: int(1, 1000).default(25),
  /** Documents per extraction job (queue overhead is paid once per batch). */
  SCAN_BATCH_SIZE: int(1, 5000).default(200),
  /** Largest file read for extraction, in MB; larger files fail with too_large. */
  MAX_FILE_MB: int(1, 100_000).default(200),
  /** Largest total inflated size of one archive, in MB (zip bomb guard). */
  MAX_UNCOMPRESSED_MB: int(1, 100_000).default(500),
  /** Most entries in one archive. */
  MAX_ARCHIVE_ENTRIES: int(1, 10_000_000).default(10_000),
  /** Highest compression ratio of one archive entry. */
  MAX_COMPRESSION_RATIO: int(2, 100_000).default(200),
  /** Text kept per document, in characters. */
  MAX_TEXT_CHARS: int(1000, 100_000_000).default(2_000_000),
  /** Wall-clock limit for parsing one document, in ms; past it the document fails with timeout. */
  EXTRACT_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
  /** Attempts of a queue job before it fails for good. */
  JOB_ATTEMPTS: int(1, 100).default(5),
  /** A running job that has not moved for this long gets its work re-enqueued (lost queue jobs), in ms. */
  RECONCILE_AFTER_MS: int(10_000, 86_400_000).default(120_000),
  /** How long a stopping worker waits for in-flight work before releasing it, in ms. */
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(20_000),
  /**
   * Port of a separate listener answering `GET /metrics` without a key (on HOST), for Prometheus;
   * the only way to scrape worker-only processes. Unset: off. Keep it off the public network.
   */
  METRICS_PORT: optionalString.pipe(z.coerce.number<string | undefined>().int().min(1).max(65535).optional()),
  /** pino log level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  /** OpenAI API key (or the key of an OpenAI-compatible server). Never logged. */
  OPENAI_API_KEY: optionalString,
  /** Base URL of an OpenAI-compatible server (Azure OpenAI, Ollama, vLLM, LM Studio, llama.cpp). */
  OPENAI_BASE_URL: optionalString.pipe(z.url().optional()),
  /** Model used for classification and summaries. */
  LLM_MODEL: z.string().min(1).default('gpt-4o-mini'),
  /** Timeout of one LLM request, in ms. */
  LLM_TIMEOUT_MS: int(1000, 600_000).default(60_000),
  /** Retries of one LLM request on 429/5xx/timeouts (the SDK honours Retry-After). */
  LLM_MAX_RETRIES: int(0, 20).default(4),
  /** LLM requests one worker process keeps in flight. */
  LLM_CONCURRENCY: int(1, 1000).default(64),
  /** Requests per minute allowed across all workers (0 = no limit). */
  LLM_RPM: int(0, 10_000_000).default(500),
  /** Tokens per minute allowed across all workers (0 = no limit). */
  LLM_TPM: int(0, 1_000_000_000).default(200_000),
  /** Input token budget of one request; longer documents are split and combined. */
  LLM_MAX_INPUT_TOKENS: int(500, 2_000_000).default(12_000),
  /** Target length of summaries, in words. */
  SUMMARY_MAX_WORDS: int(10, 2000).default(120),
  /** Tags under this confidence are kept but flagged for review. */
  REVIEW_CONFIDENCE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.5),
  /** Price table overrides: JSON {"model": {"input": usdPer1M, "output": usdPer1M}}. */
  LLM_PRICES: optionalString,

  /** Require API keys even on loopback. Default: required unless HOST is loopback. */
  AUTH_REQUIRED: optionalString.pipe(bool.optional()),
  /** Requests per minute per API key (0 = no limit); shared by all API replicas in Redis mode. */
  RATE_LIMIT_PER_MINUTE: int(0, 10_000_000).default(1200),
  /** Requests per minute per IP address for requests without a key (0 = no limit). */
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: int(0, 10_000_000).default(300),
  /**
   * Behind a reverse proxy (nginx, an ingress): take the client address from X-Forwarded-For, so
   * per-IP rate limits see callers, not the proxy. Only set it when a proxy you run is in front.
   */
  TRUST_PROXY: optionalString.pipe(bool.optional()),
  /** Origins allowed to call the API from a browser (comma-separated); empty: CORS off. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.url())),
  /** Read files with more than one hard link (they may be the same file as one outside the root). */
  ALLOW_HARDLINKS: optionalString.pipe(bool.optional()),
  /** Days of finished job history to keep (0 = forever). */
  JOB_RETENTION_DAYS: int(0, 36_500).default(30),
});

export type Env = z.input<typeof EnvSchema>;

/** Every variable docsight reads (the deployment files are tested against this list). */
export const ENV_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

export interface Config {
  port: number;
  host: string;
  docsRoot: string;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  queueName: string;
  embeddedPgPort: number;
  worker: {
    concurrency: number;
    extractThreads: number;
    batchSize: number;
    classifyBatchSize: number;
    jobAttempts: number;
    shutdownTimeoutMs: number;
    reconcileAfterMs: number;
  };
  limits: {
    maxFileBytes: number;
    maxUncompressedBytes: number;
    maxEntries: number;
    maxCompressionRatio: number;
    maxTextChars: number;
    timeoutMs: number;
  };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Port of the key-less metrics listener; undefined: off. */
  metricsPort: number | undefined;
  llm: {
    apiKey: string | undefined;
    baseUrl: string | undefined;
    model: string;
    timeoutMs: number;
    maxRetries: number;
    concurrency: number;
    rpm: number;
    tpm: number;
    maxInputTokens: number;
    summaryMaxWords: number;
    reviewThreshold: number;
    prices: Record<string, { input: number; output: number }>;
    /** A provider is configured when a key or a base URL (local servers need no key) is set. */
    configured: boolean;
  };
  authRequired: boolean;
  rateLimit: { perKeyPerMinute: number; anonymousPerMinute: number };
  corsOrigins: string[];
  trustProxy: boolean;
  allowHardlinks: boolean;
  jobRetentionDays: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
export const isLoopback = (host: string) => LOOPBACK.has(host) || host.startsWith('127.');

const PriceTable = z.record(
  z.string(),
  z.object({ input: z.number().min(0), output: z.number().min(0) }),
);

/**
 * Parse the environment. Errors name the variable and the rule, never the value (values may be
 * secrets).
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  let prices: Config['llm']['prices'] = {};
  if (e.LLM_PRICES) {
    let json: unknown;
    try {
      json = JSON.parse(e.LLM_PRICES);
    } catch {
      throw new ConfigError('Invalid configuration:\n  LLM_PRICES: not valid JSON');
    }
    const table = PriceTable.safeParse(json);
    if (!table.success) {
      throw new ConfigError(
        'Invalid configuration:\n  LLM_PRICES: expected {"model": {"input": number, "output": number}}',
      );
    }
    prices = table.data;
  }
  const mb = 1024 * 1024;
  return {
    port: e.PORT,
    host: e.HOST,
    docsRoot: path.resolve(e.DOCS_ROOT),
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    queueName: e.QUEUE_NAME,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      extractThreads: e.EXTRACT_THREADS,
      batchSize: e.SCAN_BATCH_SIZE,
      classifyBatchSize: e.CLASSIFY_BATCH_SIZE,
      jobAttempts: e.JOB_ATTEMPTS,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      reconcileAfterMs: e.RECONCILE_AFTER_MS,
    },
    limits: {
      maxFileBytes: e.MAX_FILE_MB * mb,
      maxUncompressedBytes: e.MAX_UNCOMPRESSED_MB * mb,
      maxEntries: e.MAX_ARCHIVE_ENTRIES,
      maxCompressionRatio: e.MAX_COMPRESSION_RATIO,
      maxTextChars: e.MAX_TEXT_CHARS,
      timeoutMs: e.EXTRACT_TIMEOUT_MS,
    },
    logLevel: e.LOG_LEVEL,
    metricsPort: e.METRICS_PORT,
    llm: {
      apiKey: e.OPENAI_API_KEY,
      baseUrl: e.OPENAI_BASE_URL,
      model: e.LLM_MODEL,
      timeoutMs: e.LLM_TIMEOUT_MS,
      maxRetries: e.LLM_MAX_RETRIES,
      concurrency: e.LLM_CONCURRENCY,
      rpm: e.LLM_RPM,
      tpm: e.LLM_TPM,
      maxInputTokens: e.LLM_MAX_INPUT_TOKENS,
      summaryMaxWords: e.SUMMARY_MAX_WORDS,
      reviewThreshold: e.REVIEW_CONFIDENCE_THRESHOLD,
      prices,
      configured: Boolean(e.OPENAI_API_KEY || e.OPENAI_BASE_URL),
    },
    authRequired: e.AUTH_REQUIRED ?? !isLoopback(e.HOST),
    rateLimit: { perKeyPerMinute: e.RATE_LIMIT_PER_MINUTE, anonymousPerMinute: e.RATE_LIMIT_ANONYMOUS_PER_MINUTE },
    corsOrigins: e.CORS_ORIGINS,
    trustProxy: e.TRUST_PROXY ?? false,
    allowHardlinks: e.ALLOW_HARDLINKS ?? false,
    jobRetentionDays: e.JOB_RETENTION_DAYS,
  };
}

/** Load `.env` from the working directory (if present; real environment wins), then parse. */
export function loadConfig(): Config {
  if (existsSync('.env')) {
    const before = { ...process.env };
    process.loadEnvFile('.env');
    // loadEnvFile overwrites; the real environment must win over the file.
    Object.assign(process.env, before);
  }
  return parseConfig(process.env);
}
