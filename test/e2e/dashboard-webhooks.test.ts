/**
 * The dashboard's Webhooks page in headless Chromium against a real runtime: add a webhook (the
 * secret is shown once), see it listed, see a delivery to a real receiver after a scan, remove it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Page } from 'playwright-core';
import { parseConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { type Browser, chromiumMissing, launchBrowser } from '../support/browser.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { buildDocx } from '../support/docx-fixtures.ts';
import { api, type JobBody, waitForJob } from '../support/http.ts';
import { REPO } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';

const skip = chromiumMissing();

describe('dashboard: webhooks page (headless Chromium)', { skip }, () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime;
  let base: string;
  let receiver: Server;
  let receiverUrl: string;
  let browser: Browser;
  let page: Page;
  const received: string[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    // The page is new: build the app this checkout serves (web/dist), as the dashboard test does.
    execFileSync(process.execPath, [path.join(REPO, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'web'], { cwd: REPO, stdio: 'ignore' });
    root = await mkdtemp(path.join(tmpdir(), 'docsight-dash-webhooks-'));
    await mkdir(path.join(root, 'Company A'), { recursive: true });
    await writeFile(path.join(root, 'Company A', 'a.docx'), buildDocx({ title: 'A', paragraphs: ['A.'] }));
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(req.url ?? '');
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    db = await createTestDatabase({ migrate: false });
    runtime = await startRuntime(
      parseConfig({ DATABASE_URL: db.url, DOCS_ROOT: root, PORT: '0', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '50' }),
      { api: true, worker: true },
      pino({ level: 'silent' }),
    );
    base = runtime.url ?? '';
    browser = await launchBrowser({ width: 1280, height: 900 });
    page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await browser?.close();
    await runtime?.stop();
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
    await db?.drop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('adds a webhook, shows its secret once, shows its deliveries, and removes it', async () => {
    await page.goto(`${base}/webhooks`);
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByText('No webhooks yet.').waitFor();
    await page.getByLabel('URL (http or https)').fill(receiverUrl);
    await page.getByRole('textbox', { name: /^Folder/ }).fill('Company A');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const secret = (await page.getByTestId('webhook-secret').locator('code').textContent())?.trim() ?? '';
    assert.match(secret, /^whsec_/);
    const row = page.getByTestId('webhooks-table').locator('tbody tr');
    await row.first().waitFor();
    assert.equal(await row.count(), 1);
    const rowText = (await row.first().textContent()) ?? '';
    assert.match(rowText, /job\.completed, job\.failed/);
    assert.match(rowText, /Company A/);
    assert.match(rowText, /enabled/);

    const started = await api<JobBody>(base, 'POST', '/v1/scans', { path: 'Company A' });
    await waitForJob(base, started.body.id);
    await waitFor(() => received.length > 0, { what: 'the delivery at the receiver' });
    await waitFor(
      async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        return page.getByTestId('deliveries-table').locator('tbody tr').count();
      },
      { what: 'the delivery in the page', until: (n) => n > 0 },
    );
    const delivery = (await page.getByTestId('deliveries-table').locator('tbody tr').first().textContent()) ?? '';
    assert.match(delivery, /job\.completed/);
    assert.match(delivery, /204/);

    // A reload shows the list without the secret.
    await page.reload();
    await row.first().waitFor();
    assert.equal(await page.getByTestId('webhook-secret').count(), 0);
    assert.ok(!((await page.content()).includes(secret)));

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: `Remove webhook to ${receiverUrl}` }).click();
    await page.getByText('No webhooks yet.').waitFor();
    assert.deepEqual(pageErrors, []);
  });
});
