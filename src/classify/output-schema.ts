/**
 * What the model must answer, as one zod schema per shape from which the JSON schema for structured
 * outputs is generated, so the constraint sent and the validation applied cannot disagree. Label
 * fields are enums of the taxonomy's labels: the model cannot even express a tag outside it, and a
 * server that ignores the schema is caught by validation.
 */
import { z } from 'zod';
import { normaliseAnswer } from './normalise-answer.ts';
import type { ClassificationWarning, OutputSchema, Taxonomy } from './types.ts';
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

export type Validation<T> = { ok: true; value: T; warnings: ClassificationWarning[] } | { ok: false; problem: string };

/**
 * Parses, normalises (normalise-answer.ts) and validates a raw answer. Tolerates code fences around
 * the JSON and whatever the normaliser can set right, reported as warnings; nothing else.
 */
export function validateAnswer<T>(raw: string, schema: z.ZodType<T>, taxonomy: Taxonomy): Validation<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stripFences(raw));
  } catch (error) {
    return { ok: false, problem: `the answer is not valid JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const { value, warnings } = normaliseAnswer(parsed, taxonomy);
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data, warnings };
  return { ok: false, problem: z.prettifyError(result.error) };
}

function stripFences(raw: string): string {
  const trimmed = raw.trim();
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/i.exec(trimmed);
  return fenced?.[1] ?? trimmed;
}
