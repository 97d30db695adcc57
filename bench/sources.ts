/**
 * Benchmark (issue 17): scanning N small objects from a loopback S3-compatible server (s3rver,
 * in this process) against the same tree on local disk, through the whole service as a user runs
 * it (`docsight start` in a child process on the machine's PostgreSQL: HTTP, queue, worker
 * threads). Then an incremental rescan of each with 1% of the documents changed. Goals: the
 * bucket scan at least 70% of the local one's docs/s; the incremental rescan under 5% of the full
 * scan's time. Also: the bare listing (ListObjectsV2 pages, no service) as the bucket's floor,
 * listing and GETting every object with the worker's requests in flight (no service) as the
 * bucket scan's floor, per-page listing latency, the service's peak RSS (VmHWM, worker
 * threads included), and CPU time per document of each step: the service (all its threads), its
 * database's PostgreSQL sessions, the S3 server (and, for the floors, the bench's own client), and
 * the whole machine's busy time (which includes whatever else runs on it).
 *
 *   npm run bench:sources                       (BENCH_OBJECTS=20000 by default)
 *   BENCH_OBJECTS=500 npm run bench:sources     (a quick sanity run)
 *   BENCH_QUEUE=redis                           (BullMQ on REDIS_URL instead of the PostgreSQL queue)
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import pg from 'pg';
import { freePort, startDocsight, waitForHttp } from '../test/support/processes.ts';
import { s3SourceBody, startS3 } from '../test/support/s3.ts';
import { readFileSync } from 'node:fs';
import { cpuSeconds, envInt, machine, peakRssMb, quantile, table } from './support.ts';

const N = envInt('BENCH_OBJECTS', 20_000);
const CHANGED = Math.max(1, Math.round(N / 100));
const QUEUE = process.env.BENCH_QUEUE ?? 'postgres';
const PG_SERVER = process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BUCKET = 'bench-docs';
const SOURCE = 'bucket';
const LOCAL = 'tree';
/** GETs in flight for the GET floor: what one worker process keeps (extraction.service.ts). */
const GET_IN_FLIGHT = envInt('BENCH_GET_IN_FLIGHT', 16);

type Row = Record<string, string | number>;
interface JobView {
  id: string;
  status: string;
  progress: { total: number; done: number; failed: number; skipped: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Busy CPU seconds of the whole machine so far (/proc/stat: all but idle and iowait). */
function machineBusySeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  return (cpu.reduce((a, b) => a + b, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0)) / 100;
}

/** CPU seconds so far of: the service, its database's sessions (pids seen so far), the S3 server, this process, the machine. */
interface CpuMark {
  service: number;
  pg: number;
  s3: number;
  bench: number;
  machine: number;
}

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: PG_SERVER });
  await c.connect();
  await c.query(sql);
  await c.end();
}

/** The i-th document: a folder per 100 in a two-level tree, a few hundred bytes of text. */
function docOf(i: number, edition = 1): { rel: string; text: string } {
  const company = `Company ${String(Math.floor(i / 1000)).padStart(3, '0')}`;
  const project = `Project ${String(Math.floor(i / 100) % 10)}`;
  const text = `Document ${i}, edition ${edition}. ${'Minutes of the project meeting about the delivery schedule and the budget. '.repeat(4)}`;
  return { rel: `${company}/${project}/note-${String(i).padStart(6, '0')}.txt`, text };
}

/** Run `fn` over 0..count-1 with `limit` in flight. */
async function each(count: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

async function call<T>(base: string, method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${url}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** A scan from its request to its job's end, in ms. */
async function timedScan(base: string, folder: string): Promise<{ job: JobView; ms: number }> {
  const t0 = performance.now();
  const { id } = await call<{ id: string }>(base, 'POST', '/v1/scans', { path: folder });
  for (;;) {
    const job = await call<JobView>(base, 'GET', `/v1/jobs/${id}`);
    if (job.status !== 'queued' && job.status !== 'running') return { job, ms: performance.now() - t0 };
    await sleep(25);
  }
}

async function main() {
  const work = await mkdtemp(path.join(tmpdir(), 'docsight-bench-sources-'));
  const root = path.join(work, 'documents');
  const s3 = await startS3([BUCKET]);
  const dbName = `docsight_bench_${Date.now().toString(36)}`;
  await admin(`create database ${dbName}`);
  let proc: ReturnType<typeof startDocsight> | undefined;
  try {
    process.stdout.write(`sources benchmark: ${N} small text objects, ${CHANGED} changed for the rescan, ${QUEUE} queue, ${machine()}\n`);
    const g0 = performance.now();
    await each(N, 32, async (i) => {
      const d = docOf(i);
      await mkdir(path.dirname(path.join(root, LOCAL, d.rel)), { recursive: true });
      await writeFile(path.join(root, LOCAL, d.rel), d.text);
      await s3.put(BUCKET, d.rel, d.text);
    });
    process.stdout.write(`generated on disk and in the bucket in ${((performance.now() - g0) / 1000).toFixed(1)} s\n`);

    // CPU of the floors (no service yet): the S3 server, this process (the client), the machine.
    const floorMark = (): CpuMark => {
      const own = process.cpuUsage();
      return { service: 0, pg: 0, s3: s3.pid === undefined ? 0 : cpuSeconds(s3.pid), bench: (own.user + own.system) / 1e6, machine: machineBusySeconds() };
    };
    const f0 = floorMark();
    // The floor: listing the bucket alone, page by page.
    const pageMs: number[] = [];
    const l0 = performance.now();
    let token: string | undefined;
    let listed = 0;
    do {
      const p0 = performance.now();
      const page: ListObjectsV2CommandOutput = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, ...(token ? { ContinuationToken: token } : {}) }));
      pageMs.push(performance.now() - p0);
      listed += page.Contents?.length ?? 0;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const listMs = performance.now() - l0;
    const f1 = floorMark();
    pageMs.sort((a, b) => a - b);

    // The bucket scan's floor: list again and GET every object's body, GET_IN_FLIGHT at a time (as the
    // worker keeps them), no docsight: what the test server itself can serve.
    const g1 = performance.now();
    const keys: string[] = [];
    token = undefined;
    do {
      const page: ListObjectsV2CommandOutput = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    let bytes = 0;
    await each(keys.length, GET_IN_FLIGHT, async (i) => {
      const res = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: keys[i] }));
      bytes += (await res.Body?.transformToByteArray())?.length ?? 0;
    });
    const getMs = performance.now() - g1;
    const f2 = floorMark();
    /** A floor's CPU per document: the bench's client stands where the service would. */
    const floorCpu = (a: CpuMark, b: CpuMark, docs: number): Row => {
      const per = (k: keyof CpuMark) => (((b[k] - a[k]) * 1000) / Math.max(1, docs)).toFixed(2);
      return { 'svc ms/doc': `${per('bench')} (client)`, 'pg ms/doc': '-', 's3 ms/doc': per('s3'), 'machine ms/doc': per('machine') };
    };

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const u = new URL(PG_SERVER);
    u.pathname = `/${dbName}`;
    const env: Record<string, string> = {
      DOCS_ROOT: root,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      DATABASE_URL: u.toString(),
      QUEUE_NAME: `bench${Date.now().toString(36)}`,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      ...(QUEUE === 'redis' ? { REDIS_URL } : {}),
    };
    // The same V8 heap cap as `npm start` (package.json).
    proc = startDocsight(['start'], env, work, ['--max-old-space-size=256']);
    await waitForHttp(`${base}/ready`, proc);
    const pid = proc.child.pid;
    await call(base, 'POST', '/v1/sources', s3SourceBody(s3, SOURCE, BUCKET));

    const pgSeen = new Map<number, number>();
    const cpuMark = async (): Promise<CpuMark> => {
      const c = new pg.Client({ connectionString: u.toString() });
      await c.connect();
      const r = await c.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
      await c.end();
      for (const { pid: p } of r.rows) pgSeen.set(p, Math.max(pgSeen.get(p) ?? 0, cpuSeconds(p)));
      let pgTotal = 0;
      for (const [p, was] of pgSeen) {
        const now = Math.max(was, cpuSeconds(p));
        pgSeen.set(p, now);
        pgTotal += now;
      }
      const own = process.cpuUsage();
      return { service: pid === undefined ? 0 : cpuSeconds(pid), pg: pgTotal, s3: s3.pid === undefined ? 0 : cpuSeconds(s3.pid), bench: (own.user + own.system) / 1e6, machine: machineBusySeconds() };
    };
    /** CPU ms per document between two marks, by whom. */
    const cpuRow = (a: CpuMark, b: CpuMark, docs: number): Row => {
      const per = (k: keyof CpuMark) => (((b[k] - a[k]) * 1000) / Math.max(1, docs)).toFixed(2);
      return { 'svc ms/doc': per('service'), 'pg ms/doc': per('pg'), 's3 ms/doc': per('s3'), 'machine ms/doc': per('machine') };
    };

    const rows: Row[] = [];
    const row = (what: string, job: JobView, ms: number, extra: Row = {}): Row => ({
      scan: what,
      documents: job.progress.total,
      extracted: job.progress.done,
      skipped: job.progress.skipped,
      failed: job.progress.failed,
      status: job.status,
      seconds: (ms / 1000).toFixed(2),
      'docs/s': Math.round(job.progress.total / (ms / 1000)),
      ...extra,
    });
    rows.push({ scan: 'floor: list the bucket', documents: listed, extracted: '-', skipped: '-', failed: '-', status: '-', seconds: (listMs / 1000).toFixed(2), 'docs/s': Math.round(listed / (listMs / 1000)), vs: '-', ...floorCpu(f0, f1, listed) });
    rows.push({ scan: `floor: list + GET all (${GET_IN_FLIGHT} in flight)`, documents: keys.length, extracted: '-', skipped: '-', failed: '-', status: '-', seconds: (getMs / 1000).toFixed(2), 'docs/s': Math.round(keys.length / (getMs / 1000)), vs: `${(bytes / 1e6).toFixed(1)} MB`, ...floorCpu(f1, f2, keys.length) });

    const m0 = await cpuMark();
    const local = await timedScan(base, LOCAL);
    const m1 = await cpuMark();
    rows.push(row('local disk, full', local.job, local.ms, { vs: '-', ...cpuRow(m0, m1, local.job.progress.total) }));
    const bucket = await timedScan(base, SOURCE);
    const m2 = await cpuMark();
    const ratio = local.ms / bucket.ms;
    rows.push(row('bucket, full', bucket.job, bucket.ms, { vs: `${Math.round(ratio * 100)}% of local docs/s (goal >= 70%); ${(bucket.ms / getMs).toFixed(2)} x the GET floor`, ...cpuRow(m1, m2, bucket.job.progress.total) }));

    // 1% changed: new content in the same files and objects (spread over the tree).
    const step = Math.floor(N / CHANGED);
    for (let k = 0; k < CHANGED; k++) {
      const d = docOf(k * step, 2);
      await writeFile(path.join(root, LOCAL, d.rel), d.text);
      await s3.put(BUCKET, d.rel, d.text);
    }
    const m3 = await cpuMark();
    const localAgain = await timedScan(base, LOCAL);
    const m4 = await cpuMark();
    rows.push(row('local disk, 1% changed', localAgain.job, localAgain.ms, { vs: `${((localAgain.ms / local.ms) * 100).toFixed(1)}% of its full scan (goal < 5%)`, ...cpuRow(m3, m4, localAgain.job.progress.total) }));
    const bucketAgain = await timedScan(base, SOURCE);
    const m5 = await cpuMark();
    rows.push(row('bucket, 1% changed', bucketAgain.job, bucketAgain.ms, { vs: `${((bucketAgain.ms / bucket.ms) * 100).toFixed(1)}% of its full scan (goal < 5%); ${(bucketAgain.ms / listMs).toFixed(2)} x the list floor`, ...cpuRow(m4, m5, bucketAgain.job.progress.total) }));

    process.stdout.write(`${table(rows)}\n`);
    process.stdout.write(
      `listing latency per page of 1000 keys: p50 ${quantile(pageMs, 0.5).toFixed(1)} ms, p95 ${quantile(pageMs, 0.95).toFixed(1)} ms (${pageMs.length} pages)\n` +
        `service peak RSS: ${peakRssMb(pid)} MB\n`,
    );
  } finally {
    await proc?.stop('SIGTERM');
    await s3.close();
    await admin(`drop database if exists ${dbName} with (force)`);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
