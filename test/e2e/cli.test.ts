/**
 * The client commands as a person or a script runs them: `docsight scan|classify|insights|jobs`
 * in child processes against a running server (embedded mode, an OpenAI-compatible fake as the
 * LLM). Output, `--json` shapes and exit codes: 0 ok, 1 failures in the job, 2 bad usage,
 * 3 server unreachable.
 */
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runDocsight as docsight, showRun as show, startEmbeddedService } from '../support/docsight.ts';
import { generateDocxFolder, type GeneratedDoc } from '../support/docx-fixtures.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fake-openai.ts';
import { api, enc } from '../support/http.ts';
import { freePort, type Proc } from '../support/processes.ts';

interface JobJson {
  id: string;
  kind: string;
  status: string;
  folder: string;
  progress: { total: number; done: number; failed: number; skipped: number; percent: number };
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
  failures: { path: string; code: string; message: string }[];
}

describe('docsight client commands (scan, classify, insights, jobs)', () => {
  let dir: string;
  let base: string;
  let port: number;
  let server: Proc;
  let fake: FakeOpenAI;
  let generated: GeneratedDoc[];
  let srv: string[];

  before(async () => {
    fake = await startFakeOpenAI({});
    let env: Record<string, string>;
    ({ dir, base, env, proc: server } = await startEmbeddedService({
      prefix: 'docsight-cli-',
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
      prepare: async (d) => {
        const root = path.join(d, 'documents');
        generated = await generateDocxFolder(root, 30, { targetKb: 8 });
        await mkdir(path.join(root, 'Broken'), { recursive: true });
        await writeFile(path.join(root, 'Broken', 'damaged.docx'), 'PK\x03\x04 not really a zip');
      },
    }));
    port = Number(env.PORT);
    srv = ['--server', base];
  });

  after(async () => {
    await server?.stop('SIGKILL');
    await fake?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('scan follows the job with plain progress lines off a terminal and ends with a summary (exit 0)', async () => {
    const r = await docsight(['scan', 'Company A', ...srv]);
    assert.equal(r.code, 0, show(r));
    const mine = generated.filter((g) => g.rel.startsWith('Company A/')).length;
    assert.match(r.stdout, /Scan of Company A: completed/);
    assert.match(r.stdout, new RegExp(`documents\\s+${mine}\\b`));
    assert.match(r.stdout, /failed\s+0\b/);
    // Plain lines (no carriage returns or escape codes) on stderr, ending at 100%.
    assert.match(r.stderr, /scan [0-9a-f]{8}: completed 100% \(\d+\/\d+ documents\)/);
    assert.doesNotMatch(r.stderr, /\r|\x1b\[/);
  });

  it('scan --json prints the finished job; documents that fail make the exit code 1 and are listed', async () => {
    const r = await docsight(['scan', '.', '--json', ...srv]);
    assert.equal(r.code, 1, show(r));
    const job = JSON.parse(r.stdout) as JobJson;
    assert.equal(job.kind, 'scan');
    assert.equal(job.status, 'completed');
    assert.equal(job.progress.total, generated.length + 1);
    assert.equal(job.progress.failed, 1);
    assert.equal(job.progress.percent, 100);
    assert.equal(job.failures[0]?.path, 'Broken/damaged.docx');
    assert.equal(r.stderr, '', 'no progress noise on a pipe with --json');

    const human = await docsight(['scan', 'Broken', ...srv]);
    assert.equal(human.code, 1, show(human));
    assert.match(human.stdout, /Failed documents\n\s+PATH\s+REASON\s+MESSAGE\n\s+Broken\/damaged\.docx\s+\S+/);
  });

  it('insights prints the counts the API reports, and --json is the API document', async () => {
    const api1 = await api<{
      documentCount: number;
      byAuthor: { key: string; count: number }[];
      contents: { files: number; attachments: number; archiveEntries: number };
      ocr: Record<string, number>;
    }>(base, 'GET', `/v1/folders/${enc('Company A')}/insights`);
    const r = await docsight(['insights', 'Company A', ...srv]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`documents\\s+${api1.body.documentCount} \\(with subfolders\\)`));
    assert.match(r.stdout, new RegExp(`\\nContents\\n\\s+files\\s+${api1.body.contents.files}\\n\\s+attachments\\s+${api1.body.contents.attachments} `));
    assert.match(r.stdout, new RegExp(`\\nScanned documents \\(OCR\\)\\n\\s+scanned documents\\s+${api1.body.ocr.scannedDocuments}\\n\\s+pages read\\s+${api1.body.ocr.pagesRead}\\n`));
    for (const a of api1.body.byAuthor) assert.match(r.stdout, new RegExp(`${a.key}\\s+${a.count}\\s`));
    assert.match(r.stdout, /Subfolders\n\s+VALUE\s+DOCS/);
    // The rollups of the server that answers: stale documents and personal data from insights, duplicates from its own route.
    const dup = await api<{ summary: { groups: number } }>(base, 'GET', `/v1/folders/${enc('Company A')}/duplicates?limit=1`);
    assert.match(r.stdout, /\nStale \(not modified for more than \d+ years\)\n\s+documents\s+\d/);
    assert.match(r.stdout, /\nPersonal data\n/);
    assert.match(r.stdout, dup.body.summary.groups > 0 ? new RegExp(`\\nDuplicates and versions\\n\\s+groups\\s+${dup.body.summary.groups} `) : /\nDuplicates and versions\n\s+none found/);

    const j = await docsight(['insights', 'Company A', '--json', ...srv]);
    assert.equal(j.code, 0, show(j));
    assert.deepEqual(JSON.parse(j.stdout), api1.body);
  });

  it('finds the local server on PORT without --server', async () => {
    const r = await docsight(['insights', '.', '--json'], { PORT: String(port) });
    assert.equal(r.code, 0, show(r));
    assert.equal((JSON.parse(r.stdout) as { documentCount: number }).documentCount, generated.length + 1);
  });

  it('classify --dry-run estimates without calling the model; classify runs and reports tokens and cost', async () => {
    const before = fake.stats.requests;
    const dry = await docsight(['classify', 'Company B', '--dry-run', '--json', ...srv]);
    assert.equal(dry.code, 0, show(dry));
    const est = JSON.parse(dry.stdout) as { dryRun: boolean; documents: number; estimatedCostUsd: number };
    assert.equal(est.dryRun, true);
    assert.equal(est.documents, generated.filter((g) => g.rel.startsWith('Company B/')).length);
    assert.equal(fake.stats.requests, before, 'a dry run sends nothing to the model');

    const r = await docsight(['classify', 'Company B', '--summary-language', 'nl', ...srv]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Classification of Company B: completed/);
    assert.match(r.stdout, /tokens\s+[\d,]+ in, [\d,]+ out/);
    assert.match(r.stdout, /cost\s+\$\d+\.\d{4}/);
    assert.ok(fake.stats.requests > before);

    const again = await docsight(['classify', 'Company B', '--json', '--summary-language', 'nl', ...srv]);
    assert.equal(again.code, 0, show(again));
    const job = JSON.parse(again.stdout) as JobJson;
    assert.equal(job.progress.skipped, job.progress.total, 'already classified documents are skipped');
  });

  it('jobs lists recent jobs as a table and as JSON, filters by status, and shows one job', async () => {
    const list = await docsight(['jobs', '--json', ...srv]);
    assert.equal(list.code, 0, show(list));
    const body = JSON.parse(list.stdout) as { items: JobJson[]; nextCursor: string | null };
    assert.ok(body.items.length >= 5);
    assert.ok(body.items.some((j) => j.kind === 'classify'));

    const table = await docsight(['jobs', '--status', 'completed', '--kind', 'scan', ...srv]);
    assert.equal(table.code, 0, show(table));
    assert.match(table.stdout, /^ID\s+KIND\s+STATUS\s+FOLDER\s+PROGRESS/);
    assert.doesNotMatch(table.stdout, /classify/);

    const id = body.items[0]?.id as string;
    const one = await docsight(['jobs', id, '--json', ...srv]);
    assert.equal(one.code, 0, show(one));
    assert.equal((JSON.parse(one.stdout) as JobJson).id, id);
  });

  it('bad usage exits 2 with the usage line: no folder, unknown option, bad value, unknown folder', async () => {
    for (const args of [['scan'], ['scan', 'x', '--bogus'], ['jobs', '--status', 'weird'], ['classify', 'x', '--summary-language', 'dutch!'], ['insights', 'No such folder']]) {
      const r = await docsight([...args, ...srv]);
      assert.equal(r.code, 2, `${args.join(' ')}\n${show(r)}`);
      assert.match(r.stderr, new RegExp(`docsight ${args[0]}: `));
      assert.equal(r.stdout, '');
    }
  });

  it('exits 3 with a hint when the server cannot be reached', async () => {
    const r = await docsight(['jobs', '--server', `http://127.0.0.1:${await freePort()}`]);
    assert.equal(r.code, 3, show(r));
    assert.match(r.stderr, /cannot reach the docsight server at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    assert.match(r.stderr, /npm start/);
  });
});
