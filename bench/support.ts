/** Shared benchmark helpers: peak RSS sampling, timing, and a one-line machine description. */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import pg from 'pg';
import { createDatabase, type DatabaseHandle } from '../src/store/database.ts';
import { migrateToLatest } from '../src/store/migrate.ts';

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} cores (${cpu.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
}

/** Samples this process's RSS every `everyMs` until stopped; returns the peak in MB. */
export function rssSampler(everyMs = 50): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return Math.round(peak / 2 ** 20);
    },
  };
}

export function table(rows: Record<string, string | number>[]): string {
  if (rows.length === 0) return '';
  const cols = Object.keys(rows[0] as object);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padStart(width[i] ?? 0)).join('  ');
  return [line(cols), line(width.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => String(r[c] ?? ''))))].join('\n');
}

export const envInt = (name: string, dflt: number) => {
  const v = process.env[name];
  return v ? Number.parseInt(v, 10) : dflt;
};

/** Peak resident set of another process (the kernel's high-water mark, VmHWM), MB; NaN if unknown. */
export function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** The nearest-rank quantile q (0..1) of ascending `sorted`; NaN when it is empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/** Run `fn` with a client of `url`, closed after. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The URL of database `name` on the server of `serverUrl`. */
export function databaseUrl(serverUrl: string, name: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A benchmark's own database on the server of `serverUrl`, kept between runs: created when missing
 * (dropped and created again when `fresh`), migrated to the latest schema. Returns its URL, an open
 * handle (the caller closes it) and how many documents it holds, so a bench regenerates only when
 * that is not what it wants.
 */
export async function openBenchDatabase(
  serverUrl: string,
  name: string,
  opts: { fresh?: boolean; max?: number } = {},
): Promise<{ url: string; handle: DatabaseHandle; documents: number }> {
  await withClient(serverUrl, async (admin) => {
    const exists = (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
    if (exists && opts.fresh) await admin.query(`drop database ${name} with (force)`);
    if (!exists || opts.fresh) await admin.query(`create database ${name}`);
  });
  const url = databaseUrl(serverUrl, name);
  const handle = createDatabase(url, { max: opts.max ?? 4 });
  await migrateToLatest(handle.db);
  const documents = await withClient(url, async (c) => Number((await c.query<{ n: string }>('select count(*) as n from documents')).rows[0]?.n ?? 0));
  return { url, handle, documents };
}

/** CPU time (user + system) of a process so far, in seconds (0 once it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after "(comm) ".
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The part of autocannon's programmatic API used here (the package ships no types). */
export interface AutocannonResult {
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  requests: { total: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
interface AutocannonInstance {
  stop(): void;
  /** Every response, as it arrives (responseTime in ms). */
  on(event: 'response', fn: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): void;
}
export type Autocannon = (
  opts: { url: string; connections: number; duration: number; overallRate?: number; requests: { method: 'GET'; path: string }[] },
  done: (err: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;
// autocannon is CommonJS without type declarations: require it and give it the shape above.
export const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
