/**
 * Benchmark: duplicate grouping and folder exports at scale (issue 19).
 *
 * 1. A dedicated database on the machine's PostgreSQL (BENCH_DATABASE_SERVER) gets BENCH_DOCS
 *    (100,000) files by COPY, triggers off (session_replication_role = replica): texts of ~200
 *    words from a small vocabulary, in families as client shares have them: one in
 *    BENCH_COPY_EVERY (10) is an exact copy of an earlier file, one in BENCH_VERSION_EVERY (7) a
 *    version of one (a few words changed), the rest alone. Each file's MinHash signature is
 *    computed by extraction's own code (extract/minhash.ts), its LSH bands follow as a
 *    generated column (migration 0021), and one in five gets personal data counts. The database is kept
 *    and reused when it holds BENCH_DOCS files (BENCH_FRESH=1 rebuilds it).
 * 2. Grouping: the duplicates service over the root (every file), BENCH_REPEAT (3) times: wall
 *    time, groups, grouped files. The goal: under 30 s for 100,000 documents.
 * 3. Exports: each format (BENCH_FORMATS, "csv,jsonl,xlsx") streamed to a byte counter as the HTTP
 *    reply pulls it: rows/s over the whole export (its grouping included) and without the
 *    grouping (timed once on its own), bytes, and this process's RSS at the first chunk, at the
 *    end and at its peak (sampled during it). The goal: 20,000 rows/s or more with flat
 *    memory.
 *
 *   node --import tsx bench/insights.ts
 *   BENCH_DOCS=2000 node --import tsx bench/insights.ts     (a quick look)
 */
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { OPEN_ACCESS } from '../src/domain/access.ts';
import { minhashSignature } from '../src/extract/minhash.ts';
import { createDuplicatesService } from '../src/services/duplicates.service.ts';
import { createExportService, EXPORT_FORMATS, type ExportFormat } from '../src/services/export.service.ts';
import { createDuplicatesRepository } from '../src/store/duplicates.repository.ts';
import { createExportRepository } from '../src/store/export.repository.ts';
import { seeded } from '../test/support/docx-fixtures.ts';
import { cpuSeconds, envInt, machine, openBenchDatabase, rssSampler, table } from './support.ts';

const DOCS = envInt('BENCH_DOCS', 100_000);
const COPY_EVERY = envInt('BENCH_COPY_EVERY', 10);
const VERSION_EVERY = envInt('BENCH_VERSION_EVERY', 7);
const REPEAT = envInt('BENCH_REPEAT', 3);
const FORMATS = (process.env.BENCH_FORMATS ?? EXPORT_FORMATS.join(','))
  .split(',')
  .map((f) => f.trim())
  .filter((f): f is ExportFormat => (EXPORT_FORMATS as readonly string[]).includes(f));
const SERVER = process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_NAME = process.env.BENCH_DATABASE ?? 'docsight_bench_insights';
const WORDS = 200;
const VOCAB = 'offerte klant levering prijs project uren tarief week maand contract afspraak werk bouw dak gevel kozijn planning garantie factuur betaling termijn akkoord datum adres notulen overleg besluit actie budget risico leverancier gemeente beleid opleiding verslag rapport bijlage'.split(' ');


const copyEscape = (s: string) => s.replaceAll('\\', '\\\\').replaceAll('\t', '\\t').replaceAll('\n', '\\n').replaceAll('\r', '\\r');
const pgArray = (xs: number[]) => `{${xs.map((v) => v | 0).join(',')}}`;

/** The files: each a new text, an exact copy of an earlier one, or a version of one. */
async function generate(client: pg.Client): Promise<void> {
  const rand = seeded(19);
  const texts: string[] = [];
  const word = () => VOCAB[Math.floor(rand() * VOCAB.length)] ?? 'x';
  const rows = function* (): Generator<string> {
    for (let i = 0; i < DOCS; i++) {
      let text: string;
      if (i > 0 && i % COPY_EVERY === 0) text = texts[Math.floor(rand() * texts.length)] ?? '';
      else if (i > 0 && i % VERSION_EVERY === 0) {
        const base = (texts[Math.floor(rand() * texts.length)] ?? '').split(' ');
        for (let k = 0; k < 4; k++) base[Math.floor(rand() * base.length)] = word();
        text = base.join(' ');
      } else text = Array.from({ length: WORDS }, word).join(' ');
      // Bases to copy from stay few, so families form; memory holds them only.
      if (texts.length < 20_000) texts.push(text);
      const sha = createHash('sha256').update(text).digest('hex');
      const sig = minhashSignature(text);
      const folder = `Clients/Client ${i % 200}/${2015 + (i % 10)}`;
      const name = `document ${i}${i % COPY_EVERY === 0 ? ' (kopie)' : i % VERSION_EVERY === 0 ? ' v2' : ''}.docx`;
      const modified = new Date(Date.UTC(2015 + (i % 10), i % 12, 1 + (i % 28))).toISOString();
      const pii = i % 5 === 0 ? JSON.stringify({ iban: { count: 1, samples: [{ masked: 'NL91 **** **** **** 00', part: 'body' }] }, email: { count: 2, samples: [] } }) : '\\N';
      const kinds = i % 5 === 0 ? '{iban,email}' : '{}';
      yield [
        `20000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
        `${folder}/${name}`,
        folder,
        name,
        'docx',
        String(text.length + 4000),
        modified,
        'docx',
        'extracted',
        sha,
        copyEscape(`Document ${i}`),
        copyEscape(text),
        sig ? pgArray(sig) : '\\N',
        pii,
        kinds,
      ].join('\t') + '\n';
    }
  };
  await pipeline(
    Readable.from(rows()),
    client.query(copyFrom('copy documents (id, path, folder, name, extension, size, mtime, format, status, sha256, title, text, minhash, pii, pii_kinds) from stdin')),
  );
}

const rssMb = () => Math.round(process.memoryUsage.rss() / 2 ** 20);

/**
 * CPU seconds spent from `start()` to `stop()`: this process's (user + system) and the PostgreSQL
 * backends' serving the bench database (read from /proc, so the server must be on this machine;
 * 0 for it otherwise). The machine is shared: CPU per row says more than wall time under load.
 */
async function cpuMeter(monitor: pg.Client, database: string) {
  const backends = async () => {
    const r = await monitor.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
    return new Map(r.rows.map((x) => [x.pid, cpuSeconds(x.pid)]));
  };
  return {
    async start() {
      const node = process.cpuUsage();
      const before = await backends();
      return {
        async stop(): Promise<{ node: number; pg: number }> {
          const used = process.cpuUsage(node);
          const after = await backends();
          let pgSeconds = 0;
          for (const [pid, s] of after) pgSeconds += s - (before.get(pid) ?? 0);
          return { node: (used.user + used.system) / 1e6, pg: pgSeconds };
        },
      };
    },
  };
}

/**
 * Bytes written by a body as its consumer pulls it, and this process's RSS when the first chunk
 * came (the grouping done, the first page written) and when the last one did: flat memory keeps
 * the two close, however many rows lie between.
 */
async function drain(body: AsyncIterable<string | Uint8Array>): Promise<{ bytes: number; firstRss: number; lastRss: number }> {
  let bytes = 0;
  let firstRss = 0;
  for await (const chunk of body) {
    if (bytes === 0) firstRss = rssMb();
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
  }
  return { bytes, firstRss, lastRss: rssMb() };
}

async function main(): Promise<void> {
  console.log(`bench/insights: ${DOCS} files (an exact copy every ${COPY_EVERY}, a version every ${VERSION_EVERY}) on ${machine()}`);
  const { url, handle, documents: count } = await openBenchDatabase(SERVER, DB_NAME, { fresh: process.env.BENCH_FRESH === '1' });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  if (count !== DOCS) {
    await client.query('truncate documents cascade');
    await client.query('set session_replication_role = replica');
    const t0 = performance.now();
    await generate(client);
    await client.query('set session_replication_role = origin');
    const t1 = performance.now();
    await client.query('vacuum analyze documents');
    console.log(`generated ${DOCS} files (their LSH bands a generated column) in ${((t1 - t0) / 1000).toFixed(1)} s`);
  } else console.log(`reusing ${count} files in ${DB_NAME} (BENCH_FRESH=1 rebuilds)`);
  const cpu = await cpuMeter(client, DB_NAME);

  const everyone = OPEN_ACCESS;
  const knownFolder = async (path: string) => ({ rel: path === '.' ? '' : path, lastScannedAt: null });
  const duplicates = createDuplicatesService({ repo: createDuplicatesRepository(handle.db), threshold: 0.8, knownFolder });

  const grouping: Record<string, string | number>[] = [];
  for (let r = 1; r <= REPEAT; r++) {
    const t = performance.now();
    const c = await cpu.start();
    const page = await duplicates.forFolder('.', everyone, { limit: 10 });
    const used = await c.stop();
    grouping.push({
      run: r,
      seconds: ((performance.now() - t) / 1000).toFixed(2),
      'node cpu s': used.node.toFixed(2),
      'pg cpu s': used.pg.toFixed(2),
      groups: page.summary.groups,
      exact: page.summary.exactGroups,
      near: page.summary.nearGroups,
      files: page.summary.documents,
      'wasted MB': (page.summary.wastedBytes / 2 ** 20).toFixed(1),
    });
  }
  console.log('\ngrouping the root (goal: under 30 s for 100,000 documents)');
  console.log(table(grouping));

  const exports = createExportService({ exports: createExportRepository(handle.db), knownFolder, duplicates });
  // Each export groups the folder before its first row; that part is timed on its own here.
  const tg = performance.now();
  const cg = await cpu.start();
  await duplicates.membership('');
  const groupingS = (performance.now() - tg) / 1000;
  const groupingCpu = await cg.stop();
  console.log(`\nmembership alone: ${groupingS.toFixed(2)} s, node cpu ${groupingCpu.node.toFixed(2)} s, pg cpu ${groupingCpu.pg.toFixed(2)} s`);
  const rows: Record<string, string | number>[] = [];
  for (const format of FORMATS) {
    const rss = rssSampler();
    const t = performance.now();
    const c = await cpu.start();
    const out = await exports.exportFolder('.', format, everyone);
    const { bytes, firstRss, lastRss } = await drain(out.body);
    const seconds = (performance.now() - t) / 1000;
    const used = await c.stop();
    rows.push({
      format,
      rows: DOCS,
      'total s': seconds.toFixed(2),
      'rows/s': Math.round(DOCS / seconds),
      [`rows/s without grouping (${groupingS.toFixed(2)} s)`]: Math.round(DOCS / Math.max(0.001, seconds - groupingS)),
      MB: (bytes / 2 ** 20).toFixed(1),
      'RSS at first chunk MB': firstRss,
      'RSS at end MB': lastRss,
      'peak RSS MB': rss.stop(),
      'node cpu ms/1k rows': ((used.node * 1e6) / DOCS).toFixed(1),
      'pg cpu ms/1k rows': ((used.pg * 1e6) / DOCS).toFixed(1),
    });
  }
  console.log('\nexports of the root (goal: 20,000 rows/s or more, flat memory)');
  console.log(table(rows));
  await client.end();
  await handle.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
