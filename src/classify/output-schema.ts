/**
 * What the model must answer, as one zod schema per shape from which the JSON schema for structured
 * outputs is generated, so the constraint sent and the validation applied cannot disagree. Label
 * fields are enums of the taxonomy's labels: the model cannot even express a tag outside it, and a
 * server that ignores the schema is caught by validation.
 */
import { z } from 'zod';
import { normaliseAnswer } from './normalise-answer.ts';
import type { ClassificationWarning, FieldDefinition, FieldValue, OutputSchema, Taxonomy } from './types.ts';
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

function fieldValueSchema(field: FieldDefinition) {
  switch (field.type) {
    case 'string':
      return z.string().nullable();
    case 'number':
      return z.number().nullable();
    // A pattern, not `format: date`: both are allowed in strict mode, but a pattern is enforced by
    // more OpenAI-compatible servers' grammar engines.
    case 'date':
      return z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable();
    case 'boolean':
      return z.boolean().nullable();
    case 'enum': {
      const [first, ...rest] = field.values ?? [];
      if (first === undefined) throw new Error(`Enum field ${field.name} has no values`);
      return z.enum([first, ...rest]).nullable();
    }
  }
}

/**
 * The taxonomy's custom fields as one object: every field required and nullable, since strict
 * structured outputs require every property and null is how the model says "not in the document".
 * Absent (no property at all) for a taxonomy without fields, so their requests stay as they were.
 */
function fieldsShape(taxonomy: Taxonomy): { fields?: z.ZodType<Record<string, FieldValue>> } {
  const fields = taxonomy.fields ?? [];
  if (fields.length === 0) return {};
  return { fields: z.strictObject(Object.fromEntries(fields.map((f) => [f.name, fieldValueSchema(f)]))) };
}

export interface FinalAnswer {
  tags: { label: string; confidence: number }[];
  primaryCategory: string;
  summary: string;
  summaryLanguage: string;
  /** Present (every field, normalised) when the taxonomy has fields. */
  fields?: Record<string, FieldValue>;
}

/**
 * The answer schemas, typed by hand: zod infers an optional property of unknown type for the
 * fields spread in only when the taxonomy has some.
 */
export function finalAnswerSchema(taxonomy: Taxonomy): z.ZodType<FinalAnswer> {
  const labels = labelNames(taxonomy);
  return z
    .strictObject({
      tags: z.array(tagSchema(labels)).min(1),
      primaryCategory: z.enum(labels),
      summary: z.string().min(1),
      summaryLanguage: z.string(),
      ...fieldsShape(taxonomy),
    })
    .refine((a) => a.tags.some((t) => t.label === a.primaryCategory), {
      message: 'primaryCategory must also be one of the tags',
      path: ['primaryCategory'],
    }) as z.ZodType<FinalAnswer>;
}

export function partialAnswerSchema(taxonomy: Taxonomy): z.ZodType<PartialResult> {
  const labels = labelNames(taxonomy);
  return z.strictObject({
    tags: z.array(tagSchema(labels)),
    notes: z.string(),
    language: z.string(),
    ...fieldsShape(taxonomy),
  }) as z.ZodType<PartialResult>;
}

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
