/**
 * Token budgets: what one request may hold, and how a document is planned (one request, or chunks
 * for map-reduce) so that every request, a repair included, stays inside `maxInputTokens`.
 */
import { splitIntoChunks } from './chunking.ts';
import { ClassifyInputError } from './errors.ts';
import { buildMapMessages, buildSingleMessages, NOTES_MAX_WORDS, neutraliseDelimiters } from './prompt.ts';
import { countMessageTokens, countSchemaTokens } from './tokens.ts';
import type { ChatMessage, ClassificationStrategy, ClassifyInput, OutputSchema } from './types.ts';

/** A repair echoes at most this much of the rejected answer back to the model. */
export const REPAIR_ECHO_TOKENS = 300;
/** ... and states the problem in at most this much. */
export const REPAIR_PROBLEM_TOKENS = 120;
/** What a repair adds to a request: the echo, the problem, the fixed wording and message framing. */
export const REPAIR_RESERVE_TOKENS = REPAIR_ECHO_TOKENS + REPAIR_PROBLEM_TOKENS + 80;

export interface BudgetSettings {
  /** Upper bound on every request's prompt tokens (messages and schema). */
  maxInputTokens: number;
  summaryMaxWords: number;
  overlapTokens: number;
  maxChunks: number;
}

/** Prompt tokens of one request: the messages and the schema sent with them. */
export function requestTokens(messages: readonly ChatMessage[], output: OutputSchema): number {
  return countMessageTokens(messages) + countSchemaTokens(output.schema);
}

/** Generous guesses of answer sizes, for rate-limit bookings of unknown answers and for dry runs. */
export function expectedFinalOutputTokens(summaryMaxWords: number): number {
  return 120 + 2 * summaryMaxWords;
}
export function expectedPartialOutputTokens(): number {
  return 100 + 2 * NOTES_MAX_WORDS;
}
/** Hard caps on generation: room enough that a valid answer is never cut off. */
export function finalMaxOutputTokens(summaryMaxWords: number): number {
  return 400 + 4 * summaryMaxWords;
}
export function partialMaxOutputTokens(): number {
  return 400 + 4 * NOTES_MAX_WORDS;
}

export interface DocumentPlan {
  strategy: ClassificationStrategy;
  /** The document text (delimiters neutralised), whole for `single`, in overlapping chunks for `map-reduce`. */
  chunks: string[];
  /**
   * `single` only: the request planning measured, with its prompt tokens (messages and schema), so
   * the document is tokenised once rather than again when it is sent.
   */
  request?: { messages: ChatMessage[]; promptTokens: number };
}

/** Decides single vs map-reduce. Pure: the same input and settings give the same plan. */
export function planDocument(
  input: ClassifyInput,
  settings: BudgetSettings,
  schemas: { final: OutputSchema; partial: OutputSchema },
): DocumentPlan {
  // Neutralised once here so token counts below match the text actually sent (it is idempotent).
  const text = neutraliseDelimiters(input.text);
  const messages = buildSingleMessages(input, text, settings.summaryMaxWords);
  const promptTokens = requestTokens(messages, schemas.final);
  if (promptTokens + REPAIR_RESERVE_TOKENS <= settings.maxInputTokens) return { strategy: 'single', chunks: [text], request: { messages, promptTokens } };

  // +16: the chunk joins the surrounding wording, which BPE does not count exactly additively.
  const overhead = requestTokens(buildMapMessages(input, '', 9999, 9999), schemas.partial) + REPAIR_RESERVE_TOKENS + 16;
  const chunkBudget = settings.maxInputTokens - overhead;
  // A chunk smaller than this says little on its own, and the reduce step could never fit the parts.
  const minimumChunk = 4 * settings.overlapTokens + 200;
  if (chunkBudget < minimumChunk) {
    throw new ClassifyInputError(
      'budget_too_small',
      `maxInputTokens ${settings.maxInputTokens} leaves ${chunkBudget} tokens per chunk after the prompt and taxonomy (${overhead}); at least ${minimumChunk} are needed`,
    );
  }
  const chunks = splitIntoChunks(text, { maxTokens: chunkBudget, overlapTokens: settings.overlapTokens });
  if (chunks.length > settings.maxChunks) {
    throw new ClassifyInputError(
      'document_too_long',
      `The document needs ${chunks.length} chunks of ${chunkBudget} tokens, more than the limit of ${settings.maxChunks}`,
    );
  }
  return { strategy: 'map-reduce', chunks };
}

/**
 * Splits consecutive parts (given their token sizes) into groups whose total fits `budget`.
 * Returns the group sizes; a group of one means that part could not be merged with a neighbour.
 */
export function groupBySize(sizes: readonly number[], budget: number): number[] {
  const groups: number[] = [];
  let count = 0;
  let total = 0;
  for (const size of sizes) {
    if (count > 0 && total + size > budget) {
      groups.push(count);
      count = 0;
      total = 0;
    }
    count += 1;
    total += size;
  }
  if (count > 0) groups.push(count);
  return groups;
}
