/**
 * The provider for the OpenAI API and every server that speaks its chat completions API (Azure
 * OpenAI, Ollama, vLLM, LM Studio, llama.cpp server): the only file that imports `openai`.
 *
 * Transient failures (429 honouring Retry-After, 408/409/5xx, timeouts, connection errors) are
 * retried by the SDK itself, with exponential backoff and jitter, up to `maxRetries`. What is left
 * when those run out becomes a coded ProviderError; the job decides what happens next.
 */
import OpenAI, { toFile } from 'openai';
import { ProviderError } from './errors.ts';
import type { BatchApi, BatchResults, BatchState, CompleteOptions, CompletionRequest, CompletionResponse, LlmProvider } from './types.ts';

export interface OpenAIProviderOptions {
  model: string;
  /** Local servers ignore it, but the SDK insists on a value. */
  apiKey?: string;
  /** e.g. http://localhost:11434/v1 (Ollama); absent: api.openai.com. */
  baseURL?: string;
  /** Per attempt. */
  timeoutMs?: number;
  /** SDK-level retries of transient failures (so up to maxRetries + 1 attempts). */
  maxRetries?: number;
  /**
   * The longest Retry-After the SDK may sleep through. A longer one (a quota window, an outage)
   * fails at once as `rate_limited` with `retryAfterMs`, so the job is re-queued instead of a worker
   * sleeping where nobody can cancel it.
   */
  maxRetryAfterMs?: number;
  /**
   * `json_schema`: structured outputs (OpenAI, Azure, vLLM, Ollama, recent llama.cpp and LM Studio).
   * `json_object`: for servers without it; the schema then travels only in the prompt and
   * validation does all the work.
   */
  responseFormat?: 'json_schema' | 'json_object';
  /** `max_tokens` for servers that do not know the newer `max_completion_tokens`. */
  maxTokensParameter?: 'max_completion_tokens' | 'max_tokens';
  /** Sent only when set: reasoning models reject any value. 0 suits classification elsewhere. */
  temperature?: number;
  /** e.g. Azure's `{ 'api-version': '2024-10-21' }`. */
  defaultQuery?: Record<string, string>;
  defaultHeaders?: Record<string, string>;
  /** Label for logs and metrics. */
  name?: string;
  /** Replaces global fetch (proxies, tests). */
  fetch?: typeof globalThis.fetch;
  /** Offer OpenAI's Batch API (`provider.batch`); only for servers that have it. */
  batchApi?: boolean;
}

export function createOpenAIProvider(opts: OpenAIProviderOptions): LlmProvider {
  const maxRetryAfterMs = opts.maxRetryAfterMs ?? 60_000;
  const baseFetch = opts.fetch ?? globalThis.fetch;
  const client = new OpenAI({
    apiKey: opts.apiKey ?? 'not-needed',
    baseURL: opts.baseURL ?? null,
    timeout: opts.timeoutMs ?? 60_000,
    maxRetries: opts.maxRetries ?? 4,
    defaultQuery: opts.defaultQuery,
    defaultHeaders: opts.defaultHeaders,
    fetch: capRetryAfter(runBeforeRetry(baseFetch), maxRetryAfterMs),
  });
  const responseFormat = opts.responseFormat ?? 'json_schema';
  const maxTokensParameter = opts.maxTokensParameter ?? 'max_completion_tokens';

  /** The chat completion body of a request, the same for a direct call and a Batch API line. */
  const chatBody = (request: CompletionRequest): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming => {
    const messages =
      responseFormat === 'json_schema'
        ? request.messages
        : request.messages.map((m, i) =>
            i === 0 && m.role === 'system'
              ? { ...m, content: `${m.content}\n\nThe JSON schema your answer must match:\n${JSON.stringify(request.output.schema)}` }
              : m,
          );
    const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model: request.model ?? opts.model,
      messages,
      response_format:
        responseFormat === 'json_schema'
          ? { type: 'json_schema', json_schema: { name: request.output.name, strict: true, schema: request.output.schema } }
          : { type: 'json_object' },
      [maxTokensParameter]: request.maxOutputTokens,
    };
    if (opts.temperature !== undefined) body.temperature = opts.temperature;
    return body;
  };

  return {
    name: opts.name ?? 'openai',
    model: opts.model,
    async complete(request: CompletionRequest, callOpts: CompleteOptions = {}): Promise<CompletionResponse> {
      const { signal, beforeRetry } = callOpts;
      if (signal?.aborted) throw new ProviderError('cancelled', 'Classification was cancelled');
      const body = chatBody(request);
      let completion: OpenAI.Chat.ChatCompletion;
      try {
        // The hook rides in the fetch options, which the SDK hands to fetch on every attempt.
        const fetchOptions = beforeRetry ? ({ [BEFORE_RETRY]: beforeRetry } as unknown as OpenAI.RequestOptions['fetchOptions']) : undefined;
        completion = await callWithSignal((sig) => {
          const options: OpenAI.RequestOptions = {};
          if (sig) options.signal = sig;
          if (fetchOptions) options.fetchOptions = fetchOptions;
          return client.chat.completions.create(body, options);
        }, signal);
      } catch (error) {
        throw toProviderError(error);
      }
      return toCompletionResponse(completion, body.model);
    },
    ...(opts.batchApi ? { batch: createBatchApi(client, chatBody, opts.model) } : {}),
  };
}

/** A chat completion as the classifier reads it; refusals and filtered answers are failures. */
function toCompletionResponse(completion: OpenAI.Chat.ChatCompletion, model: string): CompletionResponse {
  const choice = completion.choices?.[0];
  if (!choice) throw new ProviderError('invalid_output', 'The provider answered without a choice');
  if (choice.message.refusal) throw new ProviderError('invalid_output', `The model refused: ${choice.message.refusal}`);
  if (choice.finish_reason === 'content_filter') throw new ProviderError('invalid_output', "The provider's content filter stopped the answer");
  const response: CompletionResponse = {
    content: choice.message.content ?? '',
    model: completion.model || model,
    truncated: choice.finish_reason === 'length',
  };
  if (completion.usage) response.usage = { inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens };
  return response;
}

const ENDED_BATCH_STATUSES: ReadonlySet<string> = new Set(['completed', 'expired', 'cancelled', 'failed']);

/**
 * OpenAI's Batch API through the SDK: one JSONL file of chat completion bodies (uploaded with
 * purpose "batch"), one batch over it (24 h window), then the output and error files read back
 * and keyed by custom_id. Only the calls go through the SDK's retries; the caller polls.
 */
function createBatchApi(
  client: OpenAI,
  chatBody: (request: CompletionRequest) => OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
  model: string,
): BatchApi {
  const stateOf = (b: OpenAI.Batches.Batch): BatchState => {
    const state: BatchState = { id: b.id, status: b.status, ended: ENDED_BATCH_STATUSES.has(b.status) };
    if (b.output_file_id) state.outputFileId = b.output_file_id;
    if (b.error_file_id) state.errorFileId = b.error_file_id;
    const errors = b.errors?.data?.map((e) => e.message).filter(Boolean);
    if (errors && errors.length > 0) state.error = errors.join('; ');
    return state;
  };
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw toProviderError(error);
    }
  };
  const lines = async (fileId: string | undefined): Promise<Record<string, unknown>[]> => {
    if (!fileId) return [];
    const text = await call(async () => (await client.files.content(fileId)).text());
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .flatMap((l) => {
        try {
          const v: unknown = JSON.parse(l);
          return typeof v === 'object' && v !== null ? [v as Record<string, unknown>] : [];
        } catch {
          return []; // a line we cannot read is a line not answered: it falls back to a direct request
        }
      });
  };
  return {
    async submit(requests, callOpts = {}) {
      const jsonl = requests
        .map((r) => JSON.stringify({ custom_id: r.customId, method: 'POST', url: '/v1/chat/completions', body: chatBody(r.request) }))
        .join('\n');
      const options: OpenAI.RequestOptions = callOpts.signal ? { signal: callOpts.signal } : {};
      const file = await call(async () => client.files.create({ file: await toFile(Buffer.from(`${jsonl}\n`), 'docsight-batch.jsonl'), purpose: 'batch' }, options));
      const batch = await call(() =>
        client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { source: 'docsight' } }, options),
      );
      return { id: batch.id, inputFileId: file.id };
    },
    async retrieve(id) {
      return stateOf(await call(() => client.batches.retrieve(id)));
    },
    async cancel(id) {
      return stateOf(await call(() => client.batches.cancel(id)));
    },
    async results(state) {
      const out: BatchResults = new Map();
      for (const line of await lines(state.errorFileId)) {
        const id = typeof line.custom_id === 'string' ? line.custom_id : undefined;
        if (id) out.set(id, batchLineError(line));
      }
      for (const line of await lines(state.outputFileId)) {
        const id = typeof line.custom_id === 'string' ? line.custom_id : undefined;
        if (!id) continue;
        const response = line.response as { status_code?: number; body?: unknown } | null | undefined;
        if (!response || response.status_code !== 200) {
          out.set(id, batchLineError(line));
          continue;
        }
        try {
          out.set(id, toCompletionResponse(response.body as OpenAI.Chat.ChatCompletion, model));
        } catch (error) {
          out.set(id, toProviderError(error));
        }
      }
      return out;
    },
  };
}

/** A line the batch did not answer with a completion: the status it got, as a direct call would see it. */
function batchLineError(line: Record<string, unknown>): ProviderError {
  const response = line.response as { status_code?: number; body?: { error?: { message?: string; code?: string } } } | null | undefined;
  const error = (line.error as { message?: string; code?: string } | null | undefined) ?? response?.body?.error;
  const status = response?.status_code;
  const message = `Batch line failed${status ? ` (${status})` : ''}: ${error?.message ?? error?.code ?? 'no answer'}`;
  if (status === 400 && (error?.code === 'context_length_exceeded' || CONTEXT_LENGTH.test(message))) return new ProviderError('context_length', message, { status });
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 429) {
    return new ProviderError('bad_request', message, { status });
  }
  return new ProviderError('unavailable', message, status === undefined ? {} : { status });
}

/**
 * Calls the SDK under a per-call signal tied to the caller's. Two reasons: the SDK sleeps between
 * retries without watching the signal (racing it lets a cancelled job return at once; the SDK
 * checks the signal before its next attempt and stops there), and it adds an abort listener to the
 * signal on every attempt without removing it, which on a long-lived worker signal would pile up.
 */
async function callWithSignal<T>(call: (signal: AbortSignal | undefined) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return call(undefined);
  const child = new AbortController();
  const onAbort = () => child.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await new Promise<T>((resolve, reject) => {
      child.signal.addEventListener('abort', () => reject(new OpenAI.APIUserAbortError()), { once: true });
      // After an abort the SDK rejects too; the promise is already settled then, so that is a no-op.
      call(child.signal).then(resolve, reject);
    });
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

const BEFORE_RETRY = 'docsightBeforeRetry';
type HookedInit = RequestInit & { [BEFORE_RETRY]?: CompleteOptions['beforeRetry'] };

/** The SDK's attempt number (0: the first), from the header it sends on every attempt. */
export function sdkRetryCount(init: RequestInit | undefined): number {
  const headers = init?.headers;
  if (!headers) return 0;
  const value = headers instanceof Headers ? headers.get('x-stainless-retry-count') : new Headers(headers).get('x-stainless-retry-count');
  const n = Number(value ?? '0');
  return Number.isFinite(n) ? n : 0;
}

/**
 * Runs the call's `beforeRetry` hook before each of the SDK's own retries (after its backoff
 * sleep), and takes the hook out of the options before they reach the real fetch.
 */
function runBeforeRetry(fetchImpl: typeof globalThis.fetch): typeof globalThis.fetch {
  return async (input, init) => {
    const hook = (init as HookedInit | undefined)?.[BEFORE_RETRY];
    if (!init || !hook) return fetchImpl(input, init);
    const { [BEFORE_RETRY]: _hook, ...rest } = init as HookedInit;
    if (sdkRetryCount(rest) > 0) await hook(rest.signal ?? undefined);
    return fetchImpl(input, rest);
  };
}

/** Marks responses whose Retry-After exceeds the cap as not to be retried by the SDK (`x-should-retry: false`). */
function capRetryAfter(fetchImpl: typeof globalThis.fetch, maxMs: number): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await fetchImpl(input, init);
    if (response.status !== 429 && response.status < 500) return response;
    const wait = retryAfterMs(response.headers);
    if (wait === undefined || wait <= maxMs) return response;
    const headers = new Headers(response.headers);
    headers.set('x-should-retry', 'false');
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}

/** `retry-after-ms` (OpenAI's, milliseconds) or `retry-after` (seconds or an HTTP date). */
export function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

const CONTEXT_LENGTH = /context[_ ]length|maximum context|too many tokens|prompt is too long|exceeds the context/i;

/** One place that knows the SDK's error classes; everything above sees codes. */
export function toProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof OpenAI.APIUserAbortError) return new ProviderError('cancelled', 'Classification was cancelled', { cause: error });
  if (error instanceof OpenAI.APIConnectionTimeoutError) return new ProviderError('timeout', 'The provider did not answer in time', { cause: error });
  if (error instanceof OpenAI.APIConnectionError) {
    return new ProviderError('unavailable', `The provider could not be reached: ${error.message}`, { cause: error });
  }
  if (error instanceof OpenAI.APIError) {
    const status = error.status;
    const detail = error.message;
    const base = { cause: error, status };
    if (status === 429) {
      const after = retryAfterMs(error.headers);
      // An exhausted quota does not come back by waiting a few seconds.
      if (error.code === 'insufficient_quota') return new ProviderError('rate_limited', `The provider's quota is exhausted: ${detail}`, { ...base, retryable: false });
      return new ProviderError('rate_limited', `The provider's rate limit was hit: ${detail}`, after === undefined ? base : { ...base, retryAfterMs: after });
    }
    if (status === 401 || status === 403) return new ProviderError('auth', `The provider refused the credentials: ${detail}`, base);
    if (status !== undefined && status >= 400 && status < 500 && (error.code === 'context_length_exceeded' || CONTEXT_LENGTH.test(detail))) {
      return new ProviderError('context_length', `The request is too long for the model: ${detail}`, base);
    }
    if (status === 408 || status === 409 || (status !== undefined && status >= 500)) {
      const after = retryAfterMs(error.headers);
      return new ProviderError('unavailable', `The provider failed (${status}): ${detail}`, after === undefined ? base : { ...base, retryAfterMs: after });
    }
    return new ProviderError('bad_request', `The provider rejected the request (${status ?? 'no status'}): ${detail}`, base);
  }
  if (error instanceof OpenAI.OpenAIError) return new ProviderError('unavailable', `The provider client failed: ${error.message}`, { cause: error });
  throw error;
}
