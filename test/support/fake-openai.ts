/**
 * A fake OpenAI-compatible server for tests and benchmarks: a real HTTP server on 127.0.0.1 (random
 * port) speaking the chat completions wire format, so the production code path (the official SDK,
 * its retries and timeouts) is what gets exercised.
 *
 * Answers to structured-output requests are built from the request's own JSON schema: label enums
 * are read from it, and labels are picked deterministically by matching their words in the document
 * text (else "Miscellaneous"). Faults (429 with Retry-After, 500, hangs, malformed JSON, labels outside
 * the taxonomy, cut-off answers, answers that break the prompt's rules) come from a script consumed one per request, then from seeded rates.
 * Custom fields (a `fields` object in the schema) are answered from lines `<name>: <value>` of the
 * document text, typed as the schema asks when the text reads plainly as that type and given as the
 * raw text otherwise (as a model that returns "€ 1.234,50" for a number does); `fieldValues`
 * overrides what is answered for a field, and a field the text does not mention is null. A reduce
 * request answers each field with the first value its parts' `field values:` lines give.
 * Requests name their model, and answers report it; `modelLabels` makes a named model answer
 * fixed labels whatever the text says (a weaker model, for evaluations that compare two).
 *
 * The Batch API is there too: /v1/files (multipart upload, content) and /v1/batches (create, retrieve,
 * cancel); a batch ends `batchDelayMs` after its creation, completed, expired or failed, with every
 * n-th line failed if asked (`batchEnd`, `batchExpireAnswered`, `batchFailEvery`).
 *
 *   const fake = await startFakeOpenAI({ latencyMs: 50 });
 *   const provider = createOpenAIProvider({ baseURL: fake.url, model: 'gpt-4o-mini', apiKey: 'test' });
 *   fake.set({ script: ['rate-limit', 'ok'] });
 *   fake.stats.requests; fake.requests[0].body; await fake.close();
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

/** What the fake does with one request. */
export type FakeOutcome =
  | 'ok'
  | 'rate-limit'
  | 'server-error'
  /** Never answers (the client's timeout fires). */
  | 'hang'
  /** 200 with content that is not JSON. */
  | 'malformed'
  /** 200 with valid JSON whose tag and primaryCategory are outside the schema's enum. */
  | 'out-of-taxonomy'
  /** 200 with finish_reason "length" and JSON cut in the middle. */
  | 'truncated'
  /**
   * 200 with JSON that fits the schema's shape but breaks the prompt's rules, as small open models
   * do: a primary category that is not among the tags, a label tagged twice (once in other case
   * and spacing), confidences on a 0..100 scale and a language name instead of a code.
   */
  | 'sloppy';

export interface FakeOpenAIBehaviour {
  /** Delay before every answer (errors included), ms. */
  latencyMs: number;
  /** Outcomes consumed one per request, before the rates below apply. */
  script: FakeOutcome[];
  /** Fractions of requests (after the script), drawn from a seeded generator. */
  rateLimitRate: number;
  serverErrorRate: number;
  hangRate: number;
  malformedRate: number;
  outOfTaxonomyRate: number;
  sloppyRate: number;
  /** Retry-After header on 429s, seconds (may be fractional). */
  retryAfterSeconds: number;
  /** Also send `retry-after-ms` (OpenAI's own header, which the SDK prefers). */
  retryAfterMs?: number;
  /** Seed of the fault generator (reset by `set` when given). */
  seed: number;
  /** Model id reported in answers and /v1/models. */
  model: string;
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
  /** Prompts with more tokens than this get OpenAI's 400 context_length_exceeded. */
  maxContextTokens?: number;
  /** How many requests `requests` keeps (oldest dropped first). */
  recordLimit: number;
  /** Batch API: how long a batch runs before it ends, ms (from its creation). */
  batchDelayMs: number;
  /** Batch API: how a batch ends. `expired` answers only `batchExpireAnswered` lines; `failed` answers none. */
  batchEnd: 'completed' | 'expired' | 'failed';
  /** Batch API: lines answered before an `expired` batch ran out of time. */
  batchExpireAnswered: number;
  /** Batch API: every n-th line (1-based; 0: none) fails with a 500 in the error file. */
  batchFailEvery: number;
  /** Answers for custom fields by name, whatever the document says (e.g. garbage for one field). */
  fieldValues?: Record<string, Json>;
  /** Per requested model: the labels it tags every document with (those of the schema, in order; the first is primary). */
  modelLabels?: Record<string, string[]>;
}

export interface FakeChatMessage {
  role: string;
  content: string;
}

export interface RecordedRequest {
  /** The parsed request body, as the client sent it. */
  body: Record<string, unknown>;
  messages: FakeChatMessage[];
  /** `response_format.json_schema.schema`, when structured outputs were requested. */
  schema?: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** Prompt tokens as counted here (o200k, messages only). */
  promptTokens: number;
  outcome: FakeOutcome | 'context-length' | 'unauthorized' | 'bad-request';
  receivedAt: number;
}

export interface FakeOpenAIStats {
  /** Chat completion requests received (all outcomes). */
  requests: number;
  byOutcome: Record<RecordedRequest['outcome'], number>;
  inFlight: number;
  maxInFlight: number;
  promptTokens: number;
  completionTokens: number;
  /** Batch API traffic: files uploaded and read, batches created, looked at and cancelled, lines answered. */
  fileUploads: number;
  fileDownloads: number;
  batchCreates: number;
  batchRetrieves: number;
  batchCancels: number;
  batchLinesAnswered: number;
}

/** A Batch API batch as the fake keeps it. */
export interface FakeBatch {
  id: string;
  status: string;
  inputFileId: string;
  createdAt: number;
  outputFileId?: string;
  errorFileId?: string;
}

export interface FakeOpenAI {
  /** Base URL ending in /v1, for `baseURL`. */
  readonly url: string;
  readonly stats: Readonly<FakeOpenAIStats>;
  readonly requests: readonly RecordedRequest[];
  /** Batch API batches created, oldest first. */
  readonly batches: readonly FakeBatch[];
  /** Changes behaviour from the next request on. */
  set(patch: Partial<FakeOpenAIBehaviour>): void;
  /** Clears stats, recorded requests, batches and the script. */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULTS: FakeOpenAIBehaviour = {
  latencyMs: 0,
  script: [],
  rateLimitRate: 0,
  serverErrorRate: 0,
  hangRate: 0,
  malformedRate: 0,
  outOfTaxonomyRate: 0,
  sloppyRate: 0,
  retryAfterSeconds: 1,
  seed: 1,
  model: 'gpt-4o-mini',
  recordLimit: 1000,
  batchDelayMs: 0,
  batchEnd: 'completed',
  batchExpireAnswered: 0,
  batchFailEvery: 0,
};

const OUTCOMES: RecordedRequest['outcome'][] = ['ok', 'rate-limit', 'server-error', 'hang', 'malformed', 'out-of-taxonomy', 'truncated', 'sloppy', 'context-length', 'unauthorized', 'bad-request'];

function emptyStats(): FakeOpenAIStats {
  return {
    requests: 0,
    byOutcome: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<RecordedRequest['outcome'], number>,
    inFlight: 0,
    maxInFlight: 0,
    promptTokens: 0,
    completionTokens: 0,
    fileUploads: 0,
    fileDownloads: 0,
    batchCreates: 0,
    batchRetrieves: 0,
    batchCancels: 0,
    batchLinesAnswered: 0,
  };
}

/** mulberry32: small, seeded, good enough to make fault patterns reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startFakeOpenAI(initial: Partial<FakeOpenAIBehaviour> = {}): Promise<FakeOpenAI> {
  let behaviour: FakeOpenAIBehaviour = { ...DEFAULTS, ...initial, script: [...(initial.script ?? [])] };
  let random = seeded(behaviour.seed);
  let stats = emptyStats();
  let requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let completionSeq = 0;
  const files = new Map<string, string>();
  const batches = new Map<string, FakeBatch>();
  let fileSeq = 0;
  let batchSeq = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A bug in the fake must fail the test loudly, not look like a provider outage.
      process.emitWarning(`fake-openai handler failed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent) sendJson(res, 599, { error: { message: 'fake-openai internal failure' } });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, { object: 'list', data: [{ id: behaviour.model, object: 'model', created: 1700000000, owned_by: 'fake-openai' }] });
      return;
    }
    if (path?.startsWith('/v1/files') || path?.startsWith('/v1/batches')) {
      await handleBatchApi(req, res, path);
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      sendJson(res, 404, { error: { message: `No route ${req.method ?? ''} ${path ?? ''}`, type: 'invalid_request_error' } });
      return;
    }

    stats.requests += 1;
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let counted = true;
    const done = () => {
      if (counted) stats.inFlight -= 1;
      counted = false;
    };
    res.on('close', done);

    const raw = await readBody(req);
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('body is not an object');
      body = parsed as Record<string, unknown>;
    } catch (error) {
      record({ body: {}, messages: [], headers: req.headers, promptTokens: 0, outcome: 'bad-request', receivedAt: Date.now() });
      sendJson(res, 400, { error: { message: `Invalid JSON body: ${String(error)}`, type: 'invalid_request_error' } });
      return;
    }
    const messages = readMessages(body.messages);
    const schema = readSchema(body.response_format);
    const promptTokens = 3 + messages.reduce((sum, m) => sum + 4 + (m.role === 'system' ? countSystemTokens(m.content) : countTokens(m.content)), 0);
    const entry: RecordedRequest = { body, messages, headers: req.headers, promptTokens, outcome: 'ok', receivedAt: Date.now() };
    if (schema) entry.schema = schema;

    if (behaviour.apiKey !== undefined && req.headers.authorization !== `Bearer ${behaviour.apiKey}`) {
      entry.outcome = 'unauthorized';
      record(entry);
      sendJson(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
      return;
    }
    if (messages.length === 0) {
      entry.outcome = 'bad-request';
      record(entry);
      sendJson(res, 400, { error: { message: "'messages' must be a non-empty array", type: 'invalid_request_error' } });
      return;
    }
    if (behaviour.maxContextTokens !== undefined && promptTokens > behaviour.maxContextTokens) {
      entry.outcome = 'context-length';
      record(entry);
      sendJson(res, 400, {
        error: {
          message: `This model's maximum context length is ${behaviour.maxContextTokens} tokens. However, your messages resulted in ${promptTokens} tokens.`,
          type: 'invalid_request_error',
          code: 'context_length_exceeded',
        },
      });
      return;
    }

    const outcome = nextOutcome();
    entry.outcome = outcome;
    record(entry);
    if (outcome === 'hang') return; // the socket stays open until the client gives up or close()
    const b = behaviour;
    if (b.latencyMs > 0) await new Promise((r) => setTimeout(r, b.latencyMs));
    if (res.destroyed) return;

    if (outcome === 'rate-limit') {
      const headers: Record<string, string> = { 'retry-after': String(b.retryAfterSeconds) };
      if (b.retryAfterMs !== undefined) headers['retry-after-ms'] = String(b.retryAfterMs);
      sendJson(res, 429, { error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } }, headers);
      return;
    }
    if (outcome === 'server-error') {
      sendJson(res, 500, { error: { message: 'The server had an error while processing your request.', type: 'server_error' } });
      return;
    }

    const answered = chatCompletion(messages, schema, outcome, promptTokens, requestedModel(body));
    sendJson(res, 200, answered);
  }

  /** A chat completion answer (the body of a 200), for a direct request or a Batch API line. */
  function chatCompletion(messages: FakeChatMessage[], schema: Record<string, unknown> | undefined, outcome: FakeOutcome, promptTokens: number, model: string | undefined) {
    const b = behaviour;
    const text = documentText(messages);
    const fixed = model === undefined ? undefined : b.modelLabels?.[model];
    const answer = JSON.stringify(buildAnswer(schema, text, messages[0]?.content ?? '', b.fieldValues ?? {}, fixed));
    let content = answer;
    let finish = 'stop';
    if (outcome === 'malformed') content = `${answer.slice(0, Math.max(1, Math.floor(answer.length / 2)))} <- not JSON`;
    if (outcome === 'out-of-taxonomy') content = JSON.stringify(outOfTaxonomy(JSON.parse(answer) as unknown));
    if (outcome === 'sloppy') content = JSON.stringify(sloppy(JSON.parse(answer) as unknown, findLabelEnum(schema) ?? []));
    if (outcome === 'truncated') {
      content = answer.slice(0, Math.max(1, Math.floor(answer.length / 3)));
      finish = 'length';
    }
    const completionTokens = countTokens(content);
    stats.promptTokens += promptTokens;
    stats.completionTokens += completionTokens;
    completionSeq += 1;
    return {
      id: `chatcmpl-fake-${completionSeq}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: model ?? b.model,
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: finish }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    };
  }

  /**
   * /v1/files (multipart upload with purpose, content download) and /v1/batches (create, retrieve,
   * cancel). A batch ends `batchDelayMs` after its creation, at the first look after that: its lines
   * are answered as chat requests would be (outcome ok), but for the failures and expiry asked for.
   */
  async function handleBatchApi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (behaviour.apiKey !== undefined && req.headers.authorization !== `Bearer ${behaviour.apiKey}`) {
      sendJson(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
      return;
    }
    const notFound = () => sendJson(res, 404, { error: { message: `No such object: ${path}`, type: 'invalid_request_error' } });
    if (req.method === 'POST' && path === '/v1/files') {
      const raw = await readRaw(req);
      const form = await new Response(raw, { headers: { 'content-type': String(req.headers['content-type'] ?? '') } }).formData();
      const file = form.get('file');
      if (form.get('purpose') !== 'batch' || !(file instanceof Blob)) {
        sendJson(res, 400, { error: { message: 'expected purpose "batch" and a file', type: 'invalid_request_error' } });
        return;
      }
      const id = `file-fake-${++fileSeq}`;
      const text = await file.text();
      files.set(id, text);
      stats.fileUploads += 1;
      sendJson(res, 200, { id, object: 'file', bytes: Buffer.byteLength(text), created_at: Math.floor(Date.now() / 1000), filename: 'input.jsonl', purpose: 'batch', status: 'processed' });
      return;
    }
    const content = /^\/v1\/files\/([^/]+)\/content$/.exec(path);
    if (req.method === 'GET' && content) {
      const text = files.get(content[1] ?? '');
      if (text === undefined) return notFound();
      stats.fileDownloads += 1;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (req.method === 'POST' && path === '/v1/batches') {
      const body = JSON.parse(await readBody(req)) as { input_file_id?: string; endpoint?: string; completion_window?: string };
      if (!body.input_file_id || !files.has(body.input_file_id) || body.endpoint !== '/v1/chat/completions' || body.completion_window !== '24h') {
        sendJson(res, 400, { error: { message: 'invalid batch request', type: 'invalid_request_error' } });
        return;
      }
      stats.batchCreates += 1;
      const batch: FakeBatch = { id: `batch_fake_${++batchSeq}`, status: 'validating', inputFileId: body.input_file_id, createdAt: Date.now() };
      batches.set(batch.id, batch);
      sendJson(res, 200, batchObject(batch));
      return;
    }
    const one = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path);
    const batch = one ? batches.get(one[1] ?? '') : undefined;
    if (!one || !batch) return notFound();
    if (req.method === 'POST' && one[2]) {
      stats.batchCancels += 1;
      if (!ENDED.has(batch.status)) batch.status = 'cancelled';
      sendJson(res, 200, batchObject(batch));
      return;
    }
    if (req.method === 'GET' && !one[2]) {
      stats.batchRetrieves += 1;
      if (!ENDED.has(batch.status)) {
        if (Date.now() - batch.createdAt >= behaviour.batchDelayMs) finishBatch(batch);
        else batch.status = 'in_progress';
      }
      sendJson(res, 200, batchObject(batch));
      return;
    }
    notFound();
  }

  function finishBatch(batch: FakeBatch): void {
    const b = behaviour;
    if (b.batchEnd === 'failed') {
      batch.status = 'failed';
      return;
    }
    const lines = (files.get(batch.inputFileId) ?? '').split('\n').filter((l) => l.trim() !== '');
    const output: string[] = [];
    const errors: string[] = [];
    lines.forEach((line, i) => {
      const request = JSON.parse(line) as { custom_id: string; body: Record<string, unknown> };
      if (b.batchEnd === 'expired' && i >= b.batchExpireAnswered) {
        errors.push(JSON.stringify({ id: `batch_req_${i}`, custom_id: request.custom_id, response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } }));
        return;
      }
      if (b.batchFailEvery > 0 && (i + 1) % b.batchFailEvery === 0) {
        errors.push(JSON.stringify({ id: `batch_req_${i}`, custom_id: request.custom_id, response: { status_code: 500, request_id: `req_${i}`, body: { error: { message: 'The server had an error', type: 'server_error' } } }, error: null }));
        return;
      }
      const messages = readMessages(request.body.messages);
      const promptTokens = 3 + messages.reduce((sum, m) => sum + 4 + (m.role === 'system' ? countSystemTokens(m.content) : countTokens(m.content)), 0);
      const completion = chatCompletion(messages, readSchema(request.body.response_format), 'ok', promptTokens, requestedModel(request.body));
      stats.batchLinesAnswered += 1;
      output.push(JSON.stringify({ id: `batch_req_${i}`, custom_id: request.custom_id, response: { status_code: 200, request_id: `req_${i}`, body: completion }, error: null }));
    });
    if (output.length > 0) {
      batch.outputFileId = `file-fake-${++fileSeq}`;
      files.set(batch.outputFileId, `${output.join('\n')}\n`);
    }
    if (errors.length > 0) {
      batch.errorFileId = `file-fake-${++fileSeq}`;
      files.set(batch.errorFileId, `${errors.join('\n')}\n`);
    }
    batch.status = b.batchEnd;
  }

  function nextOutcome(): FakeOutcome {
    const scripted = behaviour.script.shift();
    if (scripted) return scripted;
    const r = random();
    const b = behaviour;
    let edge = b.rateLimitRate;
    if (r < edge) return 'rate-limit';
    if (r < (edge += b.serverErrorRate)) return 'server-error';
    if (r < (edge += b.hangRate)) return 'hang';
    if (r < (edge += b.malformedRate)) return 'malformed';
    if (r < (edge += b.outOfTaxonomyRate)) return 'out-of-taxonomy';
    if (r < (edge += b.sloppyRate)) return 'sloppy';
    return 'ok';
  }

  function record(entry: RecordedRequest): void {
    stats.byOutcome[entry.outcome] += 1;
    requests.push(entry);
    if (requests.length > behaviour.recordLimit) requests = requests.slice(requests.length - behaviour.recordLimit);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    get stats() {
      return stats;
    },
    get requests() {
      return requests;
    },
    get batches() {
      return [...batches.values()];
    },
    set(patch) {
      behaviour = { ...behaviour, ...patch, script: patch.script ? [...patch.script] : behaviour.script };
      if (patch.seed !== undefined) random = seeded(patch.seed);
    },
    reset() {
      stats = emptyStats();
      requests = [];
      behaviour.script = [];
      batches.clear();
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}

/**
 * A real server counts on its own CPU; this one shares the process under test (benchmarks), so the
 * system prompt, the same for every document of a run, is counted once.
 */
const systemTokenCounts = new Map<string, number>();
function countSystemTokens(content: string): number {
  let n = systemTokenCounts.get(content);
  if (n === undefined) {
    n = countTokens(content);
    if (systemTokenCounts.size >= 100) systemTokenCounts.clear();
    systemTokenCounts.set(content, n);
  }
  return n;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

const ENDED = new Set(['completed', 'expired', 'cancelled', 'failed']);

function batchObject(batch: FakeBatch): Record<string, unknown> {
  const seconds = Math.floor(batch.createdAt / 1000);
  return {
    id: batch.id,
    object: 'batch',
    endpoint: '/v1/chat/completions',
    errors: batch.status === 'failed' ? { object: 'list', data: [{ code: 'fake_failure', message: 'The batch failed (fake-openai batchEnd)' }] } : null,
    input_file_id: batch.inputFileId,
    completion_window: '24h',
    status: batch.status,
    output_file_id: batch.outputFileId ?? null,
    error_file_id: batch.errorFileId ?? null,
    created_at: seconds,
    expires_at: seconds + 86_400,
    request_counts: { total: 0, completed: 0, failed: 0 },
    metadata: null,
  };
}

function readRaw(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function readMessages(value: unknown): FakeChatMessage[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((m: unknown) => {
    if (typeof m !== 'object' || m === null) return [];
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== 'string') return [];
    if (typeof content === 'string') return [{ role, content }];
    // Content parts: keep the text ones.
    if (Array.isArray(content)) {
      const text = content.map((p: unknown) => (typeof p === 'object' && p !== null && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
      return [{ role, content: text }];
    }
    return [{ role, content: '' }];
  });
}

function readSchema(format: unknown): Record<string, unknown> | undefined {
  if (typeof format !== 'object' || format === null) return undefined;
  const js = (format as { json_schema?: unknown }).json_schema;
  if (typeof js !== 'object' || js === null) return undefined;
  const schema = (js as { schema?: unknown }).schema;
  return typeof schema === 'object' && schema !== null ? (schema as Record<string, unknown>) : undefined;
}

/** The document: what sits between <text> and </text> in the first user message, else all user text. */
function documentText(messages: readonly FakeChatMessage[]): string {
  const user = messages.find((m) => m.role === 'user')?.content ?? '';
  const match = /<text>\n?([\s\S]*?)\n?<\/text>/.exec(user);
  return match?.[1] ?? user;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface AnswerContext {
  tags: { label: string; confidence: number }[];
  primary: string;
  summary: string;
  language: string;
  text: string;
  fieldValues: Record<string, Json>;
}

/** The `model` a request names, if any. */
function requestedModel(body: Record<string, unknown>): string | undefined {
  return typeof body.model === 'string' ? body.model : undefined;
}

function buildAnswer(schema: Record<string, unknown> | undefined, text: string, system: string, fieldValues: Record<string, Json>, fixedLabels?: string[]): Json {
  const labels = findLabelEnum(schema) ?? ['Miscellaneous'];
  const fixed = fixedLabels?.filter((l) => labels.includes(l)).map((label) => ({ label, confidence: 0.9 }));
  const tags = fixed?.length ? fixed : pickLabels(labels, text);
  const ctx: AnswerContext = {
    tags,
    primary: tags[0]?.label ?? labels[0] ?? 'Miscellaneous',
    summary: `Fake summary: ${text.split(/\s+/).filter(Boolean).slice(0, 25).join(' ')}`,
    // The language the system prompt asks for, e.g. "Write it in Dutch (nl)".
    language: /Write it in [^(\n]*\(([A-Za-z-]+)\)/.exec(system)?.[1] ?? 'en',
    text,
    fieldValues,
  };
  if (!schema) return { tags, primaryCategory: ctx.primary, summary: ctx.summary, summaryLanguage: ctx.language };
  return generate(schema, '', ctx);
}

function generate(node: unknown, key: string, ctx: AnswerContext): Json {
  if (typeof node !== 'object' || node === null) return null;
  const n = node as { type?: unknown; properties?: Record<string, unknown>; items?: unknown; enum?: unknown[]; anyOf?: unknown[] };
  if (Array.isArray(n.anyOf) && n.anyOf.length > 0) return generate(n.anyOf[0], key, ctx);
  const type = Array.isArray(n.type) ? n.type[0] : n.type;
  if (key === 'fields' && n.properties) return fieldAnswers(n.properties, ctx);
  if (type === 'object' || n.properties) {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(n.properties ?? {})) out[k] = generate(v, k, ctx);
    return out;
  }
  if (type === 'array') {
    const items = n.items as { properties?: Record<string, unknown> } | undefined;
    if (items?.properties && 'label' in items.properties) return ctx.tags.map((t) => ({ ...t }));
    return [];
  }
  if (Array.isArray(n.enum)) {
    if (key === 'primaryCategory' && n.enum.includes(ctx.primary)) return ctx.primary;
    return (n.enum[0] as Json) ?? null;
  }
  if (type === 'string') {
    if (key === 'summary' || key === 'notes') return ctx.summary;
    if (/language/i.test(key)) return ctx.language;
    return '';
  }
  if (type === 'number') return 0.5;
  if (type === 'integer') return 1;
  if (type === 'boolean') return false;
  return null;
}

/** See the header: `<name>: <value>` lines of the document, typed where they read plainly. */
function fieldAnswers(properties: Record<string, unknown>, ctx: AnswerContext): Json {
  const out: Record<string, Json> = {};
  for (const [name, node] of Object.entries(properties)) {
    if (Object.hasOwn(ctx.fieldValues, name)) {
      out[name] = ctx.fieldValues[name] ?? null;
      continue;
    }
    const raw = new RegExp(`^[ \\t]*${escapeRegExp(name)}[ \\t]*:[ \\t]*(.+?)[ \\t]*$`, 'im').exec(ctx.text)?.[1];
    // A reduce or combine request: the parts' "field values: name=<JSON>; ..." lines, the first found.
    const partValue = new RegExp(`field values:[^\\n]*?\\b${escapeRegExp(name)}=("(?:[^"\\\\]|\\\\.)*"|[^;\\n]+)`).exec(ctx.text)?.[1];
    if (raw === undefined && partValue !== undefined) {
      out[name] = JSON.parse(partValue) as Json;
      continue;
    }
    if (raw === undefined) {
      out[name] = null;
      continue;
    }
    const n = node as { anyOf?: { type?: unknown }[]; type?: unknown };
    const type = n.anyOf?.[0]?.type ?? (Array.isArray(n.type) ? n.type[0] : n.type);
    if (type === 'number' && /^-?\d+(\.\d+)?$/.test(raw)) out[name] = Number(raw);
    else if (type === 'boolean' && /^(true|false)$/.test(raw)) out[name] = raw === 'true';
    else out[name] = raw;
  }
  return out;
}

/** The enum of tag labels: tags.items.properties.label.enum, else primaryCategory.enum. */
function findLabelEnum(schema: Record<string, unknown> | undefined): string[] | undefined {
  const props = (schema?.properties ?? {}) as Record<string, { items?: { properties?: Record<string, { enum?: unknown[] }> }; enum?: unknown[] }>;
  const fromTags = props.tags?.items?.properties?.label?.enum ?? props.primaryCategory?.enum;
  return fromTags?.filter((v): v is string => typeof v === 'string');
}

/** Deterministic: labels whose words (4+ letters, as word prefixes) occur in the text, most hits first. */
function pickLabels(labels: readonly string[], text: string): { label: string; confidence: number }[] {
  const lower = text.toLowerCase();
  const scored = labels
    .map((label) => {
      const hits = labelPatterns(label).reduce((sum, re) => sum + (lower.match(re)?.length ?? 0), 0);
      return { label, hits };
    })
    .filter((s) => s.hits > 0)
    .sort((a, b) => b.hits - a.hits || a.label.localeCompare(b.label))
    .slice(0, 3)
    .map((s) => ({ label: s.label, confidence: Math.min(0.95, 0.5 + 0.1 * s.hits) }));
  if (scored.length > 0) return scored;
  const fallback = labels.find((l) => l.toLowerCase() === 'miscellaneous') ?? labels[0];
  return fallback === undefined ? [] : [{ label: fallback, confidence: 0.5 }];
}

/** One word-prefix pattern per word of 4+ letters of a label; built once per label. */
const patternsByLabel = new Map<string, RegExp[]>();
function labelPatterns(label: string): RegExp[] {
  let patterns = patternsByLabel.get(label);
  if (!patterns) {
    const words = label.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 4);
    patterns = words.map((w) => new RegExp(`\\b${escapeRegExp(w)}`, 'g'));
    if (patternsByLabel.size >= 1000) patternsByLabel.clear();
    patternsByLabel.set(label, patterns);
  }
  return patterns;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function outOfTaxonomy(answer: unknown): Json {
  const invented = 'Invented Category';
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return { tags: [{ label: invented, confidence: 0.9 }] };
  const out = { ...(answer as Record<string, Json>) };
  out.tags = [{ label: invented, confidence: 0.9 }];
  if ('primaryCategory' in out) out.primaryCategory = invented;
  return out;
}

/** See the 'sloppy' outcome. Partial answers (no primaryCategory) get the tag slips only. */
function sloppy(answer: unknown, labels: readonly string[]): Json {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return answer as Json;
  const out = { ...(answer as Record<string, Json>) };
  const tags = Array.isArray(out.tags) ? (out.tags as { label: string; confidence: number }[]) : [];
  const first = tags[0];
  const percent = tags.map((t) => ({ label: t.label, confidence: Math.round(t.confidence * 100) }));
  if (first) percent.push({ label: ` ${first.label.toLowerCase()} `, confidence: Math.max(1, Math.round(first.confidence * 50)) });
  out.tags = percent;
  if ('primaryCategory' in out) out.primaryCategory = labels.find((l) => !tags.some((t) => t.label === l)) ?? out.primaryCategory ?? null;
  if ('summaryLanguage' in out) out.summaryLanguage = 'English';
  return out;
}

/**
 * The same fake in a worker thread of its own, for benchmarks: a real provider's CPU is not the
 * worker's, and in-process the fake's parsing, token counting and answer building would compete
 * with the code under measurement for the event loop. Stats and the request record come back by
 * message; requests are summarised (time, SDK retry count, a key per document) to keep them small.
 */
export interface FakeRequestSummary {
  receivedAt: number;
  outcome: RecordedRequest['outcome'];
  /** `x-stainless-retry-count`: 0 for a first attempt. */
  retryCount: number;
  /** Equal for requests with the same user message (the same document). */
  documentKey: string;
}

export interface FakeOpenAIThread {
  readonly url: string;
  stats(): Promise<FakeOpenAIStats>;
  /** Samples `stats.inFlight` every `everyMs` (in the fake's thread) until `stopSampling`. */
  startSampling(everyMs: number): Promise<void>;
  /** The samples since `startSampling`: wall-clock ms since the epoch and requests in flight. */
  stopSampling(): Promise<{ at: number; n: number }[]>;
  requests(): Promise<FakeRequestSummary[]>;
  close(): Promise<void>;
}

type ThreadCall = 'stats' | 'start-sampling' | 'stop-sampling' | 'requests' | 'close';

export async function startFakeOpenAIThread(initial: Partial<FakeOpenAIBehaviour> = {}): Promise<FakeOpenAIThread> {
  // Under tsx (tests, benchmarks) a worker thread does not inherit the TypeScript loader on
  // Node 20, so the thread registers it before importing this file.
  const self = import.meta.url;
  const entry = self.endsWith('.ts')
    ? new URL(
        `data:text/javascript,${encodeURIComponent(
          `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register(); await import(${JSON.stringify(self)});`,
        )}`,
      )
    : new URL(self);
  const worker = new Worker(entry, { workerData: { fakeOpenAI: initial } });
  let seq = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const url = await new Promise<string>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { ready?: string }) => (m.ready ? resolve(m.ready) : reject(new Error('fake-openai thread did not start'))));
  });
  worker.on('message', (m: { id?: number; value?: unknown; error?: string }) => {
    if (m.id === undefined) return;
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) w?.reject(new Error(m.error));
    else w?.resolve(m.value);
  });
  worker.on('error', (err) => {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  });
  const call = <T>(op: ThreadCall, arg?: number) =>
    new Promise<T>((resolve, reject) => {
      const id = ++seq;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, op, arg });
    });
  return {
    url,
    stats: () => call<FakeOpenAIStats>('stats'),
    startSampling: (everyMs) => call<undefined>('start-sampling', everyMs),
    stopSampling: () => call<{ at: number; n: number }[]>('stop-sampling'),
    requests: () => call<FakeRequestSummary[]>('requests'),
    async close() {
      await call<undefined>('close');
      await worker.terminate();
    },
  };
}

async function serveInThread(initial: Partial<FakeOpenAIBehaviour>): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const fake = await startFakeOpenAI(initial);
  let sampler: NodeJS.Timeout | undefined;
  let samples: { at: number; n: number }[] = [];
  port.on('message', (m: { id: number; op: ThreadCall; arg?: number }) => {
    const reply = (value?: unknown) => port.postMessage({ id: m.id, value });
    switch (m.op) {
      case 'stats':
        reply(fake.stats);
        return;
      case 'start-sampling':
        samples = [];
        clearInterval(sampler);
        sampler = setInterval(() => samples.push({ at: Date.now(), n: fake.stats.inFlight }), m.arg ?? 5);
        reply();
        return;
      case 'stop-sampling':
        clearInterval(sampler);
        reply(samples);
        return;
      case 'requests':
        reply(
          fake.requests.map((r) => ({
            receivedAt: r.receivedAt,
            outcome: r.outcome,
            retryCount: Number(r.headers['x-stainless-retry-count'] ?? 0),
            documentKey: createHash('sha1').update(r.messages.find((x) => x.role === 'user')?.content ?? '').digest('base64'),
          })),
        );
        return;
      case 'close':
        clearInterval(sampler);
        fake.close().then(
          () => reply(),
          (err: unknown) => port.postMessage({ id: m.id, error: String(err) }),
        );
        return;
    }
  });
  port.postMessage({ ready: fake.url });
}

const threadData = workerData as { fakeOpenAI?: Partial<FakeOpenAIBehaviour> } | null;
if (!isMainThread && threadData?.fakeOpenAI !== undefined) void serveInThread(threadData.fakeOpenAI);
