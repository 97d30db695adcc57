/**
 * The provider for the OpenAI API and every server that speaks its chat completions API (Azure
 * OpenAI, Ollama, vLLM, LM Studio, llama.cpp server): the only file that imports `openai`.
 *
 * Transient failures (429 honouring Retry-After, 408/409/5xx, timeouts, connection errors) are
 * retried by the SDK itself, with exponential backoff and jitter, up to `maxRetries`. What is left
 * when those run out becomes a coded ProviderError; the job decides what happens next.
 */
import OpenAI from 'openai';
import { ProviderError } from './errors.ts';
import type { CompleteOptions, CompletionRequest, CompletionResponse, LlmProvider } from './types.ts';

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

  return {
    name: opts.name ?? 'openai',
    model: opts.model,
    async complete(request: CompletionRequest, callOpts: CompleteOptions = {}): Promise<CompletionResponse> {
      const { signal, beforeRetry } = callOpts;
      if (signal?.aborted) throw new ProviderError('cancelled', 'Classification was cancelled');
      const messages =
        responseFormat === 'json_schema'
          ? request.messages
          : request.messages.map((m, i) =>
              i === 0 && m.role === 'system'
                ? { ...m, content: `${m.content}\n\nThe JSON schema your answer must match:\n${JSON.stringify(request.output.schema)}` }
                : m,
            );
      const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
        model: opts.model,
        messages,
        response_format:
          responseFormat === 'json_schema'
            ? { type: 'json_schema', json_schema: { name: request.output.name, strict: true, schema: request.output.schema } }
            : { type: 'json_object' },
        [maxTokensParameter]: request.maxOutputTokens,
      };
      if (opts.temperature !== undefined) body.temperature = opts.temperature;

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

      const choice = completion.choices[0];
      if (!choice) throw new ProviderError('invalid_output', 'The provider answered without a choice');
      if (choice.message.refusal) throw new ProviderError('invalid_output', `The model refused: ${choice.message.refusal}`);
      if (choice.finish_reason === 'content_filter') throw new ProviderError('invalid_output', "The provider's content filter stopped the answer");
      const response: CompletionResponse = {
        content: choice.message.content ?? '',
        model: completion.model || opts.model,
        truncated: choice.finish_reason === 'length',
      };
      if (completion.usage) response.usage = { inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens };
      return response;
    },
  };
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
