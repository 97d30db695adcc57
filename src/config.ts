/**
 * Configuration: one zod schema, parsed once at start. Nothing else in docsight reads
 * process.env. Every variable carries its description in the schema; docs/configuration.md is
 * generated from it (`npm run docs:config`), and `Config` is the schema's output type.
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PII_KINDS } from './domain/vocabulary.ts';

declare module 'zod' {
  interface GlobalMeta {
    /** The default as docs/configuration.md shows it, where the schema's own default cannot say it. */
    docDefault?: string;
  }
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const optionalBool = optionalString.pipe(bool.optional());

const PriceTable = z.record(
  z.string(),
  z.object({ input: z.number().min(0), output: z.number().min(0) }),
);
type Prices = z.output<typeof PriceTable>;

/** LLM_PRICES: JSON text to a price table; an unset variable is an empty table (built-in prices apply). */
const prices = optionalString.transform((text, ctx): Prices => {
  if (!text) return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
    return z.NEVER;
  }
  const table = PriceTable.safeParse(json);
  if (!table.success) {
    ctx.addIssue({ code: 'custom', message: 'expected {"model": {"input": number, "output": number}}' });
    return z.NEVER;
  }
  return table.data;
});

// The variables in groups; the groups are the sections of docs/configuration.md.

const server = {
  PORT: int(0, 65535).default(8000).describe('HTTP port of the API.'),
  HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Interface the API listens on. Anything but loopback makes API keys required (see AUTH_REQUIRED).'),
  DOCS_ROOT: z
    .string()
    .min(1)
    .default('./documents')
    .describe('The documents root: every folder path in the API is relative to it. Created empty when missing.'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.'),
  METRICS_PORT: optionalString
    .pipe(z.coerce.number<string | undefined>().int().min(1).max(65535).optional())
    .meta({
      description:
        'Port of a separate listener answering `GET /metrics` (no key) and `GET /health`, on HOST, for Prometheus; ' +
        'the only way to scrape worker-only processes. Keep it off the public network.',
      docDefault: 'unset: off',
    }),
};

const storage = {
  DATA_DIR: z
    .string()
    .min(1)
    .default('./data')
    .describe('Where the embedded PostgreSQL keeps its data when DATABASE_URL is not set.'),
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()).meta({
    description: 'PostgreSQL server (`postgres://user:pass@host:5432/db`).',
    docDefault: 'unset: embedded PostgreSQL under DATA_DIR',
  }),
  EMBEDDED_PG_PORT: int(1, 65535).default(54329).describe('Port of the embedded PostgreSQL (loopback only).'),
  REDIS_URL: optionalString.pipe(z.url({ protocol: /^rediss?$/ }).optional()).meta({
    description: 'Redis for the BullMQ queue (`redis://host:6379`); also shares rate limits across processes.',
    docDefault: 'unset: the PostgreSQL-backed queue',
  }),
  QUEUE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only')
    .default('docsight')
    .describe('Name of the work queue (and part of the BullMQ key prefix); processes that share work use the same.'),
};

const workers = {
  WORKER_CONCURRENCY: int(1, 256).default(4).describe('Queue jobs (batches of documents) one worker process runs at once.'),
  EXTRACT_THREADS: int(1, 64)
    .default(Math.max(1, availableParallelism()))
    .meta({ description: 'Worker threads that parse documents, per worker process.', docDefault: 'the number of CPU cores' }),
  SCAN_BATCH_SIZE: int(1, 5000)
    .default(200)
    .describe('Documents per extraction job (queue overhead is paid once per batch); a walk\'s first batches are smaller (16, 32, 64, …), so its first documents are written early.'),
  CLASSIFY_BATCH_SIZE: optionalString.pipe(z.coerce.number<string | undefined>().int().min(1).max(1000).optional()).meta({
    description:
      'Documents per classification job. Unset, it follows from LLM_CONCURRENCY and WORKER_CONCURRENCY so that the ' +
      'batches one worker runs at once admit four times LLM_CONCURRENCY documents: enough waiting to keep every ' +
      'request slot busy while a batch finishes and the next is claimed.',
    docDefault: 'ceil(4 × LLM_CONCURRENCY / WORKER_CONCURRENCY), 1-1000 (64 at the defaults)',
  }),
  JOB_ATTEMPTS: int(1, 100)
    .default(5)
    .describe('Attempts of a queue job (with exponential backoff) before it fails for good.'),
  RECONCILE_AFTER_MS: int(10_000, 86_400_000)
    .default(120_000)
    .describe('A running job that has not moved for this long gets its work re-enqueued (lost queue jobs), in ms.'),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000)
    .default(20_000)
    .describe('How long a stopping worker waits for in-flight work before releasing it, in ms.'),
  JOB_RETENTION_DAYS: int(0, 36_500).default(30).describe('Days of finished job history to keep (0 = forever).'),
};

const extraction = {
  MAX_FILE_MB: int(1, 100_000)
    .default(200)
    .describe('Largest file read for extraction, in MB; larger files fail with `too_large` without being read.'),
  MAX_UNCOMPRESSED_MB: int(1, 100_000)
    .default(500)
    .describe('Largest total inflated size of one archive, in MB (zip bomb guard).'),
  MAX_ARCHIVE_ENTRIES: int(1, 10_000_000).default(10_000).describe('Most entries in one archive.'),
  MAX_COMPRESSION_RATIO: int(2, 100_000).default(200).describe('Highest compression ratio of one archive entry.'),
  MAX_TEXT_CHARS: int(1000, 100_000_000).default(2_000_000).describe('Text kept per document, in characters.'),
  EXTRACT_TIMEOUT_MS: int(100, 3_600_000)
    .default(30_000)
    .describe('Wall-clock limit for parsing one document, in ms; past it the document fails with `timeout`.'),
  MAX_EMBED_DEPTH: int(0, 10)
    .default(3)
    .describe('How deep documents inside documents are read (an attachment of an attached e-mail is depth 2); 0 reads no attachments or archive entries.'),
  ALLOW_HARDLINKS: optionalBool.meta({
    description: 'Read files with more than one hard link (they may be the same file as one outside the root).',
    docDefault: '`false`',
  }),
  PII_DETECTION: z
    .enum(['on', 'off'])
    .default('on')
    .describe('Look for personal data (citizen service numbers, IBANs, card numbers, e-mail addresses, phone numbers, birth dates) while extracting; only counts and masked samples are stored.'),
  PII_KINDS: z
    .string()
    .default(PII_KINDS.join(','))
    .transform((v) => v.split(',').map((k) => k.trim()).filter(Boolean))
    .pipe(z.array(z.enum(PII_KINDS)))
    .meta({ description: `Kinds of personal data looked for, comma-separated, of: ${PII_KINDS.join(', ')}.`, docDefault: 'all of them' }),
};

const llm = {
  OPENAI_API_KEY: optionalString.meta({
    description: 'OpenAI API key (or the key of an OpenAI-compatible server). Never logged.',
    docDefault: 'unset',
  }),
  OPENAI_BASE_URL: optionalString.pipe(z.url().optional()).meta({
    description:
      'Base URL of an OpenAI-compatible server (Ollama `http://127.0.0.1:11434/v1`, vLLM, LM Studio, llama.cpp, ' +
      'Azure OpenAI). A provider is configured when OPENAI_API_KEY or this is set.',
    docDefault: 'unset: the OpenAI API',
  }),
  LLM_MODEL: z.string().min(1).default('gpt-4o-mini').describe('Model used for classification and summaries.'),
  LLM_TIMEOUT_MS: int(1000, 600_000).default(60_000).describe('Timeout of one LLM request, in ms.'),
  LLM_MAX_RETRIES: int(0, 20)
    .default(4)
    .describe('Retries of one LLM request on 429/5xx/timeouts (the SDK honours Retry-After).'),
  LLM_CONCURRENCY: int(1, 1000)
    .default(64)
    .describe(
      'LLM requests one worker process keeps in flight, counted per HTTP attempt (retries take the next free slot ' +
        'first). The documents admitted to keep them busy follow from it (see CLASSIFY_BATCH_SIZE).',
    ),
  LLM_RPM: int(0, 10_000_000).default(500).describe('Requests per minute allowed across all workers (0 = no limit).'),
  LLM_TPM: int(0, 1_000_000_000)
    .default(200_000)
    .describe('Tokens per minute allowed across all workers (0 = no limit).'),
  LLM_MAX_INPUT_TOKENS: int(500, 2_000_000)
    .default(12_000)
    .describe('Input token budget of one request; longer documents are split and combined.'),
  SUMMARY_MAX_WORDS: int(10, 2000).default(120).describe('Target length of summaries, in words.'),
  REVIEW_CONFIDENCE_THRESHOLD: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe('Tags under this confidence are kept but flagged for review.'),
  LLM_PRICES: prices.meta({
    description: 'Price table overrides: JSON `{"model": {"input": usdPer1M, "output": usdPer1M}}`.',
    docDefault: 'unset: the built-in table',
  }),
  LLM_BATCH_API: optionalBool.meta({
    description:
      'The provider offers OpenAI\'s Batch API (/v1/files and /v1/batches): classifications may then run as one batch ' +
      '(`mode: "batch"`, or automatically from LLM_BATCH_API_MIN_DOCUMENTS), answered within 24 h at the batch price.',
    docDefault: '`true` for the OpenAI API (OPENAI_BASE_URL unset or on api.openai.com), else `false`',
  }),
  LLM_BATCH_API_MIN_DOCUMENTS: int(0, 100_000_000)
    .default(5000)
    .describe(
      'A classification in `auto` mode of at least this many documents goes through the Batch API when the provider ' +
        'offers it (0: only when asked for with `mode: "batch"`).',
    ),
  LLM_BATCH_PRICE_FACTOR: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe('Price of a Batch API request as a share of the normal price, for estimates and cost accounting (OpenAI: half).'),
  LLM_BATCH_POLL_MS: int(100, 3_600_000)
    .default(60_000)
    .describe('How often a running Batch API batch is looked at, in ms (a delayed queue job, so polling survives restarts).'),
};

const access = {
  AUTH_REQUIRED: optionalBool.meta({
    description: 'Require API keys (`true`/`false`, `1`/`0`, `yes`/`no`).',
    docDefault: 'required unless HOST is loopback',
  }),
  RESPONSE_CACHE_MB: int(0, 4096)
    .default(16)
    .describe(
      'Memory per API process for answers of folder insights, counts and listings served again until a write to what they read ' +
        'is committed (heard by LISTEN on one extra database connection; 0 = off: every read is computed). ' +
        'Set 0 behind a pooler in transaction mode, where LISTEN hears nothing.',
    ),
  RESPONSE_CACHE_MAX_AGE_MS: int(0, 3_600_000)
    .default(1000)
    .describe('The longest a cached answer is served (ms), writes or not: stale-document counts move with the clock alone.'),
  RATE_LIMIT_PER_MINUTE: int(0, 10_000_000)
    .default(1200)
    .describe('Requests per minute per API key (0 = no limit); shared by all API replicas in Redis mode.'),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: int(0, 10_000_000)
    .default(300)
    .describe('Requests per minute per IP address for requests without a valid key, when keys are required (0 = no limit).'),
  TRUST_PROXY: optionalBool.meta({
    description:
      'Behind a reverse proxy (nginx, an ingress): take the client address from X-Forwarded-For, so per-IP rate ' +
      'limits see callers, not the proxy. Only set it when a proxy you run is in front.',
    docDefault: '`false`',
  }),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.url()))
    .meta({
      description: 'Origins allowed to call the API from a browser (comma-separated).',
      docDefault: 'empty: CORS off',
    }),
};

const ocr = {
  OCR: z.enum(['on', 'off']).default('on').describe('Read scanned PDF pages and images with OCR (`off`: they keep no text).'),
  OCR_LANGUAGES: z
    .string()
    .regex(/^[a-z_]{3,8}(,[a-z_]{3,8})*$/, 'comma-separated tesseract language codes, e.g. eng,nld')
    .default('eng')
    .describe('Languages OCR reads, as tesseract codes (`eng,nld`); `eng` ships with docsight, others come from OCR_LANG_DIR.'),
  OCR_LANG_DIR: z
    .string()
    .default('/usr/share/tesseract-ocr/5/tessdata')
    .describe('Folder with extra `<lang>.traineddata` files (Debian: `apt install tesseract-ocr-nld` puts Dutch here).'),
  OCR_ENGINE: z
    .enum(['auto', 'wasm', 'native'])
    .default('auto')
    .describe('`wasm`: tesseract.js; `native`: the `tesseract` binary on PATH; `auto`: native when it is installed, else wasm. Both give the same results shape.'),
  OCR_CONCURRENCY: int(1, 64)
    .default(Math.max(1, availableParallelism() - 1))
    .meta({ description: 'Documents one worker process OCRs at once (each uses a core).', docDefault: 'CPU cores minus one, at least 1' }),
  OCR_MAX_PAGES: int(1, 10_000).default(100).describe('Pages OCR reads per document; the rest keep no text and the document says so.'),
  OCR_PAGE_TIMEOUT_MS: int(1_000, 3_600_000).default(120_000).describe('Wall-clock limit for reading one page, in ms.'),
  OCR_DPI: int(72, 600).default(300).describe('Resolution PDF pages are rendered at for OCR.'),
  OCR_MAX_WAIT_SECONDS: int(0, 3_600)
    .default(30)
    .describe(
      'Before each page, OCR waits while its worker process runs scan or extraction jobs (born-digital documents keep the CPU), ' +
        'but at most this long: then it reads the page anyway. 0: OCR never waits.',
    ),
  OCR_LOW_CONFIDENCE: int(0, 100)
    .default(60)
    .describe('Mean word confidence (0-100) under which a document\'s OCR text is flagged low-confidence.'),
  OCR_FOLDERS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((f) => f.trim()).filter(Boolean))
    .meta({ description: 'Only OCR documents inside these folders (comma-separated, relative to DOCS_ROOT).', docDefault: 'empty: every folder' }),
};

const insights = {
  STALE_AFTER_YEARS: int(1, 100)
    .default(7)
    .describe(
      'Documents not modified for more than this many years (their own modified date, else the file\'s) count as stale in ' +
        'folder insights and the `stale` filter; 7 is the Dutch fiscal retention period.',
    ),
  DUPLICATE_SIMILARITY: z.coerce
    .number()
    .min(0.5)
    .max(1)
    .default(0.8)
    .describe(
      'Estimated share of shared word 5-shingles (MinHash Jaccard, 0.5-1) at which two documents count as versions or near ' +
        'copies of each other in duplicate groups and the similar-documents list; exact copies always count.',
    ),
};

/** SECRETS_KEY: 32 bytes as 64 hex digits or base64; unset stays undefined. */
const secretsKey = optionalString.transform((text, ctx): Buffer | undefined => {
  if (!text) return undefined;
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : undefined;
  if (key?.length !== 32) {
    ctx.addIssue({ code: 'custom', message: 'expected a 32-byte key as 64 hex digits or base64 (`openssl rand -base64 32`)' });
    return z.NEVER;
  }
  return key;
});

const secrets = {
  SECRETS_KEY: secretsKey.meta({
    description:
      'Key that encrypts stored secrets (webhook signing secrets, bucket credentials) with AES-256-GCM: 32 bytes as 64 hex digits ' +
      'or base64 (`openssl rand -base64 32`). Every process needs the same key. Unset: bucket credentials cannot be stored ' +
      '(sources use the environment, the AWS default chain) and webhook signing secrets are stored unencrypted (a warning says ' +
      'so at start); set it later and new secrets are encrypted, old ones still read.',
    docDefault: 'unset',
  }),
};

const sources = {
  S3_TIMEOUT_MS: int(1000, 600_000)
    .default(30_000)
    .describe('Time limit of one request to a bucket source (listing page, object read), in ms; a timed-out request is retried.'),
  S3_MAX_ATTEMPTS: int(1, 20)
    .default(4)
    .describe('Attempts of one request to a bucket source (throttling, timeouts, 5xx) with backoff before the scan or the batch fails.'),
};

const webhooks = {
  WEBHOOK_ALLOW_PRIVATE: optionalBool.meta({
    description:
      'Allow webhook URLs whose host is or resolves to a loopback, private, link-local, CGNAT, unique-local, multicast or ' +
      'unspecified address (refused by default: server-side request forgery).',
    docDefault: '`false`',
  }),
  WEBHOOK_TIMEOUT_MS: int(100, 120_000)
    .default(10_000)
    .describe('A webhook receiver that has not answered within this long is cut off and the attempt fails, in ms.'),
  WEBHOOK_RETRY_FOR_MS: int(0, 30 * 86_400_000)
    .default(86_400_000)
    .describe('How long an event is retried after its first attempt failed before it is given up, in ms (default 24 h).'),
  WEBHOOK_BACKOFF_BASE_MS: int(10, 86_400_000)
    .default(30_000)
    .describe('Wait before the second attempt, in ms; it doubles after each failed attempt (with jitter) up to WEBHOOK_BACKOFF_MAX_MS.'),
  WEBHOOK_BACKOFF_MAX_MS: int(10, 86_400_000).default(3_600_000).describe('Longest wait between two attempts of one event, in ms.'),
  WEBHOOK_DISABLE_AFTER: int(1, 10_000)
    .default(10)
    .describe('A webhook is disabled when this many events in a row were given up (its GET says so; PATCH `enabled: true` resumes it).'),
  WEBHOOK_POLL_MS: int(50, 60_000).default(1_000).describe('How often a worker looks for webhook events to deliver, in ms.'),
};

/** The sections of docs/configuration.md, in order, each with its variables. */
const sync = {
  DELETED_RETENTION_DAYS: int(0, 36_500)
    .default(30)
    .describe(
      'Days a deleted document is kept (as deleted: out of insights, listings and search) before it is purged; a file ' +
        'with the same content appearing elsewhere within this period is the same document moved (0: purge at the next hourly pass).',
    ),
  WATCH_DEBOUNCE_MS: int(0, 600_000)
    .default(300)
    .describe('Quiet time after the last filesystem event under a watched folder before its scans start, in ms (events in it are coalesced).'),
  WATCH_FULL_CHECK_SECONDS: int(5, 604_800)
    .default(600)
    .describe('How often every watched folder is scanned in full, catching what filesystem events missed (unchanged files are not read), in seconds.'),
  WATCH_REFRESH_SECONDS: int(1, 3600)
    .default(5)
    .describe('How often the process running the watchers reads the watch list (watches added or removed through the API or CLI), in seconds.'),
};

export const CONFIG_GROUPS = [
  { title: 'Server', shape: server },
  { title: 'Database and queue', shape: storage },
  { title: 'Workers and jobs', shape: workers },
  { title: 'Extraction limits', shape: extraction },
  { title: 'OCR', shape: ocr },
  { title: 'Classification (LLM)', shape: llm },
  { title: 'Access and rate limits', shape: access },
  { title: 'Insights', shape: insights },
  { title: 'Secrets', shape: secrets },
  { title: 'Sources (buckets)', shape: sources },
  { title: 'Webhooks', shape: webhooks },
  { title: 'Changes and watched folders', shape: sync },
] as const;

const EnvSchema = z.object({ ...server, ...storage, ...workers, ...extraction, ...ocr, ...llm, ...access, ...insights, ...secrets, ...sources, ...webhooks, ...sync });

export type Env = z.input<typeof EnvSchema>;

/** Every variable docsight reads (the deployment files are tested against this list). */
export const ENV_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
export const isLoopback = (host: string) => LOOPBACK.has(host) || host.startsWith('127.');

const MB = 1024 * 1024;

/**
 * Documents per classification batch when CLASSIFY_BATCH_SIZE is unset: the WORKER_CONCURRENCY
 * batches a worker runs at once admit four times LLM_CONCURRENCY documents. Requests leave in
 * admission order, so about one batch's worth finishes per round of requests; the other three
 * rounds waiting keep every slot busy while a finished batch commits and the queue hands over the
 * next. Derived from the batch size rather than WORKER_CONCURRENCY, which also sets how many
 * extraction batches (and their texts) a worker holds at once.
 */
export function defaultClassifyBatchSize(llmConcurrency: number, workerConcurrency: number): number {
  return Math.min(1000, Math.max(1, Math.ceil((4 * llmConcurrency) / Math.max(1, workerConcurrency))));
}

/** The OpenAI API itself (which offers the Batch API), not another OpenAI-compatible server. */
function isOpenAIApi(baseUrl: string | undefined): boolean {
  if (baseUrl === undefined) return true;
  try {
    return new URL(baseUrl).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}

/** The environment's variables, validated, in the shape the code reads. */
const ConfigSchema = EnvSchema.transform((e) => ({
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
    classifyBatchSize: e.CLASSIFY_BATCH_SIZE ?? defaultClassifyBatchSize(e.LLM_CONCURRENCY, e.WORKER_CONCURRENCY),
    jobAttempts: e.JOB_ATTEMPTS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    reconcileAfterMs: e.RECONCILE_AFTER_MS,
  },
  limits: {
    maxFileBytes: e.MAX_FILE_MB * MB,
    maxUncompressedBytes: e.MAX_UNCOMPRESSED_MB * MB,
    maxEntries: e.MAX_ARCHIVE_ENTRIES,
    maxCompressionRatio: e.MAX_COMPRESSION_RATIO,
    maxTextChars: e.MAX_TEXT_CHARS,
    timeoutMs: e.EXTRACT_TIMEOUT_MS,
    maxDepth: e.MAX_EMBED_DEPTH,
    piiKinds: e.PII_DETECTION === 'on' ? e.PII_KINDS : [],
  },
  ocr: {
    enabled: e.OCR === 'on',
    languages: e.OCR_LANGUAGES.split(','),
    langDir: e.OCR_LANG_DIR,
    engine: e.OCR_ENGINE,
    concurrency: e.OCR_CONCURRENCY,
    maxPages: e.OCR_MAX_PAGES,
    pageTimeoutMs: e.OCR_PAGE_TIMEOUT_MS,
    maxWaitMs: e.OCR_MAX_WAIT_SECONDS * 1000,
    dpi: e.OCR_DPI,
    lowConfidence: e.OCR_LOW_CONFIDENCE,
    folders: e.OCR_FOLDERS,
  },
  logLevel: e.LOG_LEVEL,
  /** Port of the key-less metrics listener; undefined: off. */
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
    prices: e.LLM_PRICES,
    /** A provider is configured when a key or a base URL (local servers need no key) is set. */
    configured: Boolean(e.OPENAI_API_KEY || e.OPENAI_BASE_URL),
    batchApi: {
      supported: e.LLM_BATCH_API ?? isOpenAIApi(e.OPENAI_BASE_URL),
      minDocuments: e.LLM_BATCH_API_MIN_DOCUMENTS,
      priceFactor: e.LLM_BATCH_PRICE_FACTOR,
      pollMs: e.LLM_BATCH_POLL_MS,
    },
  },
  authRequired: e.AUTH_REQUIRED ?? !isLoopback(e.HOST),
  rateLimit: { perKeyPerMinute: e.RATE_LIMIT_PER_MINUTE, anonymousPerMinute: e.RATE_LIMIT_ANONYMOUS_PER_MINUTE },
  /** The API's response cache of folder reads; maxBytes 0: off. */
  responseCache: { maxBytes: e.RESPONSE_CACHE_MB * MB, maxAgeMs: e.RESPONSE_CACHE_MAX_AGE_MS },
  corsOrigins: e.CORS_ORIGINS,
  trustProxy: e.TRUST_PROXY ?? false,
  allowHardlinks: e.ALLOW_HARDLINKS ?? false,
  jobRetentionDays: e.JOB_RETENTION_DAYS,
  staleAfterYears: e.STALE_AFTER_YEARS,
  duplicateSimilarity: e.DUPLICATE_SIMILARITY,
  sources: { timeoutMs: e.S3_TIMEOUT_MS, maxAttempts: e.S3_MAX_ATTEMPTS },
  /** The key sealing stored secrets; undefined: stored unsealed. */
  secretsKey: e.SECRETS_KEY,
  webhooks: {
    allowPrivate: e.WEBHOOK_ALLOW_PRIVATE ?? false,
    timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    retryForMs: e.WEBHOOK_RETRY_FOR_MS,
    backoffBaseMs: e.WEBHOOK_BACKOFF_BASE_MS,
    backoffMaxMs: e.WEBHOOK_BACKOFF_MAX_MS,
    disableAfter: e.WEBHOOK_DISABLE_AFTER,
    pollMs: e.WEBHOOK_POLL_MS,
  },
  deletedRetentionDays: e.DELETED_RETENTION_DAYS,
  watch: {
    debounceMs: e.WATCH_DEBOUNCE_MS,
    fullCheckMs: e.WATCH_FULL_CHECK_SECONDS * 1000,
    refreshMs: e.WATCH_REFRESH_SECONDS * 1000,
  },
}));

export type Config = z.output<typeof ConfigSchema>;

/**
 * Parse the environment. Errors name the variable and the rule, never the value (values may be
 * secrets).
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
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
