/**
 * Soak: SOAK_DOCS small documents (default 50,000) scanned and extracted by two `docsight worker`
 * processes and one `docsight api` in Redis mode, while autocannon (loopback, bounded in time)
 * asks the API for folder insights at a fixed rate. Reports pipeline throughput, API latency
 * (p50/p99) and errors during the run, peak RSS per process (VmHWM) and documents lost.
 *
 *   node --import tsx bench/soak.ts            # SOAK_DOCS, SOAK_RPS, SOAK_CONNECTIONS, SOAK_HEAP_MB to change
 *
 * Uses the machine's PostgreSQL (a fresh database, dropped after) and Redis (a unique QUEUE_NAME,
 * its keys deleted after). Prints the report; SOAK_OUT=<file> also writes it as Markdown (BENCHMARKS.md
 * is written by hand from such reports, so a plain run never overwrites it).
 *
 * SOAK_BREAKDOWN=1 also says where the slow requests come from (off by default: it adds
 * --trace-gc to the api and a sampler of pg_stat_activity and /proc, small but not nothing):
 * GC pauses of the api, what the api's PostgreSQL sessions were doing (CPU, lock waits, I/O),
 * how busy the machine's CPUs were and who used them, and the latency of the requests in the
 * seconds when the CPUs were saturated against the others.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { generateDocxFolder } from '../test/support/docx-fixtures.ts';
import { freePort, type Proc, startDocsight, waitForHttp } from '../test/support/processes.ts';
import { type AutocannonResult, autocannon, cpuSeconds, envInt, machine, peakRssMb, quantile, table, withClient } from './support.ts';


const DOCS = envInt('SOAK_DOCS', 50_000);
const RPS = envInt('SOAK_RPS', 100);
const CONNECTIONS = envInt('SOAK_CONNECTIONS', 10);
/** V8 heap cap of every process, as `npm start` and the image set it (0: uncapped). */
const HEAP_MB = envInt('SOAK_HEAP_MB', 256);
const BREAKDOWN = envInt('SOAK_BREAKDOWN', 0) === 1;
/**
 * Nice value for the worker processes (0: as started). An experiment, not the default: with the
 * workers below the api in CPU priority, does the api's latency stop depending on them?
 */
const WORKER_NICE = envInt('SOAK_WORKER_NICE', 0);
const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Where the Markdown report goes, if anywhere. */
const OUT = process.env.SOAK_OUT;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Every thread of a process (Linux nice is per thread; new threads inherit their creator's). */
function renice(pid: number | undefined, nice: number): void {
  if (pid === undefined) return;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      setPriority(Number(tid), nice);
    } catch {
      // The thread ended meanwhile.
    }
  }
}

const admin = <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => withClient(SERVER_URL, fn);

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
    // PGAPPNAME names each process's PostgreSQL sessions, so the breakdown can tell them apart.
    const apiStarted = Date.now();
    const apiProc = startDocsight(['api'], { ...common, PORT: String(port), PGAPPNAME: 'soak-api' }, dir, BREAKDOWN ? [...nodeArgs, '--trace-gc'] : nodeArgs);
    procs.push(apiProc);
    await waitForHttp(`${base}/ready`, apiProc);
    const workers = [0, 1].map((i) => startDocsight(['worker'], { ...common, PGAPPNAME: `soak-worker-${i + 1}` }, dir, nodeArgs));
    procs.push(...workers);
    await sleep(2_000);
    if (WORKER_NICE !== 0) for (const w of workers) renice(w.child.pid, WORKER_NICE);

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
    /** [completion time (epoch ms), latency ms] of every request autocannon made. */
    const responses: [number, number][] = [];
    const sampler = BREAKDOWN ? await startSampler(u.toString(), dbName, { api: apiProc.child.pid, 'worker 1': workers[0]?.child.pid, 'worker 2': workers[1]?.child.pid }) : undefined;
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
      inst.on('response', (_c, _s, _b, ms) => responses.push([Date.now(), ms]));
      const poll = setInterval(() => {
        if (WORKER_NICE !== 0) for (const w of workers) renice(w.child.pid, WORKER_NICE);
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
    const samples = await sampler?.stop();
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
    // autocannon's histogram is corrected for coordinated omission with an expected interval of
    // ceil(1 / per-connection rate) = 1 ms (a rate per second taken as ms): every response of L ms
    // adds L − 1 made-up samples below L. These are the latencies of the requests themselves.
    const sorted = responses.map(([, ms]) => ms).sort((a, b) => a - b);
    const real = [quantile(sorted, 0.5), quantile(sorted, 0.9), quantile(sorted, 0.99), sorted.at(-1) ?? Number.NaN];
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
      { metric: 'the same, of the real requests (response events)', value: `${real.map((x) => x.toFixed(1)).join(' / ')} ms (${responses.length} requests)` },
      { metric: 'errors (errors + timeouts + non-2xx)', value: `${errors} (${r.errors} + ${r.timeouts} + ${r.non2xx})` },
      {
        metric: 'root insights after the job (documents / extracted)',
        value: `${rootInsights.documentCount} / ${insightsExtracted} (${rootInsights.documentCount === counts.rows && insightsExtracted === counts.extracted ? 'equal to the rows' : `rows: ${counts.rows} / ${counts.extracted}`})`,
      },
      { metric: 'peak RSS api / worker 1 / worker 2', value: `${rss.join(' / ')} MB` },
    ];
    let breakdown = '';
    if (samples) {
      const b: Breakdown = samples.report(responses, gcPauses(apiProc.output(), apiStarted));
      breakdown = `\nWhere the latency comes from (SOAK_BREAKDOWN=1; load average at the end: ${samples.loadavg}):\n\n\`\`\`\n${table(b)}\n\`\`\`\n`;
    }
    const report = table(rows);
    log(report);
    if (breakdown) log(breakdown);
    const md = `# Soak: ${DOCS} documents through api + 2 workers (Redis) under insights load

Command: \`SOAK_DOCS=${DOCS} SOAK_RPS=${RPS} SOAK_CONNECTIONS=${CONNECTIONS} SOAK_HEAP_MB=${HEAP_MB}${BREAKDOWN ? ' SOAK_BREAKDOWN=1' : ''}${WORKER_NICE ? ` SOAK_WORKER_NICE=${WORKER_NICE}` : ''} node --import tsx bench/soak.ts\`
Machine: ${machine()}; PostgreSQL and Redis on the same machine; ${new Date().toISOString().slice(0, 10)}.
Workers with the defaults (WORKER_CONCURRENCY 4, EXTRACT_THREADS = cores, SCAN_BATCH_SIZE 200), every process
with ${HEAP_MB > 0 ? `--max-old-space-size=${HEAP_MB}` : 'no heap cap'} (as \`npm start\` and the image); generated
.docx files of ~8 KB in 10 companies × 5 projects. Load: autocannon, ${CONNECTIONS} connections at ${RPS} requests/s
over ${folders.length} folders' \`GET /v1/folders/{path}/insights\` (root, companies, projects), from the start of
the scan until the job ended.

Goal: zero errors, zero lost, p99 < 100 ms. The first latency row is autocannon's histogram, as
before; the second, the latencies of the requests themselves (autocannon's \`response\` events): its
histogram adds made-up samples (coordinated-omission correction with a 1 ms expected interval at
${Math.round(RPS / CONNECTIONS)} requests/s per connection), so only the second is "the p99 of the requests".

\`\`\`
${report}
\`\`\`
${breakdown}`;
    if (OUT) {
      await writeFile(OUT, md);
      log(`wrote ${OUT}`);
    }
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

// ---- SOAK_BREAKDOWN: where the slow requests come from ----

type Breakdown = { measure: string; value: string }[];

/**
 * GC pauses of the main thread of a process started with --trace-gc: [time (epoch ms, ±50 ms),
 * pause ms]. Worker threads have isolates (and GC) of their own that do not stop the event loop:
 * the main isolate is taken to be the one with the largest heap.
 */
function gcPauses(output: string, startedAt: number): [number, number][] {
  const byIsolate = new Map<string, { heap: number; pauses: [number, number][] }>();
  // "[pid:0x..]   1234 ms: Scavenge 12.3 (14.5) -> 11.2 (15.5) MB, 0.85 / 0.00 ms  (..."
  const re = /\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: [A-Za-z -]+ [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, ([\d.]+) \/ [\d.]+ ms/g;
  for (const m of output.matchAll(re)) {
    const iso = byIsolate.get(m[1] ?? '') ?? { heap: 0, pauses: [] };
    iso.heap = Math.max(iso.heap, Number(m[3]));
    iso.pauses.push([startedAt + Number(m[2]), Number(m[4])]);
    byIsolate.set(m[1] ?? '', iso);
  }
  return [...byIsolate.values()].sort((a, b) => b.heap - a.heap)[0]?.pauses ?? [];
}

/** The machine's busy and total CPU ticks (all cores). */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(0)}%` : '-');

/**
 * Every 100 ms: what each PostgreSQL session of the soak database is doing (by application_name)
 * and how busy the machine's CPUs are; every second: the CPU time of every process involved.
 */
async function startSampler(url: string, dbName: string, pids: Record<string, number | undefined>) {
  const c = new pg.Client({ connectionString: url, application_name: 'soak-sampler' });
  await c.connect();
  const t0 = machineTicks();
  const selfStart = process.cpuUsage();
  const startCpu = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, p ? cpuSeconds(p) : 0]));
  /** Per second (epoch s): machine busy fraction. */
  const busyBySecond = new Map<number, number>();
  /** Per second: api sessions seen waiting on a lock. */
  const apiLockBySecond = new Map<number, number>();
  /** api session states: "active: CPU", "active: Lock/transactionid", "idle", ... → samples. */
  const apiStates = new Map<string, number>();
  /** Backend pid → [role, last CPU seconds seen, CPU seconds when first seen]. */
  const backends = new Map<number, [string, number, number]>();
  let samples = 0;
  let last = t0;
  let lastSecond = Math.floor(Date.now() / 1000);
  let busyTicks = 0;
  let totalTicks = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const r = await c.query<{ pid: number; app: string; state: string | null; wt: string | null; we: string | null }>(
        `select pid, application_name as app, state, wait_event_type as wt, wait_event as we
         from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
        [dbName],
      );
      samples++;
      const now = Date.now();
      const second = Math.floor(now / 1000);
      for (const row of r.rows) {
        const role = row.app.startsWith('soak-') ? row.app.slice(5) : 'other';
        if (!backends.has(row.pid)) {
          const cpu = cpuSeconds(row.pid);
          backends.set(row.pid, [role, cpu, cpu]);
        }
        if (role !== 'api') continue;
        const state = row.state === 'active' ? `active: ${row.wt ? `${row.wt}/${row.we}` : 'running (CPU)'}` : (row.state ?? 'unknown');
        apiStates.set(state, (apiStates.get(state) ?? 0) + 1);
        if (row.state === 'active' && (row.wt === 'Lock' || row.wt === 'LWLock')) apiLockBySecond.set(second, (apiLockBySecond.get(second) ?? 0) + 1);
      }
      if (second !== lastSecond) {
        const t = machineTicks();
        const busy = t.busy - last.busy;
        const total = t.total - last.total;
        busyBySecond.set(lastSecond, total > 0 ? busy / total : 0);
        busyTicks += busy;
        totalTicks += total;
        last = t;
        lastSecond = second;
        for (const [pid, b] of backends) {
          const cpu = cpuSeconds(pid);
          if (cpu > 0) b[1] = cpu;
        }
      }
      await sleep(100);
    }
  })();

  return {
    async stop() {
      stopped = true;
      await loop;
      await c.end();
      const self = process.cpuUsage(selfStart);
      const selfS = (self.user + self.system) / 1e6;
      const endCpu = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, p ? cpuSeconds(p) : 0]));
      const pgCpu = new Map<string, number>();
      for (const [pid, b] of backends) {
        const cpu = Math.max(cpuSeconds(pid), b[1]);
        pgCpu.set(b[0], (pgCpu.get(b[0]) ?? 0) + cpu - b[2]);
      }
      return {
        loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
        report(responses: [number, number][], gc: [number, number][]): Breakdown {
          const first = responses[0]?.[0] ?? 0;
          const lastAt = responses.at(-1)?.[0] ?? 0;
          const gcIn = gc.filter(([t]) => t >= first - 1000 && t <= lastAt);
          const gcBySecond = new Map<number, number>();
          for (const [t, ms] of gcIn) gcBySecond.set(Math.floor(t / 1000), (gcBySecond.get(Math.floor(t / 1000)) ?? 0) + ms);
          const lat = responses.map(([, ms]) => ms).sort((a, b) => a - b);
          const p99 = quantile(lat, 0.99);
          const slow = responses.filter(([, ms]) => ms >= p99);
          // A request completing at t started at t − latency: the seconds it spanned.
          const spans = (t: number, ms: number, m: Map<number, number>, min: number) => {
            for (let s = Math.floor((t - ms) / 1000); s <= Math.floor(t / 1000); s++) if ((m.get(s) ?? 0) >= min) return true;
            return false;
          };
          const saturated = (t: number, ms: number) => spans(t, ms, busyBySecond, 0.95);
          const inSat = responses.filter(([t, ms]) => saturated(t, ms)).map(([, ms]) => ms).sort((a, b) => a - b);
          const notSat = responses.filter(([t, ms]) => !saturated(t, ms)).map(([, ms]) => ms).sort((a, b) => a - b);
          const gcMs = gcIn.map(([, ms]) => ms).sort((a, b) => a - b);
          const apiSamples = [...apiStates.values()].reduce((a, b) => a + b, 0);
          const states = [...apiStates.entries()].sort((a, b) => b[1] - a[1]);
          const cpuOf = (k: string) => (endCpu[k] ?? 0) - (startCpu[k] ?? 0);
          const pgTotal = [...pgCpu.values()].reduce((a, b) => a + b, 0);
          const wallS = (lastAt - first) / 1000;
          const f1 = (x: number) => x.toFixed(1);
          return [
            { measure: 'requests recorded (response events) / latency p50 / p99 of them', value: `${lat.length} / ${f1(quantile(lat, 0.5))} / ${f1(p99)} ms` },
            { measure: 'machine CPU busy (all cores) during the run', value: pct(busyTicks, totalTicks) },
            { measure: 'seconds with CPUs ≥ 95% busy', value: `${[...busyBySecond.values()].filter((b) => b >= 0.95).length} of ${busyBySecond.size}` },
            { measure: 'latency p50 / p99, requests in saturated seconds', value: `${f1(quantile(inSat, 0.5))} / ${f1(quantile(inSat, 0.99))} ms (${inSat.length} requests)` },
            { measure: 'latency p50 / p99, requests in other seconds', value: `${f1(quantile(notSat, 0.5))} / ${f1(quantile(notSat, 0.99))} ms (${notSat.length} requests)` },
            { measure: 'slowest 1% (≥ p99): share spanning a saturated second', value: pct(slow.filter(([t, ms]) => saturated(t, ms)).length, slow.length) },
            { measure: 'slowest 1%: share spanning a second with ≥ 10 ms of api GC', value: pct(slow.filter(([t, ms]) => spans(t, ms, gcBySecond, 10)).length, slow.length) },
            { measure: 'slowest 1%: share spanning a second with an api session on a lock', value: pct(slow.filter(([t, ms]) => spans(t, ms, apiLockBySecond, 1)).length, slow.length) },
            { measure: 'api GC pauses (main thread): count / total / p99 / max', value: `${gcMs.length} / ${Math.round(gcMs.reduce((a, b) => a + b, 0))} ms / ${f1(quantile(gcMs, 0.99))} / ${f1(gcMs.at(-1) ?? 0)} ms` },
            { measure: 'api GC pause time / wall time', value: pct(gcMs.reduce((a, b) => a + b, 0) / 1000, wallS) },
            { measure: `api PostgreSQL sessions, ${samples} samples (100 ms)`, value: states.map(([k, n]) => `${k} ${pct(n, apiSamples)}`).join(', ') },
            {
              measure: 'CPU seconds: api / worker 1 / worker 2 (node)',
              value: `${f1(cpuOf('api'))} / ${f1(cpuOf('worker 1'))} / ${f1(cpuOf('worker 2'))} s`,
            },
            {
              measure: 'CPU seconds: PostgreSQL sessions of api / workers / other',
              value: `${f1(pgCpu.get('api') ?? 0)} / ${f1((pgCpu.get('worker-1') ?? 0) + (pgCpu.get('worker-2') ?? 0))} / ${f1(pgCpu.get('other') ?? 0)} s (of ${f1(pgTotal)} s)`,
            },
            { measure: 'CPU seconds: this process (autocannon, sampler)', value: `${f1(selfS)} s` },
            {
              measure: 'CPU seconds: everything else on the machine (other work)',
              value: `${f1(busyTicks / 100 - selfS - pgTotal - cpuOf('api') - cpuOf('worker 1') - cpuOf('worker 2'))} s`,
            },
            { measure: 'CPU seconds busy / available (cores × wall)', value: `${f1(busyTicks / 100)} / ${f1(totalTicks / 100)} s over ${f1(wallS)} s` },
          ];
        },
      };
    },
  };
}

await main();
