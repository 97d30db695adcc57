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
 *   npm run bench:pipeline            (BENCH_DOCS=10000 by default; BENCH_MODES=embedded,redis)
 */
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import pg from 'pg';
import { generateDocxFolder } from '../test/support/docx-fixtures.ts';
import { freePort, startDocsight, waitForHttp } from '../test/support/processes.ts';
import { envInt, machine, peakRssMb, table } from './support.ts';

const N = envInt('BENCH_DOCS', 10_000);
const MODES = (process.env.BENCH_MODES ?? 'embedded,redis').split(',');
const PG_SERVER = process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

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

async function runMode(mode: string, root: string, work: string): Promise<Record<string, string | number>> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = { DOCS_ROOT: root, PORT: String(port), LOG_LEVEL: 'warn', QUEUE_NAME: `bench${Date.now().toString(36)}` };
  let dbName: string | undefined;
  if (mode === 'embedded') {
    env.DATA_DIR = path.join(work, 'data-embedded');
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
    const startRss = peakRssMb(proc.child.pid);
    const t0 = performance.now();
    const res = await fetch(`${base}/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: '.' }) });
    const job = (await res.json()) as { id: string };
    let status = 'queued';
    let progress = { done: 0, failed: 0 };
    while (status === 'queued' || status === 'running') {
      await new Promise((r) => setTimeout(r, 100));
      const j = (await (await fetch(`${base}/v1/jobs/${job.id}`)).json()) as { status: string; progress: typeof progress };
      status = j.status;
      progress = j.progress;
    }
    const ms = performance.now() - t0;
    let unindexed = 1;
    while (unindexed > 0) {
      const r = (await (await fetch(`${base}/v1/search?limit=1`)).json()) as { unindexed?: number };
      unindexed = r.unindexed ?? 0;
      if (unindexed > 0) await new Promise((r) => setTimeout(r, 100));
    }
    const searchableMs = performance.now() - t0;
    return {
      mode: mode === 'embedded' ? 'embedded (PG queue)' : 'redis (BullMQ)',
      documents: N,
      done: progress.done,
      failed: progress.failed,
      seconds: (ms / 1000).toFixed(2),
      'docs/s': Math.round(N / (ms / 1000)),
      'searchable s': (searchableMs / 1000).toFixed(2),
      'RSS at start MB': startRss,
      'peak RSS MB': peakRssMb(proc.child.pid),
    };
  } finally {
    await proc.stop('SIGTERM');
    if (dbName) await admin(`drop database if exists ${dbName} with (force)`);
  }
}

async function main() {
  const work = await mkdtemp(path.join(tmpdir(), 'docsight-bench-'));
  // Run as root, the embedded PostgreSQL runs as `postgres` and must be able to enter its DATA_DIR.
  await chmod(work, 0o755);
  const root = path.join(work, 'documents');
  try {
    process.stdout.write(`pipeline benchmark: ${N} generated .docx (~40 KB), ${machine()}\n`);
    const t0 = performance.now();
    const docs = await generateDocxFolder(root, N, { targetKb: 40, companies: 10, projectsPerCompany: 10 });
    process.stdout.write(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const floorMs = await floor(root, docs.map((d) => d.rel));
    const rows: Record<string, string | number>[] = [
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
    for (const mode of MODES) rows.push(await runMode(mode, root, work));
    process.stdout.write(`${table(rows)}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
