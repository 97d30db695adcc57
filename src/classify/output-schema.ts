/**
 * What the model must answer, as one zod schema per shape from which the JSON schema for structured
 * outputs is generated, so the constraint sent and the validation applied cannot disagree. Label
 * fields are enums of the taxonomy's labels: the model cannot even express a tag outside it, and a
 * server that ignores the schema is caught by validation.
 */
import { z } from 'zod';
import type { OutputSchema, Taxonomy } from './types.ts';
import type { PartialResult } from './prompt.ts';

type LabelTuple = [string, ...string[]];

function labelNames(taxonomy: Taxonomy): LabelTuple {
  const names = taxonomy.labels.map((l) => l.name);
  const [first, ...rest] = names;
  if (first === undefined) throw new Error(`Taxonomy ${taxonomy.id} has no labels`);
  return [first, ...rest];
}

function tagSchema(labels: LabelTuple) {
  return z.strictObject({
    label: z.enum(labels),
    confidence: z.number().min(0).max(1),
  });
}

export function finalAnswerSchema(taxonomy: Taxonomy) {
  const labels = labelNames(taxonomy);
  return z
    .strictObject({
      tags: z.array(tagSchema(labels)).min(1),
      primaryCategory: z.enum(labels),
      summary: z.string().min(1),
      summaryLanguage: z.string(),
    })
    .refine((a) => a.tags.some((t) => t.label === a.primaryCategory), {
      message: 'primaryCategory must also be one of the tags',
      path: ['primaryCategory'],
    });
}

export function partialAnswerSchema(taxonomy: Taxonomy) {
  const labels = labelNames(taxonomy);
  return z.strictObject({
    tags: z.array(tagSchema(labels)),
    notes: z.string(),
    language: z.string(),
  });
}

export type FinalAnswer = z.infer<ReturnType<typeof finalAnswerSchema>>;
export type PartialAnswer = PartialResult;

/** The JSON schema for `response_format: {type: 'json_schema', json_schema: {name, strict: true, schema}}`. */
export function toOutputSchema(name: string, schema: z.ZodType): OutputSchema {
  // draft-7 keeps to the keywords strict structured outputs accept; `$schema` itself is not one of them.
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { target: 'draft-7', io: 'output' }) as Record<string, unknown>;
  return { name, schema: json };
}

export type Validation<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * Parses and validates a raw answer. Tolerates what weaker OpenAI-compatible servers add around
 * JSON (code fences) and label case differences, and nothing else.
 */
export function validateAnswer<T>(raw: string, schema: z.ZodType<T>, taxonomy: Taxonomy): Validation<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stripFences(raw));
  } catch (error) {
    return { ok: false, problem: `the answer is not valid JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const result = schema.safeParse(canonicaliseLabels(parsed, taxonomy));
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problem: z.prettifyError(result.error) };
}

function stripFences(raw: string): string {
  const trimmed = raw.trim();
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/i.exec(trimmed);
  return fenced?.[1] ?? trimmed;
}

/** "meeting notes " → "Meeting Notes": a spelling slip is not a tag outside the taxonomy. */
function canonicaliseLabels(value: unknown, taxonomy: Taxonomy): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const byKey = new Map(taxonomy.labels.map((l) => [l.name.trim().toLowerCase(), l.name]));
  const canon = (v: unknown) => (typeof v === 'string' ? (byKey.get(v.trim().toLowerCase()) ?? v) : v);
  const obj = { ...(value as Record<string, unknown>) };
  if (Array.isArray(obj.tags)) {
    obj.tags = obj.tags.map((t: unknown) =>
      typeof t === 'object' && t !== null && !Array.isArray(t) ? { ...(t as Record<string, unknown>), label: canon((t as Record<string, unknown>).label) } : t,
    );
  }
  if ('primaryCategory' in obj) obj.primaryCategory = canon(obj.primaryCategory);
  return obj;
}
