/**
 * The delay from a local file written under a watched folder to its document updated (extracted,
 * with the new content's sha256), with API and worker in one process on a fresh PostgreSQL
 * database: filesystem event, debounce, a small scan of the file's folder, extraction. Writes are
 * sequential, each to a file of its own in a folder of WATCH_BENCH_FOLDER_FILES files, one every
 * WATCH_BENCH_GAP_MS after the previous one is seen (so each delay is one write's, not a queue's).
 * The goal: p95 under 2 s.
 *
 *   npm run bench:watch                      # 50 writes
 *   WATCH_BENCH_WRITES=10 npm run bench:watch
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { pino } from 'pino';
import { parseConfig } from '../src/config.ts';
import { startRuntime } from '../src/container.ts';
import { createTestDatabase } from '../test/support/db.ts';
import { envInt, machine, quantile, table } from './support.ts';

const WRITES = envInt('WATCH_BENCH_WRITES', 50);
const FOLDER_FILES = envInt('WATCH_BENCH_FOLDER_FILES', 200);
const GAP_MS = envInt('WATCH_BENCH_GAP_MS', 100);
const DEBOUNCE_MS = envInt('WATCH_DEBOUNCE_MS', 300);

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'docsight-bench-watch-'));
  const folder = path.join(root, 'Watched', 'Project');
  await mkdir(folder, { recursive: true });
  for (let i = 0; i < FOLDER_FILES; i++) await writeFile(path.join(folder, `existing-${i}.txt`), `Existing document ${i}.`);
  const db = await createTestDatabase({ migrate: false });
  const runtime = await startRuntime(
    parseConfig({ DATABASE_URL: db.url, DOCS_ROOT: root, PORT: '0', QUEUE_NAME: `bench${Date.now().toString(36)}`, WATCH_DEBOUNCE_MS: String(DEBOUNCE_MS), WATCH_REFRESH_SECONDS: '1', LOG_LEVEL: 'warn' }),
    { api: true, worker: true },
    pino({ level: 'warn' }),
  );
  try {
    const app = runtime.app;
    if (!app) throw new Error('no API');
    await app.inject({ method: 'POST', url: '/v1/watches', payload: { folder: 'Watched' } });
    const current = async (rel: string) =>
      (await sql<{ sha256: string | null; status: string }>`select sha256, status from documents where path = ${rel} and deleted_at is null`.execute(db.db)).rows[0];
    // The watch's first full check: every existing file extracted.
    const deadline = Date.now() + 300_000;
    for (;;) {
      const n = await sql<{ n: string }>`select count(*) as n from documents where status = 'extracted'`.execute(db.db);
      if (Number(n.rows[0]?.n) >= FOLDER_FILES) break;
      if (Date.now() > deadline) throw new Error('the first full check did not finish');
      await pause(100);
    }
    const delays: number[] = [];
    for (let i = 0; i < WRITES; i++) {
      const rel = `Watched/Project/written-${i % 10}.txt`;
      const text = `Write ${i} at ${new Date().toISOString()}: what changed in the project today.`;
      const t0 = performance.now();
      await writeFile(path.join(root, rel), text);
      for (;;) {
        const row = await current(rel);
        if (row?.sha256 === sha(text) && row.status === 'extracted') break;
        if (performance.now() - t0 > 60_000) throw new Error(`write ${i} was not seen within 60 s`);
        await pause(10);
      }
      delays.push(performance.now() - t0);
      await pause(GAP_MS);
    }
    const sorted = [...delays].sort((a, b) => a - b);
    const ms = (v: number) => `${Math.round(v)} ms`;
    console.log(`bench:watch on ${machine()}`);
    console.log(`${WRITES} writes under a watched folder of ${FOLDER_FILES} files, WATCH_DEBOUNCE_MS=${DEBOUNCE_MS}`);
    console.log(table([{ writes: WRITES, p50: ms(quantile(sorted, 0.5)), p95: ms(quantile(sorted, 0.95)), max: ms(sorted.at(-1) ?? 0), 'goal p95': '< 2000 ms' }]));
  } finally {
    await runtime.stop();
    await db.drop();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
