/**
 * Splitting long documents into chunks that each fit a token budget. Boundaries prefer paragraphs,
 * then sentences, and only then raw token positions, so each chunk reads as text. Every character
 * of the document lands in some chunk: nothing is cut.
 */
import { countTokens, sliceByTokens, tailTokens } from './tokens.ts';

export interface ChunkOptions {
  /** Upper bound on each chunk's tokens, overlap included. */
  maxTokens: number;
  /** Tokens from the end of the previous chunk repeated at the start of the next one, for context. */
  overlapTokens?: number;
}

interface Piece {
  text: string;
  tokens: number;
}

const PARAGRAPH_BREAK = /\n[ \t]*\n+/;
const SENTENCE_END = /(?<=[.!?…。！？])\s+/;
const JOINER = '\n\n';

export function splitIntoChunks(text: string, opts: ChunkOptions): string[] {
  const overlap = Math.max(0, Math.min(opts.overlapTokens ?? 0, Math.floor(opts.maxTokens / 4)));
  // BPE counts are not exactly additive across joins: keep a margin, then verify each chunk.
  const contentBudget = Math.max(1, Math.floor((opts.maxTokens - overlap) * 0.97) - 4);
  const trimmed = text.trim();
  if (trimmed === '') return [];

  const pieces = toPieces(trimmed, contentBudget);
  const bodies: string[] = [];
  let current: string[] = [];
  let currentTokens = 0;
  for (const piece of pieces) {
    if (current.length > 0 && currentTokens + 2 + piece.tokens > contentBudget) {
      bodies.push(current.join(JOINER));
      current = [];
      currentTokens = 0;
    }
    current.push(piece.text);
    currentTokens += (current.length > 1 ? 2 : 0) + piece.tokens;
  }
  if (current.length > 0) bodies.push(current.join(JOINER));

  const chunks: string[] = [];
  bodies.forEach((body, i) => {
    const previous = bodies[i - 1];
    const chunk = previous === undefined || overlap === 0 ? body : `${tailTokens(previous, overlap).trimStart()}${JOINER}${body}`;
    if (countTokens(chunk) <= opts.maxTokens) {
      chunks.push(chunk);
      return;
    }
    // Rare: the margin did not absorb the join effects. Split this chunk again, smaller, without overlap.
    chunks.push(...splitIntoChunks(chunk, { maxTokens: Math.floor(opts.maxTokens * 0.8) }));
  });
  return chunks;
}

/** Paragraphs, with any paragraph over budget split into sentences, and any sentence over budget into token slices. */
function toPieces(text: string, budget: number): Piece[] {
  const out: Piece[] = [];
  for (const paragraph of text.split(PARAGRAPH_BREAK)) {
    const p = paragraph.trim();
    if (p === '') continue;
    const tokens = countTokens(p);
    if (tokens <= budget) {
      out.push({ text: p, tokens });
      continue;
    }
    let sentenceRun: string[] = [];
    let runTokens = 0;
    const flush = () => {
      if (sentenceRun.length > 0) out.push({ text: sentenceRun.join(' '), tokens: runTokens });
      sentenceRun = [];
      runTokens = 0;
    };
    for (const sentence of p.split(SENTENCE_END)) {
      const t = countTokens(sentence);
      if (t > budget) {
        flush();
        for (const slice of sliceByTokens(sentence, budget)) out.push({ text: slice, tokens: countTokens(slice) });
        continue;
      }
      if (runTokens + 1 + t > budget) flush();
      sentenceRun.push(sentence);
      runTokens += (sentenceRun.length > 1 ? 1 : 0) + t;
    }
    flush();
  }
  return out;
}
