/**
 * The client commands: scan and classify (start a job and follow it), insights, jobs, export,
 * sources (bucket sources, admin). Each returns its exit code; errors are thrown and mapped to
 * exit codes once, in index.ts.
 */
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { ApiError, folderPath } from './client.ts';
import type { Context } from './context.ts';
import { EXIT, UsageError } from './context.ts';
import { followJob } from './follow.ts';
import { bytes, createProgress, day, duration, folderName, minute, num, pairs, table } from './render.ts';
import { type Bucket, type ClassificationEstimate, type DuplicatesPage, type DuplicatesSummary, type FolderInsights, isFinal, type Job, type Source, type Watch } from '../contract.ts';
import { JOB_KINDS, JOB_STATUSES, type PiiKind } from '../domain/vocabulary.ts';

const isOneOf = (words: readonly string[], value: string) => words.includes(value);

/** Exit code of a finished job: anything but a clean completion is 1. */
export const jobExitCode = (j: Job) => (j.status === 'completed' && j.progress.failed === 0 ? EXIT.ok : EXIT.jobFailures);

function json(ctx: Context, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Follow a started job with a progress display on stderr, then print the summary (or JSON). */
async function runJob(ctx: Context, started: Job, detach: boolean): Promise<number> {
  const what = `${started.kind === 'scan' ? 'Scan' : 'Classification'} of ${folderName(started.folder)}`;
  if (detach) {
    if (ctx.json) json(ctx, started);
    else ctx.stdout.write(`${what}: ${started.status} (job ${started.id})\nFollow it with: docsight jobs ${started.id}\n`);
    return EXIT.ok;
  }
  // Scripts asking for JSON get no progress noise unless a person is watching stderr.
  const showProgress = !ctx.json || ctx.stderr.isTTY === true;
  const progress = createProgress(ctx.stderr, ctx.stderr.isTTY ? started.kind === 'scan' ? 'Scanning' : 'Classifying' : `${started.kind} ${started.id.slice(0, 8)}`);
  if (showProgress && !ctx.stderr.isTTY) ctx.stderr.write(`${what} started (job ${started.id})\n`);
  const onSigint = () => {
    progress.done();
    ctx.stderr.write(`\nStopped following; the job goes on on the server. Follow it again with: docsight jobs ${started.id}\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  let final: Job;
  try {
    final = await followJob(ctx.client, started.id, (j) => showProgress && progress.update(j), {
      onFallback: (reason) => {
        if (showProgress) ctx.stderr.write(`${ctx.stderr.isTTY ? '\n' : ''}(live events unavailable: ${reason}; polling every second)\n`);
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
    progress.done();
  }
  if (ctx.json) json(ctx, final);
  else ctx.stdout.write(jobSummary(final));
  return jobExitCode(final);
}

export function jobSummary(j: Job): string {
  const what = `${j.kind === 'scan' ? 'Scan' : 'Classification'} of ${folderName(j.folder)}`;
  const took = j.durationMs !== null ? ` in ${duration(j.durationMs / 1000)}` : '';
  const p = j.progress;
  const rows: [string, string][] = [
    ['job', j.id],
    ['documents', num(p.total)],
    ['done', num(p.done)],
    ['skipped', `${num(p.skipped)}${j.kind === 'scan' ? ' (unchanged since the last scan)' : ' (already classified)'}`],
    ['failed', num(p.failed)],
    ['rate', j.rate !== null ? `${j.rate} documents/s` : '–'],
  ];
  if (j.ocr) {
    const o = j.ocr;
    rows.push(
      ['OCR documents', `${num(o.documentsDone)} of ${num(o.documents)}`],
      ['OCR pages', `${num(o.pagesDone)} of ${num(o.pagesTotal)}${o.pagesPerSecond !== null ? ` (${o.pagesPerSecond} pages/s)` : ''}`],
    );
  }
  if (j.kind === 'classify') {
    rows.push(['tokens', `${num(j.usage.inputTokens)} in, ${num(j.usage.outputTokens)} out`], ['cost', `$${j.usage.costUsd.toFixed(4)}`]);
  }
  let out = `\n${what}: ${j.status}${took}\n\n${pairs(rows)}`;
  if (j.error) out += `\n  error: ${j.error.message} (${j.error.code})\n`;
  const failures = j.failures ?? [];
  if (failures.length) {
    out += `\nFailed documents${p.failed > failures.length ? ` (first ${failures.length} of ${num(p.failed)})` : ''}\n`;
    out += table(
      ['PATH', 'REASON', 'MESSAGE'],
      failures.map((f) => [f.path, f.code, f.message.length > 80 ? `${f.message.slice(0, 79)}…` : f.message]),
    );
  }
  return out;
}

export async function scan(ctx: Context, folder: string, opts: { detach: boolean }): Promise<number> {
  const { body } = await ctx.client.request<Job>('POST', '/v1/scans', { path: folder });
  return runJob(ctx, body, opts.detach);
}

export interface ClassifyOptions {
  taxonomy?: string;
  summaryLanguage?: string;
  force: boolean;
  dryRun: boolean;
  budgetUsd?: number;
  detach: boolean;
}

export async function classify(ctx: Context, folder: string, o: ClassifyOptions): Promise<number> {
  const body = {
    path: folder,
    ...(o.taxonomy ? { taxonomy: o.taxonomy } : {}),
    ...(o.summaryLanguage ? { summaryLanguage: o.summaryLanguage } : {}),
    ...(o.budgetUsd !== undefined ? { budgetUsd: o.budgetUsd } : {}),
    force: o.force,
    dryRun: o.dryRun,
  };
  if (o.dryRun) {
    const { body: est } = await ctx.client.request<ClassificationEstimate>('POST', '/v1/classifications', body);
    if (ctx.json) json(ctx, est);
    else {
      ctx.stdout.write(`Classification of ${folderName(folder)} would cost about $${est.estimatedCostUsd.toFixed(4)} (nothing was sent to the model)\n\n`);
      ctx.stdout.write(
        pairs([
          ['documents', num(est.documents)],
          ['model', est.model],
          ['taxonomy', `${est.taxonomy.name} (version ${est.taxonomy.version})`],
          ['input tokens', `~${num(est.estimatedInputTokens)}`],
          ['output tokens', `~${num(est.estimatedOutputTokens)}`],
          ['cost', `~$${est.estimatedCostUsd.toFixed(4)}`],
        ]),
      );
      if (est.folderNotScanned) ctx.stdout.write('\n  The folder has not been scanned yet: it is scanned first, so the count may grow.\n');
    }
    return EXIT.ok;
  }
  const { body: job } = await ctx.client.request<Job>('POST', '/v1/classifications', body);
  return runJob(ctx, job, o.detach);
}

function breakdown(title: string, buckets: Bucket[], total: number, label = (k: string | null) => k ?? '(none)', limit = 15): string {
  if (!buckets.length) return '';
  const shown = buckets.slice(0, limit);
  const rows = shown.map((b) => [label(b.key), num(b.count), bytes(b.size), total ? `${Math.round((b.count / total) * 100)}%` : '–']);
  const rest = buckets.slice(limit);
  if (rest.length) {
    const n = rest.reduce((s, b) => s + b.count, 0);
    rows.push([`… ${rest.length} more`, num(n), bytes(rest.reduce((s, b) => s + b.size, 0)), total ? `${Math.round((n / total) * 100)}%` : '–']);
  }
  return `\n${title}\n${table(['VALUE', 'DOCS', 'SIZE', 'SHARE'], rows, [1, 2, 3])}`;
}

export async function insights(ctx: Context, folder: string): Promise<number> {
  const { body: r } = await ctx.client.request<FolderInsights>('GET', folderPath(folder, 'insights'));
  if (ctx.json) {
    json(ctx, r);
    return EXIT.ok;
  }
  // Duplicate groups are a route of their own (they are computed, not summed); a server without it
  // (older than the feature) answers 404, and the section is left out.
  const duplicates = await ctx.client.request<DuplicatesPage>('GET', `${folderPath(folder, 'duplicates')}?limit=1`).then(
    (res) => res.body.summary,
    (err: unknown) => {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    },
  );
  const c = r.classification;
  const failed = r.byStatus.find((b) => b.key === 'failed')?.count ?? 0;
  let out = `${folderName(r.folder)}\n\n`;
  out += pairs([
    ['documents', `${num(r.documentCount)} (with subfolders)`],
    ['total size', bytes(r.totalSize)],
    ['modified', r.oldestModified ? `${day(r.oldestModified)} … ${day(r.newestModified)}` : '–'],
    ['last scanned', r.lastScannedAt ? minute(r.lastScannedAt) : 'never (run: docsight scan <folder>)'],
    ['failed', num(failed)],
    ['classified', `${num(c.classified)} of ${num(c.classifiable)} (${Math.round(c.coverage * 100)}%)${c.needsReview ? `, ${num(c.needsReview)} need review` : ''}`],
  ]);
  out += insightsContents(r);
  out += insightsRollups(r, duplicates);
  const n = r.documentCount;
  out += breakdown('By type', r.byFormat, n);
  out += breakdown('By extension', r.byExtension, n);
  out += breakdown('By author', r.byAuthor, n);
  out += breakdown('By year modified', [...r.byYear].sort((a, b) => String(a.key).localeCompare(String(b.key))), n, undefined, 50);
  out += breakdown('By language', r.byLanguage, n);
  out += breakdown('By status', r.byStatus, n);
  out += breakdown('Failures by reason', r.failuresByCode, failed);
  out += breakdown('By tag', c.byTag, c.classified);
  out += breakdown('By category', c.byCategory, c.classified);
  out += breakdown('Subfolders', r.subfolders, n, (k) => k ?? '', 50);
  if (c.costUsd > 0) out += `\nClassification so far: ${num(c.inputTokens)} input and ${num(c.outputTokens)} output tokens, $${c.costUsd.toFixed(4)}\n`;
  ctx.stdout.write(out);
  return EXIT.ok;
}

/** Where the documents come from, and what OCR made of the scanned ones. */
export function insightsContents(r: Pick<FolderInsights, 'contents' | 'ocr'>): string {
  const c = r.contents;
  const o = r.ocr;
  let out = `\nContents\n${pairs([
    ['files', num(c.files)],
    ['attachments', `${num(c.attachments)} (inside e-mails)`],
    ['archive entries', `${num(c.archiveEntries)} (inside archives)`],
  ])}`;
  out += `\nScanned documents (OCR)\n${pairs([
    ['scanned documents', num(o.scannedDocuments)],
    ['pages read', num(o.pagesRead)],
    ['low confidence', num(o.lowConfidence)],
    ['pending', num(o.pending)],
    ['failed', num(o.failed)],
    ['skipped', `${num(o.skipped)}${o.skipped ? ' (OCR off, or limited to other folders)' : ''}`],
  ])}`;
  return out;
}

/** How the CLI names each kind of personal data. */
const PII_NAMES: Record<PiiKind, string> = {
  bsn: 'citizen service numbers (BSN)',
  iban: 'IBANs',
  card: 'payment card numbers',
  email: 'e-mail addresses',
  phone: 'phone numbers',
  birthdate: 'dates of birth',
};

/**
 * Stale documents, personal data and duplicates, each when the server reports it (a server older
 * than the feature leaves the field out; `duplicates` is null then).
 */
export function insightsRollups(r: Partial<Pick<FolderInsights, 'stale' | 'personalData'>>, duplicates: DuplicatesSummary | null): string {
  let out = '';
  if (r.stale) {
    out += `\nStale (not modified for more than ${r.stale.afterYears} years)\n${pairs([
      ['documents', num(r.stale.documents)],
      ['size', bytes(r.stale.bytes)],
    ])}`;
  }
  const p = r.personalData;
  if (p) {
    out += `\nPersonal data\n`;
    if (p.documents === 0) out += '  none found (or detection is off)\n';
    else {
      out += pairs([['documents', `${num(p.documents)} (${num(p.findings)} distinct values; only masked samples are stored)`]]);
      out += table(['KIND', 'DOCS', 'VALUES'], p.byKind.map((k) => [PII_NAMES[k.kind], num(k.documents), num(k.findings)]), [1, 2]);
    }
  }
  if (duplicates) {
    out += `\nDuplicates and versions\n`;
    out +=
      duplicates.groups === 0
        ? '  none found\n'
        : pairs([
            ['groups', `${num(duplicates.groups)} (${num(duplicates.exactGroups)} exact copies, ${num(duplicates.nearGroups)} versions and near copies)`],
            ['documents', num(duplicates.documents)],
            ['wasted', `${bytes(duplicates.wastedBytes)} (beyond the largest of each group)`],
          ]);
  }
  return out;
}

export interface JobsOptions {
  status?: string;
  kind?: string;
  folder?: string;
  limit: number;
}

export async function jobs(ctx: Context, o: JobsOptions): Promise<number> {
  if (o.status && !isOneOf(JOB_STATUSES, o.status)) throw new UsageError(`--status must be one of ${JOB_STATUSES.join(', ')}`);
  if (o.kind && !isOneOf(JOB_KINDS, o.kind)) throw new UsageError(`--kind must be one of ${JOB_KINDS.join(', ')}`);
  const q = new URLSearchParams({ limit: String(o.limit) });
  if (o.status) q.set('status', o.status);
  if (o.kind) q.set('kind', o.kind);
  if (o.folder !== undefined) q.set('folder', o.folder === '.' ? '' : o.folder);
  const { body } = await ctx.client.request<{ items: Job[]; nextCursor: string | null }>('GET', `/v1/jobs?${q}`);
  if (ctx.json) {
    json(ctx, body);
    return EXIT.ok;
  }
  if (!body.items.length) {
    ctx.stdout.write('No jobs.\n');
    return EXIT.ok;
  }
  ctx.stdout.write(
    table(
      ['ID', 'KIND', 'STATUS', 'FOLDER', 'PROGRESS', 'DOCS', 'FAILED', 'CREATED', 'TOOK'],
      body.items.map((j) => [
        j.id,
        j.kind,
        j.status,
        folderName(j.folder),
        `${j.progress.percent}%`,
        num(j.progress.total),
        num(j.progress.failed),
        minute(j.createdAt),
        j.durationMs !== null ? duration(j.durationMs / 1000) : '–',
      ]),
      [4, 5, 6],
      '',
    ),
  );
  if (body.nextCursor) ctx.stdout.write(`(more jobs: raise --limit, up to 200)\n`);
  return EXIT.ok;
}

/** One job (with its failed documents); `--follow` waits for it like scan does. */
export async function job(ctx: Context, id: string, follow: boolean): Promise<number> {
  const j = await ctx.client.getJob(id);
  if (follow && !isFinal(j.status)) return runJob(ctx, j, false);
  if (ctx.json) json(ctx, j);
  else ctx.stdout.write(jobSummary(j).replace(/^\n/, ''));
  return EXIT.ok;
}

/**
 * `docsight export`: the folder's export, streamed from the response to `out` as it arrives
 * (`> out.csv`), waiting for `out` to drain, so an export of any size passes through in pieces.
 */
export async function exportFolder(ctx: Context, folder: string, format: 'csv' | 'jsonl' | 'xlsx', out: Writable): Promise<number> {
  const res = await ctx.client.download(`${folderPath(folder, 'export')}?format=${format}`);
  if (!res.body) return EXIT.ok;
  await pipeline(Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>), out, { end: false });
  return EXIT.ok;
}

/** `s3://bucket/optional/prefix` as bucket and prefix. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m?.[1]) throw new UsageError(`the bucket must be given as s3://bucket/prefix (got "${url}")`);
  return { bucket: m[1], prefix: (m[2] ?? '').replace(/\/+$/, '') };
}

export async function sourcesList(ctx: Context): Promise<number> {
  const { body } = await ctx.client.request<{ items: Source[] }>('GET', '/v1/sources');
  if (ctx.json) {
    json(ctx, body);
    return EXIT.ok;
  }
  if (body.items.length === 0) {
    ctx.stdout.write('No bucket sources; the documents root (DOCS_ROOT) is the only source.\n');
    return EXIT.ok;
  }
  ctx.stdout.write(
    table(
      ['name', 'bucket', 'endpoint', 'credentials', 'watch'],
      body.items.map((s) => [s.name, `s3://${s.bucket}/${s.prefix}`, s.endpoint ?? '(AWS)', s.credentials, s.watchIntervalSeconds ? `${s.watchIntervalSeconds} s` : '–']),
    ),
  );
  return EXIT.ok;
}

export async function sourcesAdd(
  ctx: Context,
  name: string,
  url: string,
  o: { endpoint?: string | undefined; region?: string | undefined; pathStyle: boolean; watchIntervalSeconds?: number | undefined; accessKeyId?: string | undefined; secretAccessKey?: string | undefined },
): Promise<number> {
  const { bucket, prefix } = parseS3Url(url);
  const body = {
    name,
    kind: 's3',
    bucket,
    ...(prefix ? { prefix } : {}),
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.region ? { region: o.region } : {}),
    ...(o.pathStyle ? { forcePathStyle: true } : {}),
    ...(o.watchIntervalSeconds ? { watchIntervalSeconds: o.watchIntervalSeconds } : {}),
    ...(o.accessKeyId ? { accessKeyId: o.accessKeyId } : {}),
    ...(o.secretAccessKey ? { secretAccessKey: o.secretAccessKey } : {}),
  };
  const { body: created } = await ctx.client.request<Source>('POST', '/v1/sources', body);
  if (ctx.json) json(ctx, created);
  else ctx.stdout.write(`Added source ${created.name} (s3://${created.bucket}/${created.prefix}, credentials: ${created.credentials}).\nScan it with: docsight scan ${created.name}\n`);
  return EXIT.ok;
}

export async function sourcesRemove(ctx: Context, name: string): Promise<number> {
  const { body } = await ctx.client.request<Source>('DELETE', `/v1/sources/${encodeURIComponent(name)}`);
  if (ctx.json) json(ctx, body);
  else ctx.stdout.write(`Removed source ${body.name}; its documents are kept, marked deleted.\n`);
  return EXIT.ok;
}

const watchFolder = (folder: string) => (folder === '.' ? '' : folder);

/** Watch a folder of the local root: its changes are scanned as they happen. */
export async function watch(ctx: Context, folder: string, o: { autoClassify: boolean }): Promise<number> {
  const { status, body } = await ctx.client.request<Watch>('POST', '/v1/watches', { folder: watchFolder(folder), autoClassify: o.autoClassify });
  if (ctx.json) json(ctx, body);
  else ctx.stdout.write(`${status === 201 ? 'Watching' : 'Already watching'} ${folderName(body.folder)}${body.autoClassify ? ' (classifying new and changed documents)' : ''}\n`);
  return EXIT.ok;
}

export async function watchList(ctx: Context): Promise<number> {
  const { body } = await ctx.client.request<{ items: Watch[] }>('GET', '/v1/watches');
  if (ctx.json) {
    json(ctx, body);
    return EXIT.ok;
  }
  if (!body.items.length) {
    ctx.stdout.write('No folders are watched.\n');
    return EXIT.ok;
  }
  ctx.stdout.write(
    table(
      ['FOLDER', 'CLASSIFY', 'SINCE', 'LAST FULL CHECK'],
      body.items.map((w) => [folderName(w.folder), w.autoClassify ? 'yes' : 'no', minute(w.createdAt), w.lastCheckedAt ? minute(w.lastCheckedAt) : '–']),
      [],
      '',
    ),
  );
  return EXIT.ok;
}

export async function unwatch(ctx: Context, folder: string): Promise<number> {
  const { body } = await ctx.client.request<{ items: Watch[] }>('GET', '/v1/watches');
  const w = body.items.find((x) => x.folder === watchFolder(folder));
  if (!w) throw new UsageError(`${folderName(watchFolder(folder))} is not watched (see: docsight watch list)`);
  await ctx.client.request('DELETE', `/v1/watches/${encodeURIComponent(w.id)}`);
  if (ctx.json) json(ctx, { unwatched: w });
  else ctx.stdout.write(`Stopped watching ${folderName(w.folder)}\n`);
  return EXIT.ok;
}
