/**
 * Classifying one document: plan within the token budget, book the shared rate limit, call the
 * provider, normalise and validate (one repair, only for an answer that cannot be normalised into
 * a usable one), and add up usage. Free of database and configuration: every
 * setting is a parameter, so the worker, the CLI and the benchmark share it unchanged.
 */
import {
  type BudgetSettings,
  expectedFinalOutputTokens,
  expectedPartialOutputTokens,
  finalMaxOutputTokens,
  groupBySize,
  partialMaxOutputTokens,
  planDocument,
  REPAIR_ECHO_TOKENS,
  REPAIR_PROBLEM_TOKENS,
  REPAIR_RESERVE_TOKENS,
  requestTokens,
} from './budget.ts';
import { mapWithConcurrency } from './concurrency.ts';
import { DEFAULT_PRICES, estimateCost, type PriceTable } from './cost.ts';
import { cancelledError, ClassifyInputError, ProviderError } from './errors.ts';
import { finalAnswerSchema, type FinalAnswer, partialAnswerSchema, toOutputSchema, validateAnswer } from './output-schema.ts';
import {
  buildCombineMessages,
  buildMapMessages,
  buildReduceMessages,
  buildRepairMessages,
  buildSingleMessages,
  NOTES_MAX_WORDS,
  type PartialResult,
  PROMPT_VERSION,
  renderPartial,
} from './prompt.ts';
import type { RateLimiter } from '../rate-limit/index.ts';
import { countMessageTokens, countTokens, headTokens } from './tokens.ts';
import { CLASSIFICATION_WARNINGS, type ClassificationWarning } from './types.ts';
import type {
  ChatMessage,
  ClassificationResult,
  CompleteOptions,
  CompletionRequest,
  CompletionResponse,
  ClassificationStrategy,
  ClassifyInput,
  LlmProvider,
  OutputSchema,
  TagScore,
  Taxonomy,
  Usage,
} from './types.ts';
import type { FieldValue } from './types.ts';
import type { z } from 'zod';

export interface ClassifierOptions {
  provider: LlmProvider;
  /** Shared limit on requests and tokens; absent: no client-side limit. */
  rateLimiter?: RateLimiter;
  /** Upper bound on every request's prompt tokens (messages and schema), repairs included. */
  maxInputTokens: number;
  /** Summary length when the input does not say. Default 150. */
  summaryMaxWords?: number;
  /** Tokens repeated between consecutive chunks. Default 100. */
  chunkOverlapTokens?: number;
  /** Map requests in flight at once for one long document. Default 4. */
  mapConcurrency?: number;
  /** A document needing more chunks fails with `document_too_long` instead of running up a bill. Default 200. */
  maxChunks?: number;
  /** Default: DEFAULT_PRICES. */
  prices?: PriceTable;
  /** Price of a Batch API request as a share of the normal price. Default 0.5 (OpenAI's). */
  batchPriceFactor?: number;
}

export interface ClassifyCallOptions {
  signal?: AbortSignal;
  /**
   * The Batch API's answer to `batchRequest(input)`: it stands in for the document's one request
   * and goes through the same normalisation and validation (a repair, when needed, is a direct
   * request). Priced at the batch price.
   */
  answer?: CompletionResponse;
}

export interface ClassificationEstimate {
  strategy: ClassificationStrategy;
  chunks: number;
  requests: number;
  inputTokens: number;
  /** A generous guess: answers are not known before they are given. */
  outputTokens: number;
  costUsd: number;
}

export interface Classifier {
  readonly providerName: string;
  readonly model: string;
  readonly promptVersion: string;
  /** Throws ProviderError or ClassifyInputError (see `classificationFailure` in errors.ts). */
  classify(input: ClassifyInput, opts?: ClassifyCallOptions): Promise<ClassificationResult>;
  /** The same planning as `classify`, without calling the model (dry runs, budgets). Throws ClassifyInputError. */
  estimate(input: ClassifyInput, opts?: { batch?: boolean }): ClassificationEstimate;
  /**
   * The one request of a document that needs only one (a Batch API line); undefined for a
   * document split into parts, which needs answers before it can ask again. Throws ClassifyInputError.
   */
  batchRequest(input: ClassifyInput): CompletionRequest | undefined;
}

export function createClassifier(opts: ClassifierOptions): Classifier {
  const { provider, rateLimiter } = opts;
  const defaultWords = opts.summaryMaxWords ?? 150;
  const overlapTokens = opts.chunkOverlapTokens ?? 100;
  const mapConcurrency = opts.mapConcurrency ?? 4;
  const maxChunks = opts.maxChunks ?? 200;
  const prices = opts.prices ?? DEFAULT_PRICES;
  const batchPriceFactor = opts.batchPriceFactor ?? 0.5;
  const maxInputTokens = opts.maxInputTokens;
  if (!(maxInputTokens > 0)) throw new RangeError('maxInputTokens must be positive');

  const settingsFor = (input: ClassifyInput): BudgetSettings => ({
    maxInputTokens,
    summaryMaxWords: input.summaryMaxWords ?? defaultWords,
    overlapTokens,
    maxChunks,
  });

  const answerSchemas = answerSchemaCache();
  const prepare = (input: ClassifyInput) => {
    checkInput(input);
    const { finalZod, partialZod, schemas } = answerSchemas(input.taxonomy);
    const settings = settingsFor(input);
    return { finalZod, partialZod, schemas, settings, plan: planDocument(input, settings, schemas) };
  };

  async function classify(input: ClassifyInput, callOpts: ClassifyCallOptions = {}): Promise<ClassificationResult> {
    const { signal } = callOpts;
    const { finalZod, partialZod, schemas, settings, plan } = prepare(input);
    const model = input.model ?? provider.model;
    const usage: Usage = { inputTokens: 0, outputTokens: 0, requests: 0 };
    /** The part of `usage` answered by the Batch API, priced at its factor. */
    const batchUsage = { inputTokens: 0, outputTokens: 0 };
    let answered = plan.strategy === 'single' ? callOpts.answer : undefined;
    const warnings = new Set<ClassificationWarning>();
    const words = settings.summaryMaxWords;

    /** One request, then at most one repair; every request checked against the budget before it leaves. */
    async function ask<T>(
      messages: ChatMessage[],
      zod: z.ZodType<T>,
      output: OutputSchema,
      maxOutputTokens: number,
      expectedOutput: number,
      sig?: AbortSignal,
      knownPromptTokens?: number,
    ): Promise<T> {
      const first = answered ? fromBatch(answered, messages) : await send(messages, output, maxOutputTokens, expectedOutput, sig, knownPromptTokens);
      answered = undefined;
      const v1 = validateAnswer(first.content, zod, input.taxonomy);
      if (v1.ok) return accept(v1);
      const problem = first.truncated ? `it was cut off at the output limit, so keep it shorter (${v1.problem})` : v1.problem;
      const repair = [
        ...messages,
        ...buildRepairMessages(headTokens(first.content, REPAIR_ECHO_TOKENS), headTokens(problem, REPAIR_PROBLEM_TOKENS)),
      ];
      const second = await send(repair, output, maxOutputTokens, expectedOutput, sig);
      const v2 = validateAnswer(second.content, zod, input.taxonomy);
      if (v2.ok) return accept(v2);
      throw new ProviderError('invalid_output', `The model's answer was invalid, and again after a repair request: ${v2.problem}`);
    }

    function accept<T>(v: { value: T; warnings: readonly ClassificationWarning[] }): T {
      for (const w of v.warnings) warnings.add(w);
      return v.value;
    }

    function fromBatch(response: CompletionResponse, messages: ChatMessage[]): CompletionResponse {
      const inputTokens = response.usage?.inputTokens ?? countMessageTokens(messages);
      const outputTokens = response.usage?.outputTokens ?? countTokens(response.content);
      usage.requests += 1;
      usage.inputTokens += inputTokens;
      usage.outputTokens += outputTokens;
      batchUsage.inputTokens += inputTokens;
      batchUsage.outputTokens += outputTokens;
      return response;
    }

    /** `knownPromptTokens`: what planning already counted for exactly these messages and schema. */
    async function send(messages: ChatMessage[], output: OutputSchema, maxOutputTokens: number, expectedOutput: number, sig?: AbortSignal, knownPromptTokens?: number) {
      if (sig?.aborted) throw cancelledError(sig);
      const promptTokens = knownPromptTokens ?? requestTokens(messages, output);
      if (promptTokens > maxInputTokens) {
        // Planning keeps this from happening; if it ever does, refusing beats a silent overrun.
        throw new ClassifyInputError('budget_too_small', `A request of ${promptTokens} prompt tokens would exceed maxInputTokens ${maxInputTokens}`);
      }
      // Providers count the prompt and the expected completion against the token limit, and
      // count every attempt: the provider's own retries are booked too, as they happen.
      const cost = promptTokens + expectedOutput;
      await rateLimiter?.acquire(cost, sig);
      usage.requests += 1;
      const callOpts: CompleteOptions = sig ? { signal: sig } : {};
      if (rateLimiter) callOpts.beforeRetry = (attemptSignal) => rateLimiter.acquire(cost, attemptSignal ?? sig);
      const response = await provider.complete({ messages, output, maxOutputTokens, ...(input.model !== undefined ? { model: input.model } : {}) }, callOpts);
      usage.inputTokens += response.usage?.inputTokens ?? countMessageTokens(messages);
      usage.outputTokens += response.usage?.outputTokens ?? countTokens(response.content);
      return response;
    }

    let answer: FinalAnswer;
    if (plan.strategy === 'single') {
      const messages = plan.request?.messages ?? buildSingleMessages(input, plan.chunks[0] ?? '', words);
      answer = await ask(messages, finalZod, schemas.final, finalMaxOutputTokens(words), expectedFinalOutputTokens(words), signal, plan.request?.promptTokens);
    } else {
      const partials = await mapWithConcurrency(
        plan.chunks,
        mapConcurrency,
        (chunk, i, sig) =>
          ask(buildMapMessages(input, chunk, i, plan.chunks.length), partialZod, schemas.partial, partialMaxOutputTokens(), expectedPartialOutputTokens(), sig),
        signal,
      );
      answer = await reduce(partials.map(clipNotes));
    }

    /** Final answer from the parts; when they do not fit one request, merge neighbours first (a tree). */
    async function reduce(parts: PartialResult[]): Promise<FinalAnswer> {
      let level = parts;
      for (;;) {
        const finalMessages = buildReduceMessages(input, level, words);
        if (requestTokens(finalMessages, schemas.final) + REPAIR_RESERVE_TOKENS <= maxInputTokens) {
          return ask(finalMessages, finalZod, schemas.final, finalMaxOutputTokens(words), expectedFinalOutputTokens(words), signal);
        }
        const overhead = requestTokens(buildCombineMessages(input, []), schemas.partial) + REPAIR_RESERVE_TOKENS + 16;
        // Per-part sizes with a margin, since BPE counts are not exactly additive over joins.
        const sizes = level.map((p, i) => Math.ceil(countTokens(renderPartial(p, i)) * 1.02) + 2);
        const groups = groupBySize(sizes, maxInputTokens - overhead);
        if (groups.length >= level.length) {
          throw new ClassifyInputError('budget_too_small', `maxInputTokens ${maxInputTokens} cannot hold two partial results of this document together`);
        }
        let start = 0;
        const slices = groups.map((n) => level.slice(start, (start += n)));
        level = await mapWithConcurrency(
          slices,
          mapConcurrency,
          async (group, _i, sig) =>
            group.length === 1 && group[0]
              ? group[0]
              : clipNotes(await ask(buildCombineMessages(input, group), partialZod, schemas.partial, partialMaxOutputTokens(), expectedPartialOutputTokens(), sig)),
          signal,
        );
      }
    }

    const result: ClassificationResult = {
      tags: sortTags(answer.tags),
      primaryCategory: answer.primaryCategory,
      summary: answer.summary.trim(),
      summaryLanguage: input.summaryLanguage ?? (answer.summaryLanguage.trim().toLowerCase() || input.documentLanguage || 'und'),
      strategy: plan.strategy,
      chunks: plan.chunks.length,
      usage,
      costUsd:
        estimateCost(model, usage.inputTokens - batchUsage.inputTokens, usage.outputTokens - batchUsage.outputTokens, prices) +
        batchPriceFactor * estimateCost(model, batchUsage.inputTokens, batchUsage.outputTokens, prices),
      model,
      promptVersion: PROMPT_VERSION,
      // A requested summary language replaces whatever the model reported, so dropping that report changed nothing.
      warnings: CLASSIFICATION_WARNINGS.filter((w) => warnings.has(w) && !(w === 'summary_language_dropped' && input.summaryLanguage)),
      fields: answerFields(answer),
    };
    return result;
  }

  function estimate(input: ClassifyInput, estimateOpts: { batch?: boolean } = {}): ClassificationEstimate {
    const { schemas, settings, plan } = prepare(input);
    const words = settings.summaryMaxWords;
    let requests = 0;
    let inputTokens = 0;
    let outputTokens = 0;
    if (plan.strategy === 'single') {
      requests = 1;
      inputTokens = plan.request?.promptTokens ?? requestTokens(buildSingleMessages(input, plan.chunks[0] ?? '', words), schemas.final);
      outputTokens = expectedFinalOutputTokens(words);
    } else {
      plan.chunks.forEach((chunk, i) => {
        requests += 1;
        inputTokens += requestTokens(buildMapMessages(input, chunk, i, plan.chunks.length), schemas.partial);
        outputTokens += expectedPartialOutputTokens();
      });
      // Reduce: parts assumed to be as long as their expected answers.
      const partTokens = expectedPartialOutputTokens() + 20;
      const finalOverhead = requestTokens(buildReduceMessages(input, [], words), schemas.final) + REPAIR_RESERVE_TOKENS;
      const combineOverhead = requestTokens(buildCombineMessages(input, []), schemas.partial) + REPAIR_RESERVE_TOKENS + 16;
      let parts = plan.chunks.length;
      while (finalOverhead + parts * partTokens > maxInputTokens) {
        const groups = groupBySize(new Array<number>(parts).fill(partTokens), maxInputTokens - combineOverhead);
        if (groups.length >= parts) break;
        for (const n of groups) {
          if (n < 2) continue;
          requests += 1;
          inputTokens += combineOverhead + n * partTokens;
          outputTokens += expectedPartialOutputTokens();
        }
        parts = groups.length;
      }
      requests += 1;
      inputTokens += finalOverhead + parts * partTokens;
      outputTokens += expectedFinalOutputTokens(words);
    }
    return {
      strategy: plan.strategy,
      chunks: plan.chunks.length,
      requests,
      inputTokens,
      outputTokens,
      // Only a one-request document goes through the Batch API; a split one is sent directly.
      costUsd: estimateCost(input.model ?? provider.model, inputTokens, outputTokens, prices) * (estimateOpts.batch && plan.strategy === 'single' ? batchPriceFactor : 1),
    };
  }

  function batchRequest(input: ClassifyInput): CompletionRequest | undefined {
    const { schemas, settings, plan } = prepare(input);
    if (plan.strategy !== 'single') return undefined;
    const words = settings.summaryMaxWords;
    return {
      messages: plan.request?.messages ?? buildSingleMessages(input, plan.chunks[0] ?? '', words),
      output: schemas.final,
      maxOutputTokens: finalMaxOutputTokens(words),
      ...(input.model !== undefined ? { model: input.model } : {}),
    };
  }

  return { providerName: provider.name, model: provider.model, promptVersion: PROMPT_VERSION, classify, estimate, batchRequest };
}

interface AnswerSchemas {
  /** The label names and field definitions the schemas were built from (all they depend on). */
  names: string;
  finalZod: ReturnType<typeof finalAnswerSchema>;
  partialZod: ReturnType<typeof partialAnswerSchema>;
  schemas: { final: OutputSchema; partial: OutputSchema };
}

/**
 * The answer schemas (zod and JSON) per taxonomy version, built once instead of per document: a
 * folder job sends thousands of documents under one taxonomy. A version's labels never change;
 * should a caller reuse id and version with other labels, the names check rebuilds rather than
 * serving a stale enum. Bounded: the oldest entry goes first.
 */
function answerSchemaCache(maxEntries = 64): (taxonomy: Taxonomy) => AnswerSchemas {
  const cache = new Map<string, AnswerSchemas>();
  return (taxonomy) => {
    const key = `${taxonomy.id}@${taxonomy.version}`;
    const names = JSON.stringify([taxonomy.labels.map((l) => l.name), taxonomy.fields ?? []]);
    const hit = cache.get(key);
    if (hit?.names === names) return hit;
    const finalZod = finalAnswerSchema(taxonomy);
    const partialZod = partialAnswerSchema(taxonomy);
    const entry: AnswerSchemas = {
      names,
      finalZod,
      partialZod,
      schemas: { final: toOutputSchema('document_classification', finalZod), partial: toOutputSchema('partial_classification', partialZod) },
    };
    cache.delete(key);
    if (cache.size >= maxEntries) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(key, entry);
    return entry;
  };
}

/** The normalised field values (normalise-answer.ts fills every field); none without fields. */
function answerFields(answer: FinalAnswer): Record<string, FieldValue> {
  return answer.fields ? { ...answer.fields } : {};
}

/** Notes longer than asked for would crowd the reduce step; they are model output, not the document. */
function clipNotes(p: PartialResult): PartialResult {
  return { ...p, notes: headTokens(p.notes, 3 * NOTES_MAX_WORDS) };
}

/** Highest confidence first (labels are unique already: the normaliser merged duplicates). */
function sortTags(tags: readonly TagScore[]): TagScore[] {
  return tags.map(({ label, confidence }) => ({ label, confidence })).sort((a, b) => b.confidence - a.confidence || a.label.localeCompare(b.label));
}

function checkInput(input: ClassifyInput): void {
  if (input.text.trim() === '') throw new ClassifyInputError('empty_document', 'The document has no text to classify');
  const names = input.taxonomy.labels.map((l) => l.name.trim().toLowerCase());
  if (names.length === 0) throw new ClassifyInputError('invalid_taxonomy', `Taxonomy ${input.taxonomy.name} has no labels`);
  if (new Set(names).size !== names.length || names.includes('')) {
    throw new ClassifyInputError('invalid_taxonomy', `Taxonomy ${input.taxonomy.name} has empty or duplicate labels`);
  }
  if (input.summaryMaxWords !== undefined && !(input.summaryMaxWords > 0)) {
    throw new ClassifyInputError('invalid_input', 'summaryMaxWords must be positive');
  }
}
