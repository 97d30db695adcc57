/**
 * Token counting with the o200k_base encoding (gpt-4o, gpt-4.1, o-series). Other model families
 * count a little differently, which is why budgets keep a safety margin rather than trusting the
 * count to the token.
 */
import { countTokens as countO200k, decode, encode } from 'gpt-tokenizer/encoding/o200k_base';
import type { ChatMessage } from './types.ts';

export function countTokens(text: string): number {
  return countO200k(text);
}

/** OpenAI's documented chat framing: a few tokens per message plus the reply's priming. */
const TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_REPLY = 3;

export function countMessageTokens(messages: readonly ChatMessage[]): number {
  let total = TOKENS_PER_REPLY;
  for (const m of messages) total += TOKENS_PER_MESSAGE + (m.role === 'system' ? countSystemTokens(m.content) : countO200k(m.content));
  return total;
}

/**
 * System messages are fixed wording plus the taxonomy and settings: the same few strings for every
 * document of a job, so their counts are remembered (a Map lookup hashes the string, far cheaper
 * than encoding it). Bounded: oldest entries go first.
 */
const systemCounts = new Map<string, number>();
const SYSTEM_CACHE_ENTRIES = 256;

function countSystemTokens(content: string): number {
  const known = systemCounts.get(content);
  if (known !== undefined) return known;
  const n = countO200k(content);
  if (systemCounts.size >= SYSTEM_CACHE_ENTRIES) {
    const oldest = systemCounts.keys().next();
    if (!oldest.done) systemCounts.delete(oldest.value);
  }
  systemCounts.set(content, n);
  return n;
}

/** Per schema object: the classifier reuses one schema object per taxonomy, so this is counted once. */
const schemaCounts = new WeakMap<object, number>();

/** The structured-output schema is sent with the request and may be billed as prompt. */
export function countSchemaTokens(schema: Record<string, unknown>): number {
  const known = schemaCounts.get(schema);
  if (known !== undefined) return known;
  const n = countO200k(JSON.stringify(schema));
  schemaCounts.set(schema, n);
  return n;
}

/** The first `maxTokens` tokens of `text` (for bounded echoes of model output, never for documents). */
export function headTokens(text: string, maxTokens: number): string {
  const tokens = encode(text);
  return tokens.length <= maxTokens ? text : decode(tokens.slice(0, maxTokens));
}

/** The last `maxTokens` tokens of `text` (chunk overlap). */
export function tailTokens(text: string, maxTokens: number): string {
  if (maxTokens <= 0) return '';
  const tokens = encode(text);
  return tokens.length <= maxTokens ? text : decode(tokens.slice(tokens.length - maxTokens));
}

/** Splits `text` into consecutive pieces of at most `maxTokens` tokens each, losing nothing. */
export function sliceByTokens(text: string, maxTokens: number): string[] {
  const tokens = encode(text);
  const pieces: string[] = [];
  for (let i = 0; i < tokens.length; i += maxTokens) pieces.push(decode(tokens.slice(i, i + maxTokens)));
  return pieces;
}
