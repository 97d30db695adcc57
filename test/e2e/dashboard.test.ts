/**
 * The web dashboard in headless Chromium against a real `docsight start` with a generated
 * folder: it is served at `/` without shadowing the API, the counts it shows equal the API's, a
 * scan started from the page shows its progress live up to 100%, a document opens, the key
 * prompt appears on a 401, an attachment read by OCR shows the e-mail it is in and its OCR, and screenshots of the main pages land in test-output/screenshots/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { type Browser, chromiumMissing, launchBrowser } from '../support/browser.ts';
import { buildEml } from '../support/container-fixtures.ts';
import { buildDocx, generateDocxFolder, type GeneratedDoc } from '../support/docx-fixtures.ts';
import { api, enc, waitForJob } from '../support/http.ts';
import type { SearchResult } from '../../src/contract.ts';
import { GROUND_TRUTH, ocrFixturesAvailable, renderTextPage } from '../support/ocr-fixtures.ts';
import { freePort, type Proc, REPO, startDocsight, waitForHttp } from '../support/processes.ts';

const SHOTS = path.join(REPO, 'test-output', 'screenshots');
const skip = chromiumMissing();
if (skip) console.warn(`dashboard e2e skipped: ${skip}`);

interface Insights {
  documentCount: number;
  byAuthor: { key: string; count: number }[];
  byYear: { key: string; count: number }[];
  subfolders: { key: string; count: number }[];
}

const fmt = (n: number) => n.toLocaleString('en-GB');

describe('web dashboard (headless Chromium)', { skip }, () => {
  let dir: string;
  let base: string;
  let server: Proc;
  let browser: Browser;
  let page: Page;
  let generated: GeneratedDoc[];
  const pageErrors: string[] = [];

  const shot = async (name: string) => {
    // From the top: the sticky sidebar and header would otherwise be drawn mid-page.
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  };
  const text = async (testId: string) => (await page.getByTestId(testId).first().textContent())?.trim();
  /**
   * Wait until the element's text is `want` (pages reload their numbers when a job ends). Polled
   * from here rather than in the page, so the test needs no DOM types.
   */
  const waitText = async (target: string | { css: string }, want: string, timeout = 30_000) => {
    const selector = typeof target === 'string' ? `[data-testid="${target}"]` : target.css;
    const loc = page.locator(selector).first();
    const deadline = Date.now() + timeout;
    let last: string | undefined;
    while (Date.now() < deadline) {
      last = (await loc.textContent({ timeout }).catch(() => null))?.trim();
      if (last === want) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`${selector}: expected "${want}", still "${last}" after ${timeout} ms`);
  };

  before(async () => {
    if (!existsSync(path.join(REPO, 'web', 'dist', 'index.html'))) {
      execFileSync(process.execPath, [path.join(REPO, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'web'], { cwd: REPO, stdio: 'ignore' });
    }
    await mkdir(SHOTS, { recursive: true });
    dir = await mkdtemp(path.join(tmpdir(), 'docsight-dash-'));
    // As root, embedded PostgreSQL runs as a `postgres` user, which must be able to reach DATA_DIR.
    await chmod(dir, 0o755);
    generated = await generateDocxFolder(path.join(dir, 'documents'), 72, { targetKb: 8 });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = startDocsight(
      ['start'],
      {
        PORT: String(port),
        EMBEDDED_PG_PORT: String(await freePort()),
        DATA_DIR: path.join(dir, 'data'),
        DOCS_ROOT: path.join(dir, 'documents'),
        LOG_LEVEL: 'warn',
      },
      dir,
    );
    await waitForHttp(`${base}/ready`, server);
    browser = await launchBrowser({ width: 1440, height: 900 });
    page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await browser?.close();
    await server?.stop('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is served at / with long-cached assets, and leaves the API, docs and health routes alone', async () => {
    const html = await fetch(`${base}/`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(html.headers.get('cache-control'), 'no-cache');
    const body = await html.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(body)?.[1];
    assert.ok(asset, body);
    assert.doesNotMatch(body, /https?:\/\//, 'no external CDN or fonts');
    const js = await fetch(`${base}${asset}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('cache-control') ?? '', /max-age=31536000.*immutable/);
    await js.arrayBuffer();

    // Client routes answer the app; everything else keeps its owner.
    for (const p of ['/folders', '/folders/Company%20A/Project%201', '/jobs', '/taxonomies', '/documents/x']) {
      const r = await fetch(`${base}${p}`);
      assert.equal(r.status, 200, p);
      assert.match(await r.text(), /<div id="root">/, p);
    }
    assert.equal(((await api<{ status: string }>(base, 'GET', '/health')).body).status, 'ok');
    assert.ok((await api<{ paths: object }>(base, 'GET', '/openapi.json')).body.paths);
    assert.match(await (await fetch(`${base}/docs`)).text(), /swagger/i);
    assert.ok(Array.isArray((await api<{ items: unknown[] }>(base, 'GET', '/v1/jobs')).body.items));
    const missing = await api<{ error: { code: string } }>(base, 'GET', '/no-such-page');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'not_found');
  });

  it('starts a scan from the page and shows its progress live up to 100%', async () => {
    await page.goto(`${base}/`);
    await page.getByText('This folder has not been scanned yet').waitFor();
    await shot('01-empty-root');
    await page.getByTestId('scan-button').click();
    const progress = page.getByTestId('job-progress').first();
    await progress.waitFor();
    await page.locator('[data-testid="job-progress"][data-status="completed"]').waitFor({ timeout: 120_000 });
    assert.equal(await text('job-percent'), '100%');
    assert.equal(await progress.getByRole('progressbar').getAttribute('aria-valuenow'), '100');
    assert.match((await progress.textContent()) ?? '', new RegExp(`${generated.length} / ${generated.length} documents`));
  });

  it('shows the same counts as the API: summary cards, tree, authors, years', async () => {
    const ins = (await api<Insights>(base, 'GET', '/v1/folders/./insights')).body;
    assert.equal(ins.documentCount, generated.length);
    // The page reloads its numbers when the scan ends.
    await waitText('stat-documents', fmt(ins.documentCount));
    for (const sub of ins.subfolders) await waitText(`tree-count-${sub.key}`, fmt(sub.count));
    const authors = page.getByTestId('chart-author').locator('tbody tr');
    assert.equal(await authors.count(), ins.byAuthor.length);
    for (const [i, a] of ins.byAuthor.entries()) {
      const cells = await authors.nth(i).locator('th, td').allTextContents();
      assert.deepEqual(cells.slice(0, 2), [a.key, fmt(a.count)]);
    }
    const years = await page.getByTestId('chart-year').locator('tbody tr th').allTextContents();
    assert.deepEqual(years, ins.byYear.map((y) => y.key).sort());
    assert.match((await text('docs-range')) ?? '', new RegExp(`^1–50 of ${generated.length}$`));
    await shot('02-folder-root');
  });

  it('shows what changed per day and the documents behind a day, and watches the folder from the page', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const days = (await api<{ days: { day: string; added: number }[] }>(base, 'GET', '/v1/folders/./changes-by-day')).body.days;
    assert.equal(days.at(-1)?.day, today);
    await page.goto(`${base}/folders`);
    const row = page.getByTestId('changes-days').locator('tbody tr').first();
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    assert.deepEqual(cells.slice(0, 2), [today, fmt(days.at(-1)?.added ?? -1)]);
    await row.getByRole('button', { name: today }).click();
    const items = page.getByTestId('changes-of-day').locator('li');
    await items.first().waitFor();
    assert.equal(await items.count(), Math.min(500, days.at(-1)?.added ?? 0));
    await page.getByTestId('watch-switch').getByRole('button', { name: 'Watch this folder' }).click();
    await page.getByTestId('watch-switch').getByRole('button', { name: 'Stop watching' }).waitFor();
    const watches = (await api<{ items: { id: string; folder: string }[] }>(base, 'GET', '/v1/watches')).body.items;
    assert.deepEqual(watches.map((w) => w.folder), ['']);
    await shot('02b-folder-changes');
    await page.getByTestId('watch-switch').getByRole('button', { name: 'Stop watching' }).click();
    await page.getByTestId('watch-switch').getByRole('button', { name: 'Watch this folder' }).waitFor();
    assert.deepEqual((await api<{ items: unknown[] }>(base, 'GET', '/v1/watches')).body.items, []);
  });

  it('browses into a folder with the tree; the table sorts and pages by cursor', async () => {
    const folder = 'Company A';
    const ins = (await api<Insights>(base, 'GET', `/v1/folders/${enc(folder)}/insights`)).body;
    await page.getByRole('navigation', { name: 'Folders' }).getByRole('link', { name: new RegExp(`^${folder}`) }).click();
    await page.waitForURL(`${base}/folders/Company%20A`);
    await waitText('stat-documents', fmt(ins.documentCount));
    assert.equal(await page.getByRole('navigation', { name: 'Breadcrumb' }).textContent(), `Documents root${folder}`);
    await page.getByRole('button', { name: 'Expand Company A' }).waitFor();

    // Sort by size, largest first: the first row is the API's largest.
    const largest = (await api<{ items: { name: string }[] }>(base, 'GET', `/v1/folders/${enc(folder)}/documents?sort=size&order=desc&limit=1`)).body.items[0];
    await page.getByRole('button', { name: /^Size/ }).click();
    await page.locator('th[aria-sort="descending"]').waitFor();
    await waitText({ css: 'table.docs tbody tr td a' }, largest?.name ?? '?');
    await shot('03-folder-company-a');

    // 72 documents at the root: page 2 holds the last 22.
    await page.goto(`${base}/folders`);
    await waitText('docs-range', `1–50 of ${generated.length}`);
    await page.getByRole('button', { name: 'Next →' }).click();
    await waitText('docs-range', `51–${generated.length} of ${generated.length}`);
    assert.equal(await page.locator('table.docs tbody tr').count(), generated.length - 50);
  });

  it('opens a document page with its metadata', async () => {
    const first = (await api<{ items: { id: string; name: string; author: string; title: string }[] }>(base, 'GET', '/v1/folders/./documents?limit=1')).body.items[0];
    assert.ok(first);
    await page.goto(`${base}/folders`);
    await page.getByRole('link', { name: first.name, exact: true }).click();
    await page.waitForURL(`${base}/documents/${first.id}`);
    assert.equal(await text('document-name'), first.name);
    const props = (await page.getByRole('region', { name: 'Properties' }).textContent()) ?? '';
    assert.match(props, new RegExp(first.author));
    assert.match(props, new RegExp(first.title));
    await page.getByText('Not classified yet.').waitFor();
    await shot('04-document');
  });

  it('exports a folder as the file the API streams, with the key it holds', async () => {
    await page.goto(`${base}/folders`);
    await page.getByLabel('Export format').selectOption('csv');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-button').click()]);
    assert.match(download.suggestedFilename(), /\.csv$/);
    const file = await download.path();
    const csv = await readFile(file, 'utf8');
    const listed = await api<{ items: { name: string }[] }>(base, 'GET', '/v1/folders/./documents?limit=500');
    const lines = csv.replace(/^\uFEFF/, '').trim().split(/\r\n/);
    assert.match(lines[0] ?? '', /^path,/);
    assert.equal(lines.length - 1, listed.body.items.length, 'one row per document');
  });

  it('searches with facets as the API counts them, personal data among them, and a count narrows the search', async () => {
    const all = await api<SearchResult>(base, 'GET', '/v1/search?limit=20');
    await page.goto(`${base}/search`);
    await page.getByTestId('facet-sensitive').waitFor();
    const sensitiveText = (await page.getByTestId('facet-sensitive').textContent()) ?? '';
    const withPii = all.body.facets.sensitive.find((b) => b.key === 'any')?.count ?? 0;
    assert.match(sensitiveText, new RegExp(`${fmt(all.body.total - withPii)} without personal data found`));
    for (const b of all.body.facets.sensitive) assert.equal(await text(`facet-sensitive-${b.key}`), fmt(b.count));
    const type = all.body.facets.type[0];
    assert.ok(type?.key);
    assert.equal(await text(`facet-type-${type.key}`), fmt(type.count));
    await page.getByTestId(`facet-type-${type.key}`).click();
    await page.waitForURL(`${base}/search?type=${type.key}`);
    const narrowed = await api<SearchResult>(base, 'GET', `/v1/search?type=${type.key}&limit=20`);
    assert.match((await text('search-total')) ?? '', new RegExp(`^(at least )?${fmt(narrowed.body.total)} document`));
    await shot('05-search-facets');
  });

  it('explains that classification needs an LLM when none is configured', async () => {
    await page.goto(`${base}/folders`);
    await page.getByRole('button', { name: 'Classify…' }).click();
    await page.getByRole('button', { name: 'Start classification' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /Classification is not set up on this server.*OPENAI_API_KEY/);
    await shot('05-classify-not-configured');
  });

  it('lists jobs and edits taxonomies', async () => {
    await page.goto(`${base}/jobs`);
    await page.getByTestId('jobs-table').getByText('completed').first().waitFor();
    await shot('06-jobs');
    await page.goto(`${base}/taxonomies`);
    await page.getByRole('button', { name: /Save as version/ }).waitFor();
    await shot('07-taxonomies');
  });

  it('asks for an API key when the API answers 401, keeps it for the session and sends it', async () => {
    let sawKey = false;
    // A real key (the server runs open on loopback, so this request needs none); the server checks
    // any key it is sent, so a made-up one would be refused everywhere.
    const made = await api<{ key: string }>(base, 'POST', '/v1/keys', { name: 'dashboard test', role: 'editor' });
    const key = made.body.key;
    await page.route('**/v1/taxonomies', async (route) => {
      if (route.request().headers().authorization === `Bearer ${key}`) {
        sawKey = true;
        return route.continue();
      }
      return route.fulfill({ status: 401, contentType: 'application/json', body: JSON.stringify({ error: { code: 'unauthorized', message: 'API key required' } }) });
    });
    await page.goto(`${base}/taxonomies`);
    const dialog = page.getByRole('dialog', { name: 'API key' });
    await dialog.waitFor();
    await shot('08-key-prompt');
    await dialog.getByLabel('Key').fill(key);
    await dialog.getByRole('button', { name: 'Save' }).click();
    assert.equal(await page.evaluate("sessionStorage.getItem('docsight.apiKey')"), key);
    await page.reload();
    await page.getByRole('button', { name: /Save as version/ }).waitFor();
    assert.ok(sawKey, 'the key went out as a Bearer header');
    await page.unroute('**/v1/taxonomies');
    await page.evaluate("sessionStorage.removeItem('docsight.apiKey')");
  });

  it('starts a scoped key at its folders: one scope opens it, several are listed, the tree begins there', async () => {
    const root = await api<Insights>(base, 'GET', '/v1/folders/./insights');
    const [a, b] = root.body.subfolders.map((s) => s.key);
    assert.ok(a && b, 'the generated folder has at least two subfolders');
    const inA = await api<Insights>(base, 'GET', `/v1/folders/${enc(a)}/insights`);
    const one = await api<{ key: string }>(base, 'POST', '/v1/keys', { name: 'one scope', role: 'viewer', scopes: [a] });
    const two = await api<{ key: string }>(base, 'POST', '/v1/keys', { name: 'two scopes', role: 'viewer', scopes: [a, b] });

    await page.goto(`${base}/`);
    await page.evaluate(`sessionStorage.setItem('docsight.apiKey', ${JSON.stringify(one.body.key)})`);
    await page.goto(`${base}/`);
    await page.waitForURL(`${base}/folders/${enc(a)}`);
    await waitText('stat-documents', fmt(inA.body.documentCount));
    await waitText(`tree-count-${a}`, fmt(inA.body.documentCount));
    assert.equal(await page.getByText('Documents root').count(), 0, 'the root the key cannot see is not offered');
    await shot('09-scoped-key');

    await page.evaluate(`sessionStorage.setItem('docsight.apiKey', ${JSON.stringify(two.body.key)})`);
    await page.goto(`${base}/folders`);
    await page.getByRole('heading', { name: 'Your folders' }).waitFor();
    for (const f of [a, b]) await page.getByRole('main').getByRole('link', { name: f }).waitFor();
    await page.getByRole('main').getByRole('link', { name: b }).click();
    await page.waitForURL(`${base}/folders/${enc(b)}`);
    const inB = await api<Insights>(base, 'GET', `/v1/folders/${enc(b)}/insights`);
    await waitText('stat-documents', fmt(inB.body.documentCount));
    await page.evaluate("sessionStorage.removeItem('docsight.apiKey')");
  });

  it('shows a scanned attachment inside its e-mail with its OCR, and the e-mail its attachments', { skip: !ocrFixturesAvailable() && 'the DejaVu font (fonts-dejavu-core) is not installed' }, async () => {
    const mail = path.join(dir, 'documents', 'Mail');
    await mkdir(mail, { recursive: true });
    const scan = await renderTextPage(GROUND_TRUTH.eng, { dpi: 150 });
    await writeFile(
      path.join(mail, 'offer.eml'),
      buildEml({
        subject: 'Signed offer',
        parts: [
          { contentType: 'text/plain; charset=utf-8', body: 'The signed offer is attached.' },
          { contentType: 'image/png', disposition: 'attachment; filename="signed.png"', encoding: 'base64', body: scan },
          { contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', disposition: 'attachment; filename="terms.docx"', encoding: 'base64', body: buildDocx({ title: 'Terms', paragraphs: ['Terms and conditions of the offer.'] }) },
        ],
      }),
    );
    const started = await api<{ id: string }>(base, 'POST', '/v1/scans', { path: 'Mail' });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const job = await waitForJob(base, started.body.id, 240_000);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    const listed = (await api<{ items: { id: string; path: string; ocr: { pages: number | null; confidence: number | null } | null }[] }>(base, 'GET', `/v1/folders/${enc('Mail')}/documents?origin=attachment`)).body.items;
    const signed = listed.find((d) => d.path === 'Mail/offer.eml#1/signed.png');
    assert.ok(signed?.ocr?.confidence, JSON.stringify(listed));

    await page.goto(`${base}/documents/${signed.id}`);
    const ocr = page.getByTestId('document-ocr');
    await ocr.waitFor();
    const ocrText = (await ocr.textContent()) ?? '';
    assert.match(ocrText, /Text sourceOCR of scanned pages or images/);
    assert.match(ocrText, new RegExp(`Pages read${signed.ocr?.pages}`));
    assert.match(ocrText, new RegExp(`Mean confidence${signed.ocr?.confidence.toFixed(1)}%`));
    await shot('10-scanned-attachment');
    const inside = page.getByTestId('document-parent').getByRole('link');
    assert.equal(await inside.textContent(), 'Mail/offer.eml');
    await inside.click();
    await page.waitForURL(/\/documents\/[0-9a-f-]{36}$/);
    await waitText('document-name', 'offer.eml');
    const children = page.getByTestId('document-children');
    assert.deepEqual(await children.getByRole('link').allTextContents(), ['signed.png', 'terms.docx']);
    assert.match((await children.getByRole('heading').textContent()) ?? '', /^Attachments \(2\)$/);

    // The folder's panels count the attachments and the scan; the table marks and badges them.
    await page.goto(`${base}/folders/Mail`);
    await waitText('contents-attachments', '2');
    await waitText('ocr-scanned', '1');
    await page.getByTestId('contents-attachments').click();
    await waitText('docs-range', '1–2 (filtered)');
    assert.deepEqual(await page.getByTestId('origin-marker').allTextContents(), ['attachment', 'attachment']);
    assert.match((await page.getByTestId('ocr-badge').first().textContent()) ?? '', /^OCR \d+%/);
    await shot('11-folder-with-attachments');
  });

  it('is keyboard reachable: the first Tab lands on the skip link', async () => {
    await page.goto(`${base}/folders`);
    await page.getByTestId('stat-documents').waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content');
    assert.deepEqual(pageErrors, []);
  });
});
