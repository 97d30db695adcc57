/**
 * The layers of ARCHITECTURE.md as rules: `npm run lint:layers` (and .ci/run) fails when an import
 * points the wrong way. Type-only imports count too: a route that names a store row type is coupled
 * to the table as surely as one that calls a repository.
 */

/** Our entry points and the composition root: only container.ts wires adapters to use cases. */
const ENTRY = '^src/(cli[.]ts|cli/|keys-command[.]ts|container[.]ts)';
/** The queue's interface, which any layer may name; its adapters stay behind container.ts. */
const QUEUE_INTERFACE = '^src/queue/types[.]ts$';

/** A forbidden import: `why` is printed with every violation, so it says what the rule protects. */
const forbid = (name, why, from, to) => ({ name, severity: 'error', comment: why, from, to });

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    forbid(
      'no-circular',
      'A cycle makes two modules one: neither can be read, tested or moved alone, and ESM load order breaks.',
      {},
      { circular: true },
    ),
    forbid(
      'domain-imports-nothing',
      'domain/ is the pure rules and words every layer shares; an import from it would drag that layer everywhere.',
      { path: '^src/domain/' },
      { path: '^(src|web)/', pathNot: '^src/domain/' },
    ),
    forbid(
      'contract-imports-only-domain',
      'The API contract is bundled into the browser and the CLI: it may use the vocabulary, nothing with I/O.',
      { path: '^src/contract[.]ts$' },
      { path: '^(src|web)/', pathNot: '^src/domain/' },
    ),
    forbid(
      'sse-parser-imports-nothing',
      'The event-stream parser is shared by the CLI and the browser bundle, so it must stay free of imports.',
      { path: '^src/sse-parser[.]ts$' },
      { path: '^(src|web)/' },
    ),
    forbid(
      'extract-classify-stay-libraries',
      'Extraction, OCR, classification and personal-data detection are libraries the use cases call: they know no HTTP, SQL, queue or job ' +
        '(classify may use the rate limiter in rate-limit/; ocr may use domain/ and the extraction contract in extract/types.ts).',
      { path: '^src/(extract|classify|ocr|pii)/' },
      { path: [ENTRY, '^src/(api|store|jobs|services|queue)/'] },
    ),
    forbid(
      'ocr-takes-only-the-extraction-contract',
      'OCR runs beside extraction, not inside it: of extract/ it names only the contract (types.ts), so neither ' +
        'library drags the other into its threads.',
      { path: '^src/ocr/' },
      { path: '^src/extract/', pathNot: '^src/extract/types[.]ts$' },
    ),
    forbid(
      'services-below-api-jobs-cli',
      'Services are the use cases api, worker and cli share: they reach the store, extract, classify and the ' +
        'queue interface, never a caller, a job handler or a queue adapter.',
      { path: '^src/services/' },
      { path: [ENTRY, '^src/(api|jobs|queue)/'], pathNot: QUEUE_INTERFACE },
    ),
    forbid(
      'jobs-are-thin',
      'A job handler validates its payload, calls one service and reports progress: transactions and SQL belong ' +
        'to services (through the unit of work in store/), and so do extraction and classification.',
      { path: '^src/jobs/' },
      { path: [ENTRY, '^src/(api|store|classify|queue|extract)/'], pathNot: [QUEUE_INTERFACE, '^src/extract/types[.]ts$'] },
    ),
    forbid(
      'api-calls-services',
      'Routes only translate HTTP: they call services and answer in contract shapes, so no route depends on a ' +
        'table, a job handler or a queue adapter.',
      { path: '^src/api/' },
      { path: [ENTRY, '^src/(store|jobs|queue)/'], pathNot: QUEUE_INTERFACE },
    ),
    forbid(
      'cli-through-container',
      'The CLI reaches the runtime through container.ts (the composition root), never the store or the jobs directly.',
      { path: '^src/(cli[.]ts|cli/|keys-command[.]ts)' },
      { path: '^src/(store|jobs)/' },
    ),
    forbid(
      'store-is-the-bottom',
      'The store serves the use cases; it never calls back into them, the worker, the API or the CLI.',
      { path: '^src/store/' },
      { path: [ENTRY, '^src/(services|jobs|api)/'] },
    ),
    // Packages are matched anywhere in the resolved path, so a hoisted or linked node_modules counts too.
    forbid(
      'sql-only-in-store',
      'SQL lives in store/; the PostgreSQL queue adapter keeps its own SQL (queue/postgres*.ts: the adapter and ' +
        'the module it shares) because the queue is its own adapter with its own tables.',
      { path: '^src/', pathNot: ['^src/store/', '^src/queue/postgres[^/]*[.]ts$'] },
      { path: 'node_modules/(@types/)?(kysely|pg|pg-copy-streams)/' },
    ),
    forbid(
      'openai-only-in-its-provider',
      'One provider adapter talks to the OpenAI-compatible API; everything else sees the LlmProvider interface.',
      { path: '^src/', pathNot: '^src/classify/openai[.]provider[.]ts$' },
      { path: 'node_modules/openai/' },
    ),
    forbid(
      'ioredis-only-in-adapters',
      'One Redis client factory makes every connection; only it, the Redis rate-limit store (both named ' +
        'redis*.ts), the BullMQ adapter and the composition root name ioredis.',
      { path: '^src/', pathNot: ['^src/redis[a-z.-]*ts$', '^src/[a-z-]+/redis[a-z.-]*ts$', '^src/queue/bullmq[.]ts$', '^src/container[.]ts$'] },
      { path: 'node_modules/ioredis/' },
    ),
    forbid(
      'web-sees-only-the-contract',
      'The dashboard is a browser bundle and an API client: from src/ it takes the contract, the vocabulary and ' +
        'the import-free event-stream parser, nothing that would pull server code into the bundle.',
      { path: '^web/src/' },
      { path: '^src/', pathNot: '^src/(contract|domain/vocabulary|sse-parser)[.]ts$' },
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies too (see the header).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
