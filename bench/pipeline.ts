/**
 * Benchmark: scan + extract + persist a generated folder of N .docx files through the whole
 * service as a user runs it (`docsight start` in a child process: HTTP POST /v1/scans, queue,
 * worker threads, PostgreSQL), in embedded mode (embedded PostgreSQL + Postgres queue) and in Redis
 * mode (the machine's PostgreSQL + BullMQ). Peak RSS is the service process's own high-water mark
 * (VmHWM, worker threads included; the embedded PostgreSQL server is a separate process). Also
 * measures the floor: reading every file and inflating the parts extraction needs. Search indexes
 * text in the background (migration 0006): `searchable s` is when GET /v1/search first reports
 * nothing waiting (`unindexed: 0`) after the job completed, i.e. every text is findable.
 *
 * With BENCH_SCANS=N (issue 16: born-digital documents keep their throughput while scans are
 * OCR'd), the .docx go to `born-digital/` and N one-page image-only PDFs (an A4 page of text at
 * 300 DPI, each different so none is a cached reading of another) to `scans/`. Each mode then
 * runs twice on a fresh service: the born-digital folder alone, and the same folder scanned once
 * the scans folder's job has OCR under way. The second row says how far OCR had got when the
 * born-digital job completed (it must still be running for the row to count), when the
 * born-digital text became searchable, and how long the scans job took in all.
 *
 *   npm run bench:pipeline            (BENCH_DOCS=10000 by default; BENCH_MODES=embedded,redis)
 *   BENCH_SCANS=120 BENCH_MODES=embedded npm run bench:pipeline
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import pg from 'pg';
import { generateDocxFolder } from '../test/support/docx-fixtures.ts';
import { freePort, startDocsight, waitForHttp } from '../test/support/processes.ts';
import { envInt, machine, peakRssMb, table } from './support.ts';

const N = envInt('BENCH_DOCS', 10_000);
const SCANS = envInt('BENCH_SCANS', 0);
const MODES = (process.env.BENCH_MODES ?? 'embedded,redis').split(',');
const PG_SERVER = process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BORN_DIGITAL = SCANS > 0 ? 'born-digital' : '.';
const SCANS_DIR = 'scans';
const SCANS_TIMEOUT_MS = 3_600_000;

type Row = Record<string, string | number>;

interface JobView {
  id: string;
  status: string;
  progress: { done: number; failed: number };
  /** null (or absent before the OCR stage existed) when the job has no OCR work. */
  ocr?: { documents: number; documentsDone: number; pagesTotal: number; pagesDone: number; pagesPerSecond: number | null } | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function floor(root: string, files: string[]): Promise<number> {
  const t0 = performance.now();
  for (const rel of files) {
    const bytes = new Uint8Array(await readFile(path.join(root, rel)));
    unzipSync(bytes, { filter: (f) => f.name === 'word/document.xml' || f.name.startsWith('docProps/') || f.name.endsWith('.rels') });
  }
  return performance.now() - t0;
}

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: PG_SERVER });
  await c.connect();
  await c.query(sql);
  await c.end();
}

/** The scans folder: one-page image-only PDFs whose text differs, so each is read for itself. */
async function generateScans(dir: string, count: number): Promise<void> {
  const { asImageOnlyPdf, GROUND_TRUTH, renderA4Page } = await import('../test/support/ocr-fixtures.ts');
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const text = `Scan ${i + 1}. ${i % 2 === 0 ? GROUND_TRUTH.eng : GROUND_TRUTH.nld}`;
    await writeFile(path.join(dir, `scan-${String(i + 1).padStart(4, '0')}.pdf`), await asImageOnlyPdf([await renderA4Page(text, 300)], 300));
  }
}

async function startScan(base: string, folder: string): Promise<string> {
  const res = await fetch(`${base}/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: folder }) });
  return ((await res.json()) as { id: string }).id;
}

const getJob = async (base: string, id: string) => (await (await fetch(`${base}/v1/jobs/${id}`)).json()) as JobView;
const running = (j: JobView) => j.status === 'queued' || j.status === 'running';

async function waitJob(base: string, id: string, until: (j: JobView) => boolean = (j) => !running(j), timeoutMs = SCANS_TIMEOUT_MS): Promise<JobView> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const j = await getJob(base, id);
    if (until(j) || !running(j)) return j;
    if (performance.now() > deadline) throw new Error(`job ${id} still ${j.status} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function waitSearchable(base: string, folder: string): Promise<void> {
  const filter = folder === '.' ? '' : `&path=${encodeURIComponent(folder)}`;
  for (;;) {
    const r = (await (await fetch(`${base}/v1/search?limit=1${filter}`)).json()) as { unindexed?: number };
    if ((r.unindexed ?? 0) === 0) return;
    await sleep(100);
  }
}

const describeOcr = (j: JobView) => (j.ocr === undefined ? 'no OCR stage' : j.ocr === null ? 'none' : `${j.ocr.pagesDone}/${j.ocr.pagesTotal} pages`);

/** The service in `mode` on a fresh database; `run` gets its base URL. */
async function withService<T>(mode: string, root: string, work: string, label: string, run: (base: string, pid: number | undefined) => Promise<T>): Promise<T> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = { DOCS_ROOT: root, PORT: String(port), LOG_LEVEL: 'warn', QUEUE_NAME: `bench${Date.now().toString(36)}` };
  let dbName: string | undefined;
  const dataDir = path.join(work, `data-${label}`);
  if (mode === 'embedded') {
    env.DATA_DIR = dataDir;
    env.EMBEDDED_PG_PORT = String(await freePort());
  } else {
    dbName = `docsight_bench_${Date.now().toString(36)}`;
    await admin(`create database ${dbName}`);
    const u = new URL(PG_SERVER);
    u.pathname = `/${dbName}`;
    env.DATABASE_URL = u.toString();
    env.REDIS_URL = REDIS_URL;
  }
  // The same V8 heap cap as `npm start` (package.json): GC keeps the heap near its live set.
  const proc = startDocsight(['start'], env, work, ['--max-old-space-size=256']);
  try {
    await waitForHttp(`${base}/ready`, proc);
    return await run(base, proc.child.pid);
  } finally {
    await proc.stop('SIGTERM');
    if (dbName) await admin(`drop database if exists ${dbName} with (force)`);
    await rm(dataDir, { recursive: true, force: true });
  }
}

const modeName = (mode: string) => (mode === 'embedded' ? 'embedded (PG queue)' : 'redis (BullMQ)');

/** A row for the born-digital folder's scan job. */
function scanRow(mode: string, job: JobView, ms: number, searchableMs: number, startRss: number, pid: number | undefined): Row {
  return {
    mode,
    documents: N,
    done: job.progress.done,
    failed: job.progress.failed,
    seconds: (ms / 1000).toFixed(2),
    'docs/s': Math.round(N / (ms / 1000)),
    'searchable s': (searchableMs / 1000).toFixed(2),
    'RSS at start MB': startRss,
    'peak RSS MB': peakRssMb(pid),
  };
}

/** The born-digital folder alone. */
async function runMode(mode: string, root: string, work: string): Promise<Row> {
  return withService(mode, root, work, `${mode}-alone`, async (base, pid) => {
    const startRss = peakRssMb(pid);
    const t0 = performance.now();
    const job = await waitJob(base, await startScan(base, BORN_DIGITAL));
    const ms = performance.now() - t0;
    await waitSearchable(base, BORN_DIGITAL);
    const searchableMs = performance.now() - t0;
    process.stdout.write(`${modeName(mode)}: job ${job.status}, OCR work: ${describeOcr(job)}\n`);
    return scanRow(modeName(mode), job, ms, searchableMs, startRss, pid);
  });
}

/** The born-digital folder scanned while the scans folder's OCR is under way. */
async function runWithOcr(mode: string, root: string, work: string): Promise<Row> {
  return withService(mode, root, work, `${mode}-ocr`, async (base, pid) => {
    const startRss = peakRssMb(pid);
    const s0 = performance.now();
    const scansJob = await startScan(base, SCANS_DIR);
    const busy = await waitJob(base, scansJob, (j) => (j.ocr?.pagesDone ?? 0) > 0);
    if (!running(busy)) throw new Error(`the scans job ended (${busy.status}, OCR ${describeOcr(busy)}) before the born-digital scan could start`);
    const t0 = performance.now();
    const job = await waitJob(base, await startScan(base, BORN_DIGITAL));
    const ms = performance.now() - t0;
    const during = await getJob(base, scansJob);
    const stillOcr = running(during);
    process.stdout.write(
      `${modeName(mode)} with OCR: born-digital job ${job.status} (its OCR work: ${describeOcr(job)}) in ${(ms / 1000).toFixed(2)} s; ` +
        `OCR when it started: ${describeOcr(busy)}, when it completed: ${describeOcr(during)}, scans job ${during.status}\n`,
    );
    // The born-digital text is searchable once the indexer has run; it waits for CPU-bound jobs.
    const searchable = waitSearchable(base, BORN_DIGITAL).then(() => performance.now() - t0);
    const scans = await waitJob(base, scansJob);
    const scansMs = performance.now() - s0;
    const searchableMs = await searchable;
    process.stdout.write(`scans job ${scans.status} in ${(scansMs / 1000).toFixed(1)} s: OCR ${describeOcr(scans)}, ${(SCANS / (scansMs / 1000)).toFixed(2)} pages/s overall\n`);
    return {
      ...scanRow(`${modeName(mode)} + OCR`, job, ms, searchableMs, startRss, pid),
      'OCR pages during': `${(during.ocr?.pagesDone ?? 0) - (busy.ocr?.pagesDone ?? 0)}${stillOcr ? '' : ' (OCR ended first)'}`,
      'scans job s': (scansMs / 1000).toFixed(1),
    };
  });
}

async function main() {
  const work = await mkdtemp(path.join(tmpdir(), 'docsight-bench-'));
  // Run as root, the embedded PostgreSQL runs as `postgres` and must be able to enter its DATA_DIR.
  await chmod(work, 0o755);
  const root = path.join(work, 'documents');
  try {
    process.stdout.write(`pipeline benchmark: ${N} generated .docx (~40 KB)${SCANS > 0 ? `, ${SCANS} one-page scans` : ''}, ${machine()}\n`);
    const t0 = performance.now();
    const docsRoot = path.join(root, BORN_DIGITAL);
    const docs = await generateDocxFolder(docsRoot, N, { targetKb: 40, companies: 10, projectsPerCompany: 10 });
    if (SCANS > 0) await generateScans(path.join(root, SCANS_DIR), SCANS);
    process.stdout.write(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const floorMs = await floor(docsRoot, docs.map((d) => d.rel));
    const rows: Row[] = [
      {
        mode: 'floor: read + inflate parts',
        documents: N,
        done: N,
        failed: 0,
        seconds: (floorMs / 1000).toFixed(2),
        'docs/s': Math.round(N / (floorMs / 1000)),
        'searchable s': '-',
        'RSS at start MB': '-',
        'peak RSS MB': '-',
      },
    ];
    for (const mode of MODES) {
      rows.push(await runMode(mode, root, work));
      if (SCANS > 0) rows.push(await runWithOcr(mode, root, work));
    }
    // The table takes its columns from the first row: the OCR columns are blank where there was none.
    if (SCANS > 0) {
      for (const row of rows) {
        row['OCR pages during'] ??= '-';
        row['scans job s'] ??= '-';
      }
    }
    process.stdout.write(`${table(rows)}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
