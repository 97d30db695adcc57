/**
 * The `docsight` bin as a user runs it: a one-shot command to its exit, or `docsight start` in
 * its default mode (embedded PostgreSQL) serving from a temporary folder.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, freePort, type Proc, startDocsight, waitForHttp } from './processes.ts';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `docsight <args>` in a child process (stdout and stderr are pipes, not a terminal), to its exit. */
export function runDocsight(args: string[], env: Record<string, string> = {}, cwd = tmpdir()): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A run's exit code and output, for assertion messages. */
export const showRun = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

export interface EmbeddedService {
  /** The temporary folder: documents/ is DOCS_ROOT, data/ is DATA_DIR. */
  dir: string;
  /** The environment the service runs with (give it to commands that must find the same database). */
  env: Record<string, string>;
  base: string;
  proc: Proc;
}

/**
 * `docsight start` with nothing configured but a documents root and a data directory, on free
 * ports; `prepare` fills the folder first. Resolves once /ready answers.
 */
export async function startEmbeddedService(opts: {
  prefix: string;
  env?: Record<string, string>;
  prepare?: (dir: string) => Promise<void>;
}): Promise<EmbeddedService> {
  const dir = await mkdtemp(path.join(tmpdir(), opts.prefix));
  // Run as root, the embedded PostgreSQL runs as `postgres` and must be able to enter DATA_DIR.
  await chmod(dir, 0o755);
  await mkdir(path.join(dir, 'documents'), { recursive: true });
  await opts.prepare?.(dir);
  const port = await freePort();
  const env = {
    PORT: String(port),
    EMBEDDED_PG_PORT: String(await freePort()),
    DATA_DIR: path.join(dir, 'data'),
    DOCS_ROOT: path.join(dir, 'documents'),
    LOG_LEVEL: 'warn',
    ...opts.env,
  };
  const base = `http://127.0.0.1:${port}`;
  const proc = startDocsight(['start'], env, dir);
  try {
    await waitForHttp(`${base}/ready`, proc);
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  return { dir, env, base, proc };
}
