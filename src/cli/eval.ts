/**
 * `docsight eval`: import gold labels, run an evaluation and wait for its metrics, show a run, and
 * compare two runs in a table. Errors are thrown and mapped to exit codes once, in index.ts.
 */
import { readFile } from 'node:fs/promises';
import type { Evaluation, EvaluationComparison, LabelImportReport } from '../contract.ts';
import type { Context } from './context.ts';
import { EXIT, UsageError } from './context.ts';
import { folderName, minute, num, pairs, table } from './render.ts';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
const signed = (x: number | null) => (x === null ? '–' : `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)}`);

function json(ctx: Context, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One run as text: what was evaluated, the averages, cost and latency, then a row per label. */
export function evaluationReport(e: Evaluation): string {
  const m = e.metrics;
  const head = pairs([
    ['evaluation', e.id],
    ['folder', folderName(e.path)],
    ['taxonomy', `${e.taxonomy.name} v${e.taxonomy.version}`],
    ['model', `${e.model} (prompt ${e.promptVersion})`],
    ['status', e.error ? `${e.status}: ${e.error.message} [${e.error.code}]` : e.status],
    ['documents', `${num(e.documents)} labelled (${num(e.goldSources.imported)} imported, ${num(e.goldSources.reviews)} from reviews)`],
  ]);
  if (!m) return `${head}  (metrics once the classification job has ended)\n`;
  const summary = pairs([
    ['scored', `${num(m.scored)}${m.unpredicted ? ` (${num(m.unpredicted)} without a prediction)` : ''}`],
    ['micro P / R / F1', `${pct(m.micro.precision)} / ${pct(m.micro.recall)} / ${pct(m.micro.f1)}`],
    ['macro P / R / F1', `${pct(m.macro.precision)} / ${pct(m.macro.recall)} / ${pct(m.macro.f1)}`],
    ['primary accuracy', m.primaryAccuracy === null ? '–' : `${pct(m.primaryAccuracy)} of ${num(m.primaryCompared)}`],
    ['cost', `$${m.costUsd.total.toFixed(4)}${m.costUsd.perDocument !== null ? ` ($${m.costUsd.perDocument.toFixed(6)} a document)` : ''}`],
    ['latency', m.latencyMs.mean === null ? '–' : `${m.latencyMs.mean} ms mean, p50 ${m.latencyMs.p50} ms, p95 ${m.latencyMs.p95} ms`],
  ]);
  const labels = table(
    ['label', 'support', 'predicted', 'precision', 'recall', 'F1'],
    m.perLabel.map((l) => [l.label, num(l.support), num(l.predicted), pct(l.precision), pct(l.recall), pct(l.f1)]),
    [1, 2, 3, 4, 5],
  );
  const fieldRows = m.fields.length === 0 ? '' : `\n${table(['field', 'compared', 'correct', 'accuracy'], m.fields.map((f) => [f.field, num(f.compared), num(f.correct), pct(f.accuracy)]), [1, 2, 3])}`;
  return `${head}${summary}\n${labels}${fieldRows}`;
}

/** Two runs side by side: a row per label with both F1s and the change, then the averages, then a row per custom field. */
export function comparisonTable(c: EvaluationComparison): string {
  const d = c.delta;
  const name = (e: Evaluation) => `${e.model} ${e.taxonomy.name} v${e.taxonomy.version} (${minute(e.createdAt)})`;
  const rows = d.perLabel.map((l) => [l.label, num(l.a?.support ?? 0), pct(l.a?.f1), pct(l.b?.f1), signed(l.f1), signed(l.precision), signed(l.recall)]);
  const avg = (label: string, a: { f1: number; precision: number; recall: number } | undefined, b: typeof a, x: { f1: number; precision: number; recall: number }) => [
    label,
    '',
    pct(a?.f1),
    pct(b?.f1),
    signed(x.f1),
    signed(x.precision),
    signed(x.recall),
  ];
  rows.push(avg('(micro)', c.a.metrics?.micro, c.b.metrics?.micro, d.micro), avg('(macro)', c.a.metrics?.macro, c.b.metrics?.macro, d.macro));
  return (
    pairs([
      ['A', `${c.a.id}  ${name(c.a)}`],
      ['B', `${c.b.id}  ${name(c.b)}`],
    ]) +
    '\n' +
    table(['label', 'support', 'F1 A', 'F1 B', 'ΔF1', 'ΔP', 'ΔR'], rows, [1, 2, 3, 4, 5, 6]) +
    '\n' +
    (d.fields.length === 0
      ? ''
      : `${table(
          ['field', 'compared A', 'accuracy A', 'accuracy B', 'Δ'],
          d.fields.map((f) => [f.field, num(f.a?.compared ?? 0), pct(f.a?.accuracy), pct(f.b?.accuracy), signed(f.accuracy)]),
          [1, 2, 3, 4],
        )}\n`) +
    pairs([
      ['primary accuracy', `${pct(c.a.metrics?.primaryAccuracy)} → ${pct(c.b.metrics?.primaryAccuracy)} (${signed(d.primaryAccuracy)})`],
      ['cost a document', d.costPerDocumentUsd === null ? '–' : `${d.costPerDocumentUsd > 0 ? '+' : ''}$${d.costPerDocumentUsd.toFixed(6)}`],
      ['mean latency', d.latencyMeanMs === null ? '–' : `${d.latencyMeanMs > 0 ? '+' : ''}${d.latencyMeanMs} ms`],
    ])
  );
}

export async function importLabels(ctx: Context, file: string, taxonomy: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const { body } = await ctx.client.request<LabelImportReport>('POST', `/v1/evaluations/labels?taxonomy=${encodeURIComponent(taxonomy)}`, text, 'application/x-ndjson');
  if (ctx.json) json(ctx, body);
  else {
    ctx.stdout.write(`Imported ${num(body.imported)} gold label(s) under ${body.taxonomy.name}\n`);
    if (body.errors.length > 0) ctx.stdout.write(`${num(body.errors.length)} line(s) refused:\n${table(['line', 'code', 'message'], body.errors.map((e) => [String(e.line), e.code, e.message]), [0])}`);
  }
  return body.errors.length > 0 ? EXIT.jobFailures : EXIT.ok;
}

export async function run(
  ctx: Context,
  path: string,
  opts: { taxonomy?: string; model?: string; promptVersion?: string; detach: boolean },
  pollMs = 1000,
): Promise<number> {
  const started = (
    await ctx.client.request<Evaluation>('POST', '/v1/evaluations', {
      path,
      ...(opts.taxonomy ? { taxonomy: opts.taxonomy } : {}),
      ...(opts.model ? { model: opts.model } : {}),
      ...(opts.promptVersion ? { promptVersion: opts.promptVersion } : {}),
    })
  ).body;
  let e = started;
  if (!opts.detach) {
    if (!ctx.json) ctx.stderr.write(`Evaluation ${e.id} started${e.jobId ? ` (classifying in job ${e.jobId})` : ''}\n`);
    while (e.status === 'running') {
      await new Promise((r) => setTimeout(r, pollMs));
      e = (await ctx.client.request<Evaluation>('GET', `/v1/evaluations/${encodeURIComponent(e.id)}`)).body;
    }
  }
  return show(ctx, e);
}

function show(ctx: Context, e: Evaluation): number {
  if (ctx.json) json(ctx, e);
  else ctx.stdout.write(evaluationReport(e));
  return e.status === 'failed' ? EXIT.jobFailures : EXIT.ok;
}

export async function showOne(ctx: Context, id: string): Promise<number> {
  return show(ctx, (await ctx.client.request<Evaluation>('GET', `/v1/evaluations/${encodeURIComponent(id)}`)).body);
}

export async function list(ctx: Context): Promise<number> {
  const { body } = await ctx.client.request<{ items: Evaluation[] }>('GET', '/v1/evaluations?limit=50');
  if (ctx.json) json(ctx, body);
  else
    ctx.stdout.write(
      table(
        ['id', 'created', 'folder', 'taxonomy', 'model', 'status', 'micro F1', 'accuracy'],
        body.items.map((e) => [e.id, minute(e.createdAt), folderName(e.path), `${e.taxonomy.name} v${e.taxonomy.version}`, e.model, e.status, pct(e.metrics?.micro.f1), pct(e.metrics?.primaryAccuracy)]),
        [6, 7],
      ),
    );
  return EXIT.ok;
}

export async function compare(ctx: Context, a: string, b: string): Promise<number> {
  const { body } = await ctx.client.request<EvaluationComparison>('GET', `/v1/evaluations/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
  if (ctx.json) json(ctx, body);
  else ctx.stdout.write(comparisonTable(body));
  return EXIT.ok;
}
