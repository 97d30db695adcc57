/**
 * Soak: SOAK_DOCS small documents (default 50,000) scanned and extracted by two `docsight worker`
 * processes and one `docsight api` in Redis mode, while autocannon (loopback, bounded in time)
 * asks the API for folder insights at a fixed rate. Reports pipeline throughput, API latency
 * (p50/p99) and errors during the run, peak RSS per process (VmHWM) and documents lost.
 *
 *   node --import tsx bench/soak.ts            # SOAK_DOCS, SOAK_RPS, SOAK_CONNECTIONS, SOAK_HEAP_MB to change
 *
 * Uses the machine's PostgreSQL (a fresh database, dropped after) and Redis (a unique QUEUE_NAME,
 * its keys deleted after). Writes bench/RESULTS-soak.md.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { generateDocxFolder } from '../test/support/docx-fixtures.ts';
import { freePort, type Proc, startDocsight, waitForHttp } from '../test/support/processes.ts';
import { envInt, machine, table } from './support.ts';

/** The part of autocannon's programmatic API used here (the package ships no types). */
interface AutocannonResult {
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  requests: { total: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
interface AutocannonInstance {
  stop(): void;
}
type Autocannon = (
  opts: { url: string; connections: number; duration: number; overallRate?: number; requests: { method: 'GET'; path: string }[] },
  done: (err: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;
// autocannon is CommonJS without type declarations: require it and give it the shape above.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const DOCS = envInt('SOAK_DOCS', 50_000);
const RPS = envInt('SOAK_RPS', 100);
const CONNECTIONS = envInt('SOAK_CONNECTIONS', 10);
/** V8 heap cap of every process, as `npm start` and the image set it (0: uncapped). */
const HEAP_MB = envInt('SOAK_HEAP_MB', 256);
const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Where the report goes (trial runs can write elsewhere). */
const OUT = process.env.SOAK_OUT ?? path.join(import.meta.dirname, 'RESULTS-soak.md');

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Peak resident set of a child process (kernel's high-water mark), MB. */
function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: SERVER_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

interface JobView {
  status: string;
  progress: { total: number; done: number; failed: number; skipped: number };
  startedAt: string | null;
  finishedAt: string | null;
}

async function getJob(base: string, id: string): Promise<JobView> {
  const r = await fetch(`${base}/v1/jobs/${id}`);
  return (await r.json()) as JobView;
}

async function main(): Promise<void> {
  const stamp = Date.now().toString(36);
  const dbName = `docsight_soak_${stamp}`;
  const queueName = `soak${stamp}`;
  const dir = await mkdtemp(path.join(tmpdir(), 'docsight-soak-'));
  const docsRoot = path.join(dir, 'documents');
  const procs: Proc[] = [];
  let dbCreated = false;
  try {
    let t = Date.now();
    await generateDocxFolder(docsRoot, DOCS, { targetKb: 8, companies: 10, projectsPerCompany: 5 });
    log(`generated ${DOCS} documents in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    await admin((c) => c.query(`create database ${dbName}`));
    dbCreated = true;
    const u = new URL(SERVER_URL);
    u.pathname = `/${dbName}`;
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const common = { DATABASE_URL: u.toString(), REDIS_URL, QUEUE_NAME: queueName, DOCS_ROOT: docsRoot, DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'warn' };
    const nodeArgs = HEAP_MB > 0 ? [`--max-old-space-size=${HEAP_MB}`] : [];
    const apiProc = startDocsight(['api'], { ...common, PORT: String(port) }, dir, nodeArgs);
    procs.push(apiProc);
    await waitForHttp(`${base}/ready`, apiProc);
    const workers = [0, 1].map(() => startDocsight(['worker'], { ...common }, dir, nodeArgs));
    procs.push(...workers);
    await sleep(2_000);

    // Insights of the root, of companies and of projects: the API's heaviest read.
    const folders = ['%2E', ...Array.from({ length: 10 }, (_, i) => encodeURIComponent(`Company ${String.fromCharCode(65 + i)}`))];
    folders.push(...['A', 'C', 'E'].map((c) => encodeURIComponent(`Company ${c}/Project 2`)));
    for (const f of folders) {
      const r = await fetch(`${base}/v1/folders/${f}/insights`);
      if (r.status !== 200) throw new Error(`insights of ${f} answered ${r.status}: ${await r.text()}`);
    }

    t = Date.now();
    const start = (await (await fetch(`${base}/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: '.' }) })).json()) as { id: string };
    let result: AutocannonResult | undefined;
    let loadError: Error | null = null;
    const loadDone = new Promise<void>((resolve) => {
      const inst = autocannon(
        {
          url: base,
          connections: CONNECTIONS,
          overallRate: RPS,
          // Bounded: never longer than 30 minutes, and stopped as soon as the job ends.
          duration: 1_800,
          requests: folders.map((f) => ({ method: 'GET' as const, path: `/v1/folders/${f}/insights` })),
        },
        (err, res) => {
          loadError = err;
          result = res;
          resolve();
        },
      );
      const poll = setInterval(() => {
        getJob(base, start.id)
          .then((j) => {
            if (j.status !== 'queued' && j.status !== 'running') {
              clearInterval(poll);
              inst.stop();
            }
          })
          .catch(() => undefined);
      }, 1_000);
    });
    await loadDone;
    if (loadError) throw loadError;
    const job = await getJob(base, start.id);
    const wall = (Date.now() - t) / 1000;
    const rss = procs.map((p) => peakRssMb(p.child.pid));
    const counts = await admin(async () => {
      const c = new pg.Client({ connectionString: u.toString() });
      await c.connect();
      try {
        const r = await c.query<{ extracted: number; rows: number; dup: number }>(
          `select count(*) filter (where status = 'extracted')::int as extracted, count(*)::int as rows,
                  count(*) filter (where extraction_count > 1)::int as dup from documents`,
        );
        return r.rows[0] ?? { extracted: 0, rows: 0, dup: 0 };
      } finally {
        await c.end();
      }
    });
    // Insights are exact, not eventually consistent: once the job ended, the root's counts are the rows'.
    const rootInsights = (await (await fetch(`${base}/v1/folders/%2E/insights`)).json()) as {
      documentCount: number;
      byStatus: { key: string | null; count: number }[];
    };
    const insightsExtracted = rootInsights.byStatus.find((b) => b.key === 'extracted')?.count ?? 0;
    const jobSeconds = job.startedAt && job.finishedAt ? (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000 : wall;
    const r = result as AutocannonResult | undefined;
    if (!r) throw new Error('autocannon returned no result');
    const errors = r.errors + r.timeouts + r.non2xx;
    const rows = [
      { metric: 'documents (files)', value: DOCS },
      { metric: 'job', value: `${job.status} ${job.progress.done} done, ${job.progress.failed} failed, ${job.progress.skipped} skipped` },
      { metric: 'extracted rows', value: counts.extracted },
      { metric: 'lost (files − extracted)', value: DOCS - counts.extracted },
      { metric: 'extracted more than once', value: counts.dup },
      { metric: 'pipeline time (job start → end)', value: `${jobSeconds.toFixed(1)} s` },
      { metric: 'throughput', value: `${Math.round(DOCS / jobSeconds)} documents/s` },
      { metric: 'insights requests during the run', value: `${r.requests.total} (${Math.round(r.requests.average)}/s, target ${RPS}/s, ${CONNECTIONS} connections)` },
      { metric: 'insights latency p50 / p90 / p99 / max', value: `${r.latency.p50} / ${r.latency.p90} / ${r.latency.p99} / ${r.latency.max} ms` },
      { metric: 'errors (errors + timeouts + non-2xx)', value: `${errors} (${r.errors} + ${r.timeouts} + ${r.non2xx})` },
      {
        metric: 'root insights after the job (documents / extracted)',
        value: `${rootInsights.documentCount} / ${insightsExtracted} (${rootInsights.documentCount === counts.rows && insightsExtracted === counts.extracted ? 'equal to the rows' : `rows: ${counts.rows} / ${counts.extracted}`})`,
      },
      { metric: 'peak RSS api / worker 1 / worker 2', value: `${rss.join(' / ')} MB` },
    ];
    const report = table(rows);
    log(report);
    const md = `# Soak: ${DOCS} documents through api + 2 workers (Redis) under insights load

Command: \`SOAK_DOCS=${DOCS} SOAK_RPS=${RPS} SOAK_CONNECTIONS=${CONNECTIONS} SOAK_HEAP_MB=${HEAP_MB} node --import tsx bench/soak.ts\`
Machine: ${machine()}; PostgreSQL and Redis on the same machine; ${new Date().toISOString().slice(0, 10)}.
Workers with the defaults (WORKER_CONCURRENCY 4, EXTRACT_THREADS = cores, SCAN_BATCH_SIZE 200), every process
with ${HEAP_MB > 0 ? `--max-old-space-size=${HEAP_MB}` : 'no heap cap'} (as \`npm start\` and the image); generated
.docx files of ~8 KB in 10 companies × 5 projects. Load: autocannon, ${CONNECTIONS} connections at ${RPS} requests/s
over ${folders.length} folders' \`GET /v1/folders/{path}/insights\` (root, companies, projects), from the start of
the scan until the job ended.

Goal: zero errors, zero lost, p99 < 100 ms.

\`\`\`
${report}
\`\`\`
`;
    await writeFile(OUT, md);
    log(`wrote ${OUT}`);
  } finally {
    await Promise.all(procs.map((p) => p.stop('SIGTERM', 30_000)));
    if (dbCreated) await admin((c) => c.query(`drop database if exists ${dbName} with (force)`)).catch((e: unknown) => log(`drop failed: ${String(e)}`));
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`*${queueName}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
