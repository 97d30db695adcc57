/**
 * Benchmark: the tail of the original design's routes and of folder insights (issue 19, "Faster
 * than the original at the tail").
 *
 * 1. For each tree (TAIL_BEFORE, a commit, default 0b0e5b0: the last commit of the session that
 *    filed issue 19, where its side-by-side measurement was taken; then this tree), alternating
 *    TAIL_ROUNDS (1) times: a fresh database on the machine's PostgreSQL, TAIL_DOCS (400) generated
 *    .docx files, `docsight start` (API + workers, PostgreSQL queue) in a child process with
 *    --max-old-space-size=TAIL_HEAP_MB (256, as `npm start`), the folder scanned through the
 *    original design's route (count_files on an unscanned folder starts the scan). Then autocannon,
 *    TAIL_CONNECTIONS (16) connections, a TAIL_WARM_SECONDS (3) warm-up run and a TAIL_SECONDS (10)
 *    measured run, on `GET /folder-insights/{folder}/count_files` and on
 *    `.../get_folder_files_metadata?limit=10`: req/s, and p50/p99/max of the requests themselves
 *    (autocannon's `response` events: its histogram adds coordinated-omission samples, see
 *    bench/soak.ts), errors, and the server's peak RSS (VmHWM). The before tree runs from a
 *    temporary `git worktree` (/tmp/tail-before) with this checkout's node_modules linked in,
 *    removed afterwards; TAIL_BEFORE='' skips it.
 * 2. The original's req/s, which the issue gives only as ratios (docsight 3.3× on count_files,
 *    1.3× on get_folder_files_metadata at the before commit): before / 3.3 and before / 1.3, or
 *    BENCH_ORIGINAL_COUNT_RPS / BENCH_ORIGINAL_METADATA_RPS. Judged: this tree ≥ 2× the original's
 *    req/s, p99 < 37 ms (count_files) and < 62 ms (get_folder_files_metadata), the original's p99s.
 * 3. Folder insights at TAIL_INSIGHTS_DOCS (100,000; 0 skips it): a dedicated database
 *    (docsight_bench_tail, kept and reused) gets the documents by COPY (the summary triggers on:
 *    one statement), `docsight api` against it, and the same load on `GET /v1/folders/{path}/insights`
 *    of the root (every document) and, in a second run, of 20 client folders in turn. Goal: p99 < 20 ms.
 *
 *   flock /tmp/docsight-bench.lock npm run bench:tail
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { generateDocxFolder } from '../test/support/docx-fixtures.ts';
import { freePort } from '../test/support/processes.ts';
import { waitFor } from '../test/support/wait.ts';
import { autocannon, cpuSeconds, databaseUrl, envInt, machine, openBenchDatabase, peakRssMb, quantile, table, withClient } from './support.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const DOCS = envInt('TAIL_DOCS', 400);
const INSIGHTS_DOCS = envInt('TAIL_INSIGHTS_DOCS', 100_000);
const CONNECTIONS = envInt('TAIL_CONNECTIONS', 16);
const SECONDS = envInt('TAIL_SECONDS', 10);
const WARM_SECONDS = envInt('TAIL_WARM_SECONDS', 3);
const HEAP_MB = envInt('TAIL_HEAP_MB', 256);
const ROUNDS = envInt('TAIL_ROUNDS', 1);
const BEFORE = process.env.TAIL_BEFORE ?? '0b0e5b0';
const SERVER = process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const INSIGHTS_DB = process.env.TAIL_INSIGHTS_DATABASE ?? 'docsight_bench_tail';
/** The issue's ratios at the before commit: docsight's req/s over the original's. */
const RATIO = { count: 3.3, metadata: 1.3 };
/** The original's p99 (ms), from the issue. */
const ORIGINAL_P99 = { count: 37, metadata: 62 };
const INSIGHTS_P99_GOAL = 20;
/** More node flags for the server (--cpu-prof, --trace-gc), for profiling. */
const NODE_ARGS = (process.env.TAIL_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** The folder the 400 documents are generated in. */
const FOLDER = 'Clients';

const log = (line: string) => process.stdout.write(`${line}\n`);

const dbUrl = (name: string): string => databaseUrl(SERVER, name);

const admin = <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => withClient(SERVER, fn);

/** A docsight process of some tree, its output going to a file (as a log collector would take it). */
interface Server {
  child: ChildProcess;
  base: string;
  logFile: string;
  stop(): Promise<void>;
}

async function startServer(tree: string, command: 'start' | 'api', env: Record<string, string>, dir: string): Promise<Server> {
  const port = await freePort();
  const logFile = path.join(dir, `${command}-${port}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, ...NODE_ARGS, path.join(tree, 'bin', 'docsight.js'), command], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PORT: String(port), ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`docsight ${command} exited (${child.exitCode}):\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
      const r = await fetch(`${base}/ready`).catch(() => null);
      return r?.status === 200;
    },
    { what: `${base}/ready`, timeoutMs: 120_000, intervalMs: 200 },
  );
  return {
    child,
    base,
    logFile,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** What one load run saw: the requests' own latencies (ms, ascending), and CPU per request. */
interface Load {
  rps: number;
  latencies: number[];
  errors: number;
  /** CPU ms per request of the server process and of its database's PostgreSQL sessions. */
  cpu?: { node: number; pg: number };
}

/** CPU time (user + system) of a process so far, in ms (0 once it is gone). */
const cpuMs = (pid: number): number => cpuSeconds(pid) * 1000;

/** CPU ms of the server and of the PostgreSQL sessions of its database, read now (sessions by pid). */
async function cpuOf(pid: number, dbName: string, seen: Map<number, number>): Promise<{ node: number; pg: number }> {
  const r = await admin((c) => c.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [dbName]));
  for (const row of r.rows) seen.set(row.pid, Math.max(seen.get(row.pid) ?? 0, cpuMs(row.pid)));
  let pgMs = 0;
  for (const [p, ms] of seen) {
    const now = Math.max(ms, cpuMs(p));
    seen.set(p, now);
    pgMs += now;
  }
  return { node: cpuMs(pid), pg: pgMs };
}

/**
 * Until the server is idle (under 30 ms of CPU in a second, at most a minute): the work a scan
 * leaves behind (search indexing, signatures) is not what is measured.
 */
async function quiet(pid: number): Promise<void> {
  const until = Date.now() + 60_000;
  let last = cpuMs(pid);
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = cpuMs(pid);
    if (now - last < 30) return;
    last = now;
  }
}

function load(base: string, paths: string[], seconds: number): Promise<Load> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const inst = autocannon(
      { url: base, connections: CONNECTIONS, duration: seconds, requests: paths.map((p) => ({ method: 'GET' as const, path: p })) },
      (err, res) => {
        if (err) return reject(err);
        latencies.sort((a, b) => a - b);
        resolve({ rps: latencies.length / res.duration, latencies, errors: res.errors + res.timeouts + res.non2xx });
      },
    );
    inst.on('response', (_c, _s, _b, ms) => latencies.push(ms));
  });
}

/** Warm-up, then the measured run, with the CPU it cost the server and its database sessions. */
async function measure(base: string, paths: string[], server: { pid: number; dbName: string }): Promise<Load> {
  if (WARM_SECONDS > 0) await load(base, paths, WARM_SECONDS);
  const seen = new Map<number, number>();
  const c0 = await cpuOf(server.pid, server.dbName, seen);
  const l = await load(base, paths, SECONDS);
  const c1 = await cpuOf(server.pid, server.dbName, seen);
  const n = Math.max(1, l.latencies.length);
  return { ...l, cpu: { node: (c1.node - c0.node) / n, pg: (c1.pg - c0.pg) / n } };
}

interface TreeRun {
  tree: string;
  round: number;
  count: Load;
  metadata: Load;
  rssMb: number;
  load: string;
}

const la = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** One tree: fresh database and folder, `docsight start`, the scan, then both routes under load. */
async function runTree(label: string, tree: string, round: number): Promise<TreeRun> {
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const dbName = `docsight_tail_${stamp}`;
  const dir = await mkdtemp(path.join(tmpdir(), 'docsight-tail-'));
  const docsRoot = path.join(dir, 'documents');
  await generateDocxFolder(path.join(docsRoot, FOLDER), DOCS, { targetKb: 8, companies: 4, projectsPerCompany: 5 });
  await admin((c) => c.query(`create database ${dbName}`));
  let server: Server | undefined;
  try {
    server = await startServer(tree, 'start', { DATABASE_URL: dbUrl(dbName), DOCS_ROOT: docsRoot, DATA_DIR: path.join(dir, 'data'), OCR: 'off' }, dir);
    const base = server.base;
    const folderUrl = `/folder-insights/${FOLDER}`;
    const started = await fetch(`${base}${folderUrl}/count_files`);
    const job = (await started.json()) as { job_id?: string };
    if (started.status !== 202 || !job.job_id) throw new Error(`count_files of an unscanned folder answered ${started.status}`);
    await waitFor(
      async () => {
        const j = (await (await fetch(`${base}/v1/jobs/${job.job_id}`)).json()) as { status: string };
        if (j.status === 'failed' || j.status === 'cancelled') throw new Error(`scan ${j.status}`);
        return j.status === 'completed';
      },
      { what: 'the scan to complete', timeoutMs: 300_000, intervalMs: 250 },
    );
    const counted = (await (await fetch(`${base}${folderUrl}/count_files`)).json()) as { document_count?: number };
    if (counted.document_count !== DOCS) throw new Error(`count_files says ${counted.document_count}, expected ${DOCS}`);
    const pid = server.child.pid ?? 0;
    await quiet(pid);
    const count = await measure(base, [`${folderUrl}/count_files`], { pid, dbName });
    const metadata = await measure(base, [`${folderUrl}/get_folder_files_metadata?limit=10`], { pid, dbName });
    const rssMb = peakRssMb(server.child.pid);
    return { tree: label, round, count, metadata, rssMb, load: la() };
  } finally {
    await server?.stop();
    if (process.env.TAIL_KEEP_DATABASE === '1') log(`kept ${dbName} (TAIL_KEEP_DATABASE=1)`);
    else await admin((c) => c.query(`drop database if exists ${dbName} with (force)`)).catch((e: unknown) => log(`drop failed: ${String(e)}`));
    await rm(dir, { recursive: true, force: true });
  }
}

const f1 = (x: number) => x.toFixed(1);

/** Throughput, the requests' own latencies, errors and CPU per request of one load run. */
function loadColumns(l: Load): Record<string, string | number> {
  return {
    'req/s': Math.round(l.rps),
    'p50 ms': f1(quantile(l.latencies, 0.5)),
    'p99 ms': f1(quantile(l.latencies, 0.99)),
    'max ms': f1(l.latencies.at(-1) ?? Number.NaN),
    errors: l.errors,
    'CPU ms/req node+pg': l.cpu ? `${l.cpu.node.toFixed(2)}+${l.cpu.pg.toFixed(2)}` : '-',
  };
}

function loadRow(run: TreeRun, route: 'count' | 'metadata'): Record<string, string | number> {
  const l = run[route];
  return {
    tree: run.tree,
    round: run.round,
    route: route === 'count' ? 'count_files' : 'get_folder_files_metadata',
    ...loadColumns(l),
    'peak RSS MB': run.rssMb,
    'load after': run.load,
  };
}

/** A temporary worktree of `rev` with this checkout's node_modules linked in. */
function addWorktree(rev: string): string {
  const dir = '/tmp/tail-before';
  if (existsSync(dir)) execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: REPO });
  execFileSync('git', ['worktree', 'add', '--detach', dir, rev], { cwd: REPO, stdio: 'ignore' });
  symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

// ---- folder insights at scale ----

const CLIENTS = 200;

/** TAIL_INSIGHTS_DOCS documents in Clients/Client n/year, by COPY with the summary triggers on. */
async function insightsDatabase(): Promise<string> {
  const { url, handle, documents: n } = await openBenchDatabase(SERVER, INSIGHTS_DB, { max: 2 });
  await handle.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    if (n === INSIGHTS_DOCS) {
      log(`reusing ${n} documents in ${INSIGHTS_DB}`);
      return url;
    }
    const t = performance.now();
    await client.query('truncate documents, folders cascade');
    const formats = ['docx', 'docx', 'docx', 'pdf', 'pdf', 'xlsx', 'pptx', 'txt'];
    const rows = function* (): Generator<string> {
      for (let i = 0; i < INSIGHTS_DOCS; i++) {
        const folder = `Clients/Client ${i % CLIENTS}/${2015 + (i % 10)}`;
        const ext = formats[i % formats.length] ?? 'docx';
        const name = `document ${i}.${ext}`;
        const modified = new Date(Date.UTC(2012 + (i % 14), i % 12, 1 + (i % 28))).toISOString();
        const failed = i % 97 === 0;
        const pii = i % 5 === 0 ? JSON.stringify({ iban: { count: 1, samples: [] }, email: { count: 2, samples: [] } }) : '\\N';
        yield [
          `30000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
          `${folder}/${name}`,
          folder,
          name,
          ext,
          String(10_000 + (i % 90_000)),
          modified,
          ext,
          failed ? 'failed' : 'extracted',
          failed ? 'corrupt' : '\\N',
          `Author ${i % 40}`,
          i % 3 === 0 ? 'nld' : 'eng',
          pii,
          i % 5 === 0 ? '{iban,email}' : '{}',
        ].join('\t') + '\n';
      }
    };
    await pipeline(
      Readable.from(rows()),
      client.query(copyFrom('copy documents (id, path, folder, name, extension, size, mtime, format, status, error_code, author, language, pii, pii_kinds) from stdin')),
    );
    // Every folder up to the root, recorded as scanned.
    await client.query(`
      insert into folders (path, parent_path, last_scanned_at)
      select p, case when p = '' then null when position('/' in p) = 0 then '' else regexp_replace(p, '/[^/]*$', '') end, now()
      from (select distinct unnest(array['', 'Clients', regexp_replace(folder, '/[^/]*$', ''), folder]) as p from documents) x
      on conflict (path) do update set last_scanned_at = excluded.last_scanned_at`);
    await client.query('select docsight_folder_stats_compact()');
    await client.query('select docsight_folder_bounds_compact()');
    await client.query('vacuum analyze');
    log(`generated ${INSIGHTS_DOCS} documents in ${INSIGHTS_DB} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    return url;
  } finally {
    await client.end();
  }
}

async function insightsRuns(): Promise<Record<string, string | number>[]> {
  const url = await insightsDatabase();
  const dir = await mkdtemp(path.join(tmpdir(), 'docsight-tail-'));
  const server = await startServer(REPO, 'api', { DATABASE_URL: url, DOCS_ROOT: dir, DATA_DIR: path.join(dir, 'data') }, dir);
  try {
    await quiet(server.child.pid ?? 0);
    const root = await (await fetch(`${server.base}/v1/folders/%2E/insights`)).json() as { documentCount?: number };
    if (root.documentCount !== INSIGHTS_DOCS) throw new Error(`root insights count ${root.documentCount}, expected ${INSIGHTS_DOCS}`);
    const sets: [string, string[]][] = [
      ['root (every document)', ['/v1/folders/%2E/insights']],
      ['20 client folders in turn', Array.from({ length: 20 }, (_, i) => `/v1/folders/${encodeURIComponent(`Clients/Client ${i * 7}`)}/insights`)],
    ];
    const out: Record<string, string | number>[] = [];
    for (const [name, paths] of sets) {
      const l = await measure(server.base, paths, { pid: server.child.pid ?? 0, dbName: INSIGHTS_DB });
      out.push({
        folders: name,
        ...loadColumns(l),
        'peak RSS MB': peakRssMb(server.child.pid),
        'load after': la(),
        [`p99 < ${INSIGHTS_P99_GOAL} ms`]: quantile(l.latencies, 0.99) < INSIGHTS_P99_GOAL ? 'met' : 'not met',
      });
    }
    return out;
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- main ----

/** The middle value (the mean of the two middle ones of an even count); NaN when empty. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? Number.NaN) + (s[m] ?? Number.NaN)) / 2;
}

/** Both trees, alternating, then the verdict against the original. */
async function routeRuns(head: string): Promise<void> {
  const runs: TreeRun[] = [];
  const beforeTree = BEFORE ? addWorktree(BEFORE) : undefined;
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      if (beforeTree) runs.push(await runTree(`before ${BEFORE}`, beforeTree, round));
      runs.push(await runTree(`after ${head}`, REPO, round));
    }
  } finally {
    if (beforeTree) execFileSync('git', ['worktree', 'remove', '--force', beforeTree], { cwd: REPO });
  }
  log('\nthe original design\'s routes (p50/p99/max of the requests themselves)');
  log(table(runs.flatMap((r) => [loadRow(r, 'count'), loadRow(r, 'metadata')])));

  const after = runs.filter((r) => !r.tree.startsWith('before'));
  const before = runs.filter((r) => r.tree.startsWith('before'));
  const envRps = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
  const originalRps = {
    count: envRps('BENCH_ORIGINAL_COUNT_RPS') ?? median(before.map((r) => r.count.rps)) / RATIO.count,
    metadata: envRps('BENCH_ORIGINAL_METADATA_RPS') ?? median(before.map((r) => r.metadata.rps)) / RATIO.metadata,
  };
  const verdict = (['count', 'metadata'] as const).map((route) => {
    const rps = median(after.map((r) => r[route].rps));
    const p99 = median(after.map((r) => quantile(r[route].latencies, 0.99)));
    const orig = originalRps[route];
    return {
      route: route === 'count' ? 'count_files' : 'get_folder_files_metadata',
      'original req/s': Number.isFinite(orig) ? Math.round(orig) : 'unknown',
      'from': process.env[route === 'count' ? 'BENCH_ORIGINAL_COUNT_RPS' : 'BENCH_ORIGINAL_METADATA_RPS'] ? 'env' : `before / ${RATIO[route]}`,
      'after req/s': Math.round(rps),
      '× original': Number.isFinite(orig) ? (rps / orig).toFixed(2) : '-',
      '≥ 2×': Number.isFinite(orig) ? (rps >= 2 * orig ? 'met' : 'not met') : '-',
      'after p99 ms': f1(p99),
      'original p99 ms': ORIGINAL_P99[route],
      'lower p99': p99 < ORIGINAL_P99[route] ? 'met' : 'not met',
    };
  });
  log('\nagainst the original (medians over rounds)');
  log(table(verdict));
}

async function main(): Promise<void> {
  const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
  log(`bench/tail: ${DOCS} documents, ${CONNECTIONS} connections, ${WARM_SECONDS} s warm-up + ${SECONDS} s, heap cap ${HEAP_MB} MB; before ${BEFORE || '(none)'}, after ${head} (working tree); ${machine()}; load ${la()}`);
  if (DOCS > 0) await routeRuns(head);

  if (INSIGHTS_DOCS > 0) {
    log(`\nfolder insights at ${INSIGHTS_DOCS} documents (this tree, docsight api)`);
    log(table(await insightsRuns()));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
