/**
 * Benchmark: search latency under concurrent load (issue 9).
 *
 * 1. A dedicated database on the machine's PostgreSQL (BENCH_DATABASE_SERVER) gets BENCH_DOCS
 *    (100,000) generated documents by COPY, with triggers off (session_replication_role =
 *    replica): Dutch, English and undetermined text of ~300 words drawn from a Zipf vocabulary,
 *    authors, formats, dates, and classifications (tags, category, summary) for 70% of them.
 *    The search column is then built by the same code as `docsight reindex-search` (timed).
 *    The database is kept and reused on the next run (BENCH_FRESH=1 rebuilds it).
 * 2. `docsight api` runs in a child process; for each BENCH_CONCURRENCY level ("4,8"), that
 *    many client loops (closed loop: each sends its next request when the last one answered)
 *    hit GET /v1/search for BENCH_SECONDS (15) per query band, each request a different term of
 *    that band (bands by document frequency, known from generation). Prints p50/p90/p99,
 *    throughput, how many answers were ranked within a bounded candidate set (`approximate`) or
 *    counted in part (`totalExact: false`), the API process's peak RSS, and the slowest
 *    requests' terms. BENCH_SECONDS=0 only builds the database.
 *    Then, for each BENCH_RATES rate ("100,150" requests/s; "" skips it), an open loop: requests
 *    arrive at that mean rate (Poisson arrivals: exponential gaps from a fixed seed) whether or
 *    not earlier ones have answered, as users' requests do, and each latency counts from the
 *    request's scheduled time, so a late send counts against the server (no coordinated
 *    omission). A closed loop with more clients than the machine serves at once measures its
 *    queue (latency = clients / throughput, by Little's law); the open loop shows the latency a
 *    user sees at a given load below capacity.
 *    The client is node:http on keep-alive sockets, not fetch: it shares the two cores with the
 *    server, and fetch costs it several times the CPU per request.
 * 3. Before the load (BENCH_BREAKDOWN terms per band, 10; 0 skips it): where one request's time
 *    goes, one at a time, in this process: the search service's wall time, then EXPLAIN (ANALYZE,
 *    FORMAT JSON) of the statement it ran, split into planning, matching (the counted matches:
 *    sample and whole index), ranking (the candidates' scores), facets, snippets (ts_headline of
 *    the page's rows) and the rest (medians over the terms; EXPLAIN's timing adds its own cost).
 *
 *   node --import tsx bench/search.ts
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, get } from 'node:http';
import { loadavg } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database } from '../src/store/schema.ts';
import { createSearchRepository } from '../src/store/search.repository.ts';
import { createSearchService } from '../src/services/search.service.ts';
import { seeded } from '../test/support/docx-fixtures.ts';
import { envInt, machine, openBenchDatabase, peakRssMb, quantile, table } from './support.ts';

const DOCS = envInt('BENCH_DOCS', 100_000);
/** Concurrency levels measured in turn, e.g. "4,8". */
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '4,8').split(',').map((c) => Number.parseInt(c, 10)).filter((c) => c > 0);
const SECONDS = envInt('BENCH_SECONDS', 15);
/** Open-loop arrival rates (requests/s) measured after the closed loops, e.g. "100,150"; "" for none. */
const RATES = (process.env.BENCH_RATES ?? '100,150').split(',').map((r) => Number.parseInt(r, 10)).filter((r) => r > 0);
/** Terms per band whose single request is broken down by stage (0: none). */
const BREAKDOWN = envInt('BENCH_BREAKDOWN', 10);
const PORT = envInt('BENCH_PORT', 18_090);
const SERVER = process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_NAME = process.env.BENCH_DATABASE ?? 'docsight_bench_search';
const WORDS_PER_DOC = 300;
const VOCAB = 30_000;


/** Pronounceable pseudo-words, deterministic: the long tail of a real vocabulary. */
function vocabulary(rand: () => number): string[] {
  const onsets = ['b', 'd', 'f', 'g', 'h', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'z', 'st', 'br', 'kl', 'tr'];
  const vowels = ['a', 'e', 'i', 'o', 'u', 'aa', 'ee', 'oo', 'ie', 'ei', 'é', 'ë'];
  const codas = ['', 'n', 'r', 'l', 's', 'k', 't', 'nd', 'rt'];
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < VOCAB) {
    const syllables = 2 + Math.floor(rand() * 3);
    let w = '';
    for (let s = 0; s < syllables; s++) {
      w += (onsets[Math.floor(rand() * onsets.length)] ?? '') + (vowels[Math.floor(rand() * vowels.length)] ?? '') + (codas[Math.floor(rand() * codas.length)] ?? '');
    }
    if (!seen.has(w)) {
      seen.add(w);
      out.push(w);
    }
  }
  return out;
}

const NL = ['aanbesteding', 'risicoanalyse', 'begroting', 'vergadering', 'leverancier', 'gemeente', 'beleid', 'factuur', 'opleiding', 'besluit'];
const EN = ['procurement', 'assessment', 'budget', 'meeting', 'supplier', 'council', 'policy', 'invoice', 'training', 'decision'];
const LABELS = ['Internal Policy', 'Meeting Notes', 'Project Documentation', 'Financial Reports', 'HR Documents', 'Technical Documentation', 'Compliance', 'Risk Management', 'Strategic Planning', 'Miscellaneous'];
const FORMATS = ['docx', 'docx', 'docx', 'docx', 'docx', 'pdf', 'pdf', 'pdf', 'xlsx', 'pptx'];

interface Corpus {
  /** Document frequency per vocabulary rank (0-based). */
  df: Uint32Array;
  vocab: string[];
}

/** Zipf(1) sampler over ranks 0..n-1 by inverse CDF on a precomputed table. */
function zipf(n: number, rand: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) {
    sum += 1 / (r + 1);
    cdf[r] = sum;
  }
  return () => {
    const x = rand() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] ?? 0) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const copyEscape = (s: string) => s.replace(/\\/g, '\\\\').replace(/\t/g, ' ').replace(/\n/g, '\\n').replace(/\r/g, ' ');

async function generate(client: pg.Client): Promise<Corpus> {
  const rand = seeded(9);
  const vocab = vocabulary(rand);
  // Put real words at ranks 50-59 (Dutch) and 60-69 (English) so their stemming is exercised.
  NL.forEach((w, i) => (vocab[50 + i] = w));
  EN.forEach((w, i) => (vocab[60 + i] = w));
  const nextRank = zipf(VOCAB, rand);
  const df = new Uint32Array(VOCAB);
  const authors = Array.from({ length: 200 }, (_, i) => `Author ${i + 1}`);
  const taxonomy = await client.query<{ id: string }>('select id from taxonomies limit 1');
  const taxonomyId = taxonomy.rows[0]?.id ?? '';
  const ids: string[] = [];

  const docRows = function* (): Generator<string> {
    for (let i = 0; i < DOCS; i++) {
      const roll = rand();
      const lang = roll < 0.5 ? 'nld' : roll < 0.9 ? 'eng' : 'und';
      const seen = new Set<number>();
      const words: string[] = [];
      for (let w = 0; w < WORDS_PER_DOC; w++) {
        const r = nextRank();
        seen.add(r);
        words.push(vocab[r] ?? '');
        if (w % 12 === 11) words[words.length - 1] += '.';
      }
      for (const r of seen) df[r] = (df[r] ?? 0) + 1;
      const title = `${words[3]} ${words[7]} ${i + 1}`;
      const folder = `Company ${1 + (i % 50)}/Project ${1 + (Math.floor(i / 50) % 20)}`;
      const name = `${title}.${FORMATS[i % FORMATS.length]}`;
      const id = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
      ids.push(id);
      const modified = new Date(Date.UTC(2015 + (i % 11), i % 12, 1 + (i % 28))).toISOString();
      yield [
        id,
        `${folder}/${name}`,
        folder,
        name,
        FORMATS[i % FORMATS.length],
        String(20_000 + (i % 50_000)),
        modified,
        FORMATS[i % FORMATS.length],
        'extracted',
        copyEscape(title),
        authors[i % authors.length],
        modified,
        lang,
        copyEscape(words.join(' ')),
      ].join('\t') + '\n';
    }
  };
  await pipeline(
    Readable.from(docRows()),
    client.query(
      copyFrom('copy documents (id, path, folder, name, extension, size, mtime, format, status, title, author, doc_modified, language, text) from stdin'),
    ),
  );

  const classRows = function* (): Generator<string> {
    for (let i = 0; i < ids.length; i++) {
      if (i % 10 >= 7) continue;
      const tags = [LABELS[i % LABELS.length], LABELS[(i * 7 + 3) % LABELS.length]]
        .filter((l, k, all) => all.indexOf(l) === k)
        .map((label) => ({ label, confidence: 0.8, needsReview: false }));
      const summary = `Summary of document ${i + 1} about ${vocab[(i * 13) % 500]} and ${vocab[(i * 17) % 2000]}.`;
      yield [
        `10000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
        ids[i],
        'sha',
        taxonomyId,
        '1',
        'bench-model',
        'v1',
        'en',
        JSON.stringify(tags),
        tags[0]?.label ?? 'Miscellaneous',
        summary,
        'single',
        '1',
        '100',
        '50',
      ].join('\t') + '\n';
    }
  };
  await pipeline(
    Readable.from(classRows()),
    client.query(
      copyFrom(
        'copy classifications (id, document_id, content_sha256, taxonomy_id, taxonomy_version, model, prompt_version, summary_language, tags, primary_category, summary, strategy, chunks, input_tokens, output_tokens) from stdin',
      ),
    ),
  );
  await client.query('update documents d set classification_id = c.id from classifications c where c.document_id = d.id');
  return { df, vocab };
}

/** One GET on a keep-alive socket: status and parsed JSON body. */
function getJson(agent: Agent, url: string): Promise<{ status: number; body: { approximate?: boolean; totalExact?: boolean } }> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch (err) {
          reject(err);
        }
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** What a load run saw; latencies ascending. */
interface LoadResult {
  latencies: number[];
  elapsed: number;
  errors: number;
  approximate: number;
  partial: number;
  slow: { ms: number; q: string }[];
}

/**
 * Sends requests for `seconds`, `concurrency` at a time (closed loop) or, with `rate`, at that
 * mean rate whatever is still in flight (open loop: latency from each request's scheduled time).
 */
async function load(base: string, queries: string[], seconds: number, mode: { concurrency: number } | { rate: number; seed: number }): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 'concurrency' in mode ? mode.concurrency : 256 });
  const r: LoadResult = { latencies: [], elapsed: 0, errors: 0, approximate: 0, partial: 0, slow: [] };
  let next = 0;
  const one = async (scheduled: number) => {
    const q = queries[next++ % queries.length] ?? '';
    try {
      const { status, body } = await getJson(agent, `${base}/v1/search?q=${encodeURIComponent(q)}&limit=10`);
      const ms = performance.now() - scheduled;
      if (status !== 200) r.errors++;
      if (body.approximate === true) r.approximate++;
      if (body.totalExact === false) r.partial++;
      r.latencies.push(ms);
      if (ms > 100) r.slow.push({ ms, q });
    } catch {
      r.errors++;
    }
  };
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  if ('concurrency' in mode) {
    const loop = async () => {
      while (performance.now() < deadline) await one(performance.now());
    };
    await Promise.all(Array.from({ length: mode.concurrency }, loop));
  } else {
    const rand = seeded(mode.seed);
    const inFlight = new Set<Promise<void>>();
    for (let at = t0; at < deadline; at += (-Math.log(1 - rand()) * 1000) / mode.rate) {
      const wait = at - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const p = one(at).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  }
  r.elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  r.latencies.sort((a, b) => a - b);
  r.slow.sort((a, b) => b.ms - a.ms);
  r.slow = r.slow.slice(0, 5);
  return r;
}

/** One table row of a load run. */
function loadRow(name: string, terms: number, r: LoadResult): Record<string, string | number> {
  const n = r.latencies.length;
  return {
    queries: name,
    terms,
    requests: n,
    'req/s': Math.round(n / r.elapsed),
    'p50 ms': quantile(r.latencies, 0.5).toFixed(1),
    'p90 ms': quantile(r.latencies, 0.9).toFixed(1),
    'p99 ms': quantile(r.latencies, 0.99).toFixed(1),
    'max ms': quantile(r.latencies, 1).toFixed(1),
    'approx %': Math.round((100 * r.approximate) / Math.max(1, n)),
    'partial total %': Math.round((100 * r.partial) / Math.max(1, n)),
    errors: r.errors,
  };
}

/** A node of EXPLAIN's JSON plan (the fields read here). */
interface PlanNode {
  'Node Type': string;
  'Subplan Name'?: string;
  'Relation Name'?: string;
  'Join Type'?: string;
  'Actual Total Time'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

const inclusiveMs = (n: PlanNode) => (n['Actual Total Time'] ?? 0) * (n['Actual Loops'] ?? 1);

function walk(n: PlanNode, visit: (n: PlanNode) => void): void {
  visit(n);
  for (const c of n.Plans ?? []) walk(c, visit);
}

/**
 * One search statement's execution split by stage, from its plan: matching is the counted
 * matches' CTE (m, which reads the sample first), ranking the candidates' scores (scored), facets
 * the aggregate over the counts, snippets the page join that computes ts_headline (its time less
 * its children's); what is left is the rest (the candidates' union, counts, joins).
 */
function stages(plan: { Plan: PlanNode; 'Planning Time': number; 'Execution Time': number }) {
  let match = 0;
  let rank = 0;
  let facets = 0;
  let snippets = 0;
  walk(plan.Plan, (n) => {
    if (n['Subplan Name'] === 'CTE m') match += inclusiveMs(n);
    if (n['Subplan Name'] === 'CTE scored') rank += inclusiveMs(n);
    if (n['Node Type'] === 'Aggregate' && n.Plans?.[0]?.['Node Type'] === 'WindowAgg') facets += inclusiveMs(n);
    const inner = n.Plans?.[1];
    if (n['Join Type'] === 'Left' && inner?.['Relation Name'] === 'classifications') {
      snippets += inclusiveMs(n) - (n.Plans ?? []).reduce((sum, c) => sum + inclusiveMs(c), 0);
    }
  });
  const exec = plan['Execution Time'];
  return { plan: plan['Planning Time'], exec, match, rank, facets, snippets, rest: exec - match - rank - facets - snippets };
}

/** Per band, one request at a time in this process: service wall time and the statement's stages. */
async function breakdown(url: string, bands: { name: string; queries: string[] }[]): Promise<Record<string, string | number>[]> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  let captured: { sql: string; parameters: readonly unknown[] }[] = [];
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (e) => {
      if (e.level === 'query') captured.push({ sql: e.query.sql, parameters: e.query.parameters });
    },
  });
  const service = createSearchService({ search: createSearchRepository(db) });
  const median = (xs: number[]) => [...xs].sort((a, z) => a - z)[Math.floor(xs.length / 2)] ?? 0;
  const rows: Record<string, string | number>[] = [];
  try {
    for (const b of bands) {
      const wall: number[] = [];
      const parts: ReturnType<typeof stages>[] = [];
      for (const q of b.queries.slice(0, BREAKDOWN)) {
        await service.search({ q, limit: 10 }); // stems the query (cached) and warms the pages
        captured = [];
        const t0 = performance.now();
        await service.search({ q, limit: 10 });
        wall.push(performance.now() - t0);
        const statement = captured.find((c) => c.sql.includes(' m as materialized'));
        if (!statement) continue;
        const r = await pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode; 'Planning Time': number; 'Execution Time': number }] }>(
          `explain (analyze, format json) ${statement.sql}`,
          statement.parameters as unknown[],
        );
        const plan = r.rows[0]?.['QUERY PLAN'][0];
        if (plan) parts.push(stages(plan));
      }
      const col = (k: keyof ReturnType<typeof stages>) => median(parts.map((p) => p[k])).toFixed(1);
      rows.push({
        queries: b.name,
        terms: wall.length,
        'service ms': median(wall).toFixed(1),
        'plan ms': col('plan'),
        'execute ms': col('exec'),
        match: col('match'),
        rank: col('rank'),
        facets: col('facets'),
        snippets: col('snippets'),
        rest: col('rest'),
      });
    }
  } finally {
    await db.destroy();
  }
  return rows;
}

async function main(): Promise<void> {
  const { url, handle, documents: count } = await openBenchDatabase(SERVER, DB_NAME, { fresh: process.env.BENCH_FRESH === '1' });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let corpus: Corpus;
  const rand = seeded(9);
  if (count !== DOCS) {
    await client.query('truncate documents cascade');
    await client.query(`set session_replication_role = replica`);
    const t0 = performance.now();
    corpus = await generate(client);
    await client.query(`set session_replication_role = origin`);
    const copyS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const reindexed = await createSearchRepository(handle.db).reindex({ batchSize: 500 });
    const reindexS = (performance.now() - t1) / 1000;
    await client.query('vacuum analyze documents');
    await client.query('vacuum analyze classifications');
    console.log(`generated ${DOCS} documents in ${copyS.toFixed(1)} s; reindex-search: ${reindexed} in ${reindexS.toFixed(1)} s (${Math.round(reindexed / reindexS)} docs/s)`);
  } else {
    // Same seed, same corpus: regenerate only the statistics (no database writes).
    const vocab = vocabulary(rand);
    NL.forEach((w, i) => (vocab[50 + i] = w));
    EN.forEach((w, i) => (vocab[60 + i] = w));
    const nextRank = zipf(VOCAB, rand);
    const df = new Uint32Array(VOCAB);
    for (let i = 0; i < DOCS; i++) {
      rand(); // the language roll
      const seen = new Set<number>();
      for (let w = 0; w < WORDS_PER_DOC; w++) seen.add(nextRank());
      for (const r of seen) df[r] = (df[r] ?? 0) + 1;
    }
    corpus = { df, vocab };
    console.log(`reusing ${DB_NAME} (${count} documents); BENCH_FRESH=1 rebuilds it`);
  }
  const size = (await client.query<{ t: string; i: string }>(
    `select pg_size_pretty(pg_total_relation_size('documents')) as t,
            pg_size_pretty(pg_relation_size('documents_search_match_idx')) || ' (head ' || pg_size_pretty(pg_relation_size('documents_search_head_idx'))
              || ', terms ' || pg_size_pretty(pg_relation_size('documents_search_terms_idx')) || ')' as i`,
  )).rows[0];
  await client.end();
  await handle.close();
  if (SECONDS === 0) return;

  // Bands by document frequency, from the generator's own counts.
  const band = (lo: number, hi: number) =>
    corpus.vocab.filter((_, r) => (corpus.df[r] ?? 0) / DOCS >= lo && (corpus.df[r] ?? 0) / DOCS < hi);
  const shuffle = (xs: string[]) => xs.map((x) => ({ x, k: rand() })).sort((a, b) => a.k - b.k).map((e) => e.x);
  const bands: { name: string; queries: string[] }[] = [
    { name: 'rare term (df < 0.5%)', queries: shuffle(band(0.0001, 0.005)).slice(0, 2000) },
    { name: 'medium term (df 0.5-5%)', queries: shuffle(band(0.005, 0.05)).slice(0, 2000) },
    { name: 'common term (df 5-20%)', queries: shuffle(band(0.05, 0.2)) },
    { name: 'very common (df 20-60%)', queries: shuffle(band(0.2, 0.6)) },
    { name: 'prefix (4 letters)', queries: shuffle(band(0.001, 0.05)).slice(0, 2000).map((w) => `${[...w].slice(0, 4).join('')}*`) },
    { name: 'two words + phrase', queries: shuffle(band(0.005, 0.2)).slice(0, 1000).map((w, i, all) => (i % 2 ? `${w} ${all[i - 1]}` : `"${w} ${all[(i + 1) % all.length]}"`)) },
  ];

  if (BREAKDOWN > 0) {
    console.log(`\none request at a time, by stage (median ms over ${BREAKDOWN} terms per band; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}):`);
    console.log(table(await breakdown(url, bands)));
  }

  const api: ChildProcess = spawn(process.execPath, ['bin/docsight.js', 'api'], {
    env: { ...process.env, DATABASE_URL: url, PORT: String(PORT), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DOCS_ROOT: '/tmp/docsight-bench-search-root' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${PORT}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      if (i > 300) throw new Error('api did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    await load(base, bands.flatMap((b) => b.queries.slice(0, 50)), 3, { concurrency: Math.max(...CONCURRENCIES, 1) }); // warm-up (caches, JIT)
    console.log(`machine: ${machine()}`);
    console.log(`documents: ${DOCS} (${WORDS_PER_DOC} words each), table+toast+indexes ${size?.t}, match index ${size?.i}; ${SECONDS} s per row`);
    const runs: { title: string; mode: { concurrency: number } | { rate: number; seed: number } }[] = [
      ...CONCURRENCIES.map((concurrency) => ({ title: `concurrency ${concurrency} (closed loop)`, mode: { concurrency } })),
      ...RATES.map((rate) => ({ title: `open loop, ${rate} requests/s (Poisson arrivals)`, mode: { rate, seed: rate } })),
    ];
    for (const run of runs) {
      const rows: Record<string, string | number>[] = [];
      for (const b of bands) {
        const r = await load(base, b.queries, SECONDS, run.mode);
        rows.push(loadRow(b.name, b.queries.length, r));
        if (r.slow.length) console.log(`${run.title}, ${b.name}: slowest ${r.slow.map((s) => `${s.q} ${s.ms.toFixed(0)} ms`).join(', ')}`);
      }
      console.log(`\n${run.title} (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}):`);
      console.log(table(rows));
    }
    console.log(`api peak RSS: ${peakRssMb(api.pid)} MB`);
  } finally {
    api.kill('SIGTERM');
    await once(api, 'exit');
  }
}

await main();
