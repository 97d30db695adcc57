/**
 * Private Redis and PostgreSQL servers (and a stoppable TCP proxy) for the fault suite: the tests
 * stop, restart and terminate these, never the machine's shared 5432/6379. Each is a child process
 * this test process spawned and owns, on a free loopback port.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { Db } from '../../src/store/database.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { generateDocxFolder } from './docx-fixtures.ts';
import { api, type JobBody, type JsonResponse } from './http.ts';
import { freePort, type Proc, startDocsight, waitForHttp } from './processes.ts';
import { waitFor } from './wait.ts';

/** Print a line in the test output (node:test's reporter shows a test file's stdout lines as comments). */
export function note(line: string): void {
  process.stdout.write(`[fault] ${line}\n`);
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A server child that exited while the test waited for it to answer. */
class Exited extends Error {}

/** Wait until a server answers; a probe that throws `Exited` ends the wait, other errors mean "not yet". */
async function waitUp(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    () =>
      probe().catch((err: unknown) => {
        if (err instanceof Exited) throw err;
        return false;
      }),
    { what: `${what} to come up`, timeoutMs, intervalMs: 100 },
  );
}

function tcpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** SIGTERM and wait: with persistence on, Redis writes its data on the way out. */
  stop(): Promise<void>;
  /** Start again on the same port (and data directory). */
  start(): Promise<void>;
  /** Stop for good and remove the data directory. */
  destroy(): Promise<void>;
}

/**
 * A redis-server child. `persist` turns on the append-only file (fsync always), as a production
 * Redis for BullMQ must run: a restart then keeps the queue. Without it a restart empties Redis.
 */
export async function startPrivateRedis(opts: { persist: boolean }): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'docsight-redis-'));
  let child: ChildProcess | undefined;
  let log = '';
  const start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--daemonize', 'no'];
    args.push('--appendonly', opts.persist ? 'yes' : 'no');
    if (opts.persist) args.push('--appendfsync', 'always');
    const c = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    child = c;
    await waitUp(`redis-server on ${port}`, async () => {
      if (c.exitCode !== null) throw new Exited(`redis-server exited: ${log.slice(-2000)}`);
      return tcpAnswers(port);
    });
  };
  const stop = async () => {
    if (!child) return;
    const c = child;
    child = undefined;
    c.kill('SIGTERM');
    await waitExit(c, 10_000);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivatePostgres {
  readonly port: number;
  /** A new database on this server, its URL. */
  createDatabase(name: string): Promise<string>;
  /** pg_terminate_backend on every connection to `database` except the caller's; returns how many. */
  terminateBackends(database: string): Promise<number>;
  destroy(): Promise<void>;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/**
 * Debian's PostgreSQL 15 binaries: initdb into a fresh directory and `postgres` as our child. As
 * root, both run as the `postgres` user (PostgreSQL refuses root), so the directory's parent is
 * made world-traversable (mkdtemp creates it 0700).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const parent = await mkdtemp(path.join(tmpdir(), 'docsight-pg-'));
  await chmod(parent, 0o755);
  const dataDir = path.join(parent, 'data');
  const asRoot = process.getuid?.() === 0;
  let ids: { uid: number; gid: number } | undefined;
  if (asRoot) {
    ids = {
      uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
      gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
    };
    execFileSync('chown', [`${ids.uid}:${ids.gid}`, parent]);
  }
  execFileSync(path.join(PG_BIN, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], {
    stdio: 'ignore',
    cwd: parent,
    ...(ids ?? {}),
  });
  let log = '';
  const child = spawn(
    path.join(PG_BIN, 'postgres'),
    ['-D', dataDir, '-p', String(port), '-k', parent, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200'],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: parent, ...(ids ?? {}) },
  );
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const serverUrl = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: serverUrl('postgres') });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  await waitUp(`postgres on ${port}`, async () => {
    if (child.exitCode !== null) throw new Exited(`postgres exited: ${log.slice(-2000)}`);
    await admin((c) => c.query('select 1'));
    return true;
  });
  return {
    port,
    async createDatabase(name) {
      await admin((c) => c.query(`create database ${name}`));
      return serverUrl(name);
    },
    async terminateBackends(database) {
      return admin(async (c) => {
        const r = await c.query<{ n: number }>(
          `select count(*) filter (where pg_terminate_backend(pid))::int as n
           from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
          [database],
        );
        return r.rows[0]?.n ?? 0;
      });
    },
    async destroy() {
      // SIGINT: PostgreSQL's "fast" shutdown (disconnects clients, no waiting for them).
      child.kill('SIGINT');
      await waitExit(child, 15_000);
      await rm(parent, { recursive: true, force: true });
    },
  };
}

export interface TcpProxy {
  readonly port: number;
  /** Refuse connections (closes the listener and cuts every open connection). */
  down(): Promise<void>;
  /** Listen again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP forwarder on a fixed port in front of another server, so that "the endpoint is down"
 * can be a real outage (connection refused) and "it is back" the same address again.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const up = async () => {
    if (server) return;
    const s = createServer((client) => {
      const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
      for (const sock of [client, upstream]) {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        sock.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    server = s;
  };
  const down = async () => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await up();
  return { port, up, down, close: down };
}

export interface DocumentAccounting {
  expected: number;
  found: number;
  extracted: number;
  /** Documents whose extraction committed more than once. */
  duplicated: number;
  /** Files with no extracted row. */
  lost: number;
  /** Rows with extraction_count other than 1 (path → count). */
  odd: Record<string, number>;
}

/** Compare a folder's files with the documents table: found, duplicated, lost. */
export async function accountDocuments(db: Db, expected: number): Promise<DocumentAccounting> {
  const rows = await db.selectFrom('documents').select(['path', 'status', 'extraction_count']).where('deleted_at', 'is', null).execute();
  const extracted = rows.filter((r) => r.status === 'extracted').length;
  const odd: Record<string, number> = {};
  for (const r of rows) if (r.extraction_count !== 1) odd[r.path] = r.extraction_count;
  const duplicated = rows.filter((r) => r.extraction_count > 1).length;
  const result = { expected, found: rows.length, extracted, duplicated, lost: expected - extracted, odd };
  note(`documents expected ${expected}, found ${rows.length}, extracted ${extracted}, duplicated ${duplicated}, lost ${result.lost}`);
  return result;
}

export interface Cluster {
  readonly base: string;
  readonly port: number;
  api: Proc;
  readonly workers: Proc[];
  /** Start one more `docsight worker` (e.g. to replace a killed one). */
  startWorker(extra?: Record<string, string>): Proc;
  /** Start `docsight api` again on the same port (after the test stopped or killed it). */
  startApi(): Promise<Proc>;
  stopAll(): Promise<void>;
}

/**
 * `docsight api` + N × `docsight worker` as operators run them (child processes of this test),
 * sharing one database and queue. Workers log at debug so their batches can be counted.
 */
export async function startCluster(opts: {
  dir: string;
  env: Record<string, string>;
  workers: number;
  workerEnv?: Record<string, string>;
  apiEnv?: Record<string, string>;
  /** Extra node flags for every process (e.g. `--import` of a preload when diagnosing). */
  nodeArgs?: string[];
}): Promise<Cluster> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const apiEnv = { ...opts.env, PORT: String(port), LOG_LEVEL: 'warn', ...(opts.apiEnv ?? {}) };
  const workerEnv = { ...opts.env, LOG_LEVEL: 'debug', ...(opts.workerEnv ?? {}) };
  const startApi = async () => {
    const p = startDocsight(['api'], apiEnv, opts.dir, opts.nodeArgs);
    await waitForHttp(`${base}/ready`, p);
    return p;
  };
  const all: Proc[] = [];
  const api = await startApi();
  all.push(api);
  const cluster: Cluster = {
    base,
    port,
    api,
    workers: [],
    startWorker(extra = {}) {
      const w = startDocsight(['worker'], { ...workerEnv, ...extra }, opts.dir, opts.nodeArgs);
      all.push(w);
      cluster.workers.push(w);
      return w;
    },
    async startApi() {
      const p = await startApi();
      all.push(p);
      cluster.api = p;
      return p;
    },
    async stopAll() {
      await Promise.all(all.map((p) => p.stop('SIGKILL')));
    },
  };
  for (let i = 0; i < opts.workers; i++) cluster.startWorker();
  return cluster;
}

/** Documents each worker process committed, from its `extract batch done` debug lines. */
export function documentsPerWorker(workers: readonly Proc[]): number[] {
  return workers.map((w) =>
    w
      .logs()
      .filter((l) => l.msg === 'extract batch done')
      .reduce((sum, l) => sum + Number(l.documents ?? 0), 0),
  );
}

/** Poll until `pred` holds for the job (or fail after `timeoutMs`). */
export async function waitForProgress(
  base: string,
  jobId: string,
  pred: (job: JobBody) => boolean,
  timeoutMs = 60_000,
): Promise<JobBody> {
  // The API may be restarting (a fault test): an unanswered poll is "not yet".
  const r = await waitFor(() => api<JobBody>(base, 'GET', `/v1/jobs/${jobId}`).catch(() => null), {
    what: `job ${jobId} to reach the awaited progress`,
    timeoutMs,
    until: (res): res is JsonResponse<JobBody> => res?.status === 200 && pred(res.body),
  });
  return r.body;
}

/** Remove a queue's keys from a (shared) Redis. */
export async function dropQueueKeys(redisUrl: string, queueName: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys = await redis.keys(`*${queueName}*`);
    if (keys.length) await redis.del(...keys);
  } catch {
    // a private Redis that is already gone has nothing to clean
  } finally {
    redis.disconnect();
  }
}

/** A folder of generated .docx documents for a suite: made in `before`, removed in `after`. */
export function docxFolderForSuite(prefix: string, count: number, opts: Parameters<typeof generateDocxFolder>[2]): { readonly dir: string; readonly documents: string } {
  const folder = { dir: '', documents: '' };
  before(async () => {
    folder.dir = await mkdtemp(path.join(tmpdir(), prefix));
    folder.documents = path.join(folder.dir, 'documents');
    await generateDocxFolder(folder.documents, count, opts);
  });
  after(async () => {
    if (folder.dir) await rm(folder.dir, { recursive: true, force: true });
  });
  return folder;
}

/**
 * A cluster over the folder on the machine's PostgreSQL (a database of its own) and, in redis
 * mode, its Redis (a queue name of its own); runs `body`, then stops every process and drops the
 * database and the queue's keys, whatever happened.
 */
export async function withCluster(
  mode: 'redis' | 'postgres',
  opts: { folder: { dir: string; documents: string }; workers: number; env?: Record<string, string>; workerEnv?: Record<string, string> },
  body: (c: { cluster: Cluster; db: TestDatabase }) => Promise<void>,
): Promise<void> {
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const db = await createTestDatabase({ migrate: false });
  const queueName = `f${mode}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster({
      dir: opts.folder.dir,
      workers: opts.workers,
      env: {
        DATABASE_URL: db.url,
        ...(mode === 'redis' ? { REDIS_URL: redisUrl } : {}),
        QUEUE_NAME: queueName,
        DOCS_ROOT: opts.folder.documents,
        DATA_DIR: path.join(opts.folder.dir, 'unused-data'),
        ...opts.env,
      },
      ...(opts.workerEnv ? { workerEnv: opts.workerEnv } : {}),
    });
    await body({ cluster, db });
  } finally {
    await cluster?.stopAll();
    await db.drop();
    if (mode === 'redis') await dropQueueKeys(redisUrl, queueName);
  }
}
