/**
 * The dashboard's Sources page in headless Chromium against a real runtime (API keys required) and
 * a real S3-compatible server (s3rver): an admin adds a bucket through the form, sees it listed with
 * stored credentials and never the secret, scans it from its folder page and sees its documents
 * counted, is shown the server's refusals, and removes it; an editor key is refused.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Page } from 'playwright-core';
import { parseConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createKeysService } from '../../src/services/keys.service.ts';
import { createKeysRepository } from '../../src/store/keys.repository.ts';
import { type Browser, chromiumMissing, launchBrowser } from '../support/browser.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { buildDocx } from '../support/docx-fixtures.ts';
import { api } from '../support/http.ts';
import { REPO } from '../support/processes.ts';
import { S3RVER_CREDENTIALS, startS3, type TestS3 } from '../support/s3.ts';
import { waitFor } from '../support/wait.ts';

const skip = chromiumMissing();
const BUCKET = 'dash-bucket';
const SOURCE = 'dash-clients';

describe('dashboard: sources page (headless Chromium, real S3 server)', { skip }, () => {
  let db: TestDatabase;
  let root: string;
  let s3: TestS3;
  let runtime: Runtime;
  let base: string;
  let browser: Browser;
  let adminKey: string;
  let editorKey: string;
  const pageErrors: string[] = [];

  /** A fresh tab that holds `key` for its session from the first script on. */
  const pageWithKey = async (key: string): Promise<Page> => {
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.addInitScript(`sessionStorage.setItem('docsight.apiKey', ${JSON.stringify(key)})`);
    return page;
  };
  const errorOf = async (method: string, url: string, body: unknown, key: string) => {
    const r = await api<{ error: { code: string; message: string } }>(base, method, url, body, { authorization: `Bearer ${key}` });
    return { status: r.status, ...r.body.error };
  };

  before(async () => {
    // Build the app this checkout serves (web/dist), as the other dashboard page tests do.
    execFileSync(process.execPath, [path.join(REPO, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'web'], { cwd: REPO, stdio: 'ignore' });
    root = await mkdtemp(path.join(tmpdir(), 'docsight-dash-sources-'));
    s3 = await startS3([BUCKET]);
    await s3.put(BUCKET, 'in/Company A/report.docx', buildDocx({ title: 'Report', creator: 'Ada Bucket', paragraphs: ['The aquifer levels rose.'] }));
    await s3.put(BUCKET, 'in/Company A/notes.txt', 'notes about the first project');
    await s3.put(BUCKET, 'in/Company B/plan.txt', 'A plan for company B.');
    await s3.put(BUCKET, 'outside/other.txt', 'outside the prefix: never counted');
    db = await createTestDatabase({ migrate: false });
    runtime = await startRuntime(
      // Keys required (as off loopback), and a SECRETS_KEY to store the bucket's credentials with.
      parseConfig({ DATABASE_URL: db.url, DOCS_ROOT: root, PORT: '0', AUTH_REQUIRED: 'true', SECRETS_KEY: randomBytes(32).toString('base64') }),
      { api: true, worker: true },
      pino({ level: 'silent' }),
    );
    base = runtime.url ?? '';
    const keys = createKeysService(createKeysRepository(db.db));
    adminKey = (await keys.create({ name: 'dash admin', role: 'admin', scopes: [] })).key;
    editorKey = (await keys.create({ name: 'dash editor', role: 'editor', scopes: [] })).key;
    browser = await launchBrowser({ width: 1280, height: 900 });
  });

  after(async () => {
    await browser?.close();
    await runtime?.stop();
    await s3?.close();
    await db?.drop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('adds a bucket through the form, never shows its secret, scans it, shows refusals and removes it', async () => {
    const page = await pageWithKey(adminKey);
    await page.goto(`${base}/sources`);
    await page.getByRole('heading', { name: 'Sources', level: 1 }).waitFor();
    await page.getByText('No buckets yet.').waitFor();
    // The admin's navigation offers the page.
    await page.getByRole('link', { name: 'Sources' }).first().waitFor();

    const form = page.getByRole('form', { name: 'Add a bucket' });
    await form.getByLabel(/^Name/).fill(SOURCE);
    await form.getByLabel('Bucket', { exact: true }).fill(BUCKET);
    await form.getByLabel(/^Prefix/).fill('in');
    await form.getByLabel(/^Endpoint/).fill(s3.endpoint);
    await form.getByLabel('Region').fill('us-east-1');
    await form.getByLabel('Path-style URLs (MinIO)').check();
    await form.getByLabel(/^Access key id/).fill(S3RVER_CREDENTIALS.accessKeyId);
    await form.getByLabel('Secret access key').fill(S3RVER_CREDENTIALS.secretAccessKey);
    await form.getByLabel(/^Watch every/).fill('600');
    await form.getByRole('button', { name: 'Add bucket' }).click();
    await form.getByRole('status').filter({ hasText: `Added ${SOURCE}.` }).waitFor();

    const rows = page.getByTestId('sources-table').locator('tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1);
    const cells = (await rows.first().locator('td').allTextContents()).map((c) => c.trim());
    assert.equal(cells[0], SOURCE);
    assert.equal(cells[1], `s3://${BUCKET}/in/`);
    assert.equal(cells[2], s3.endpoint);
    assert.equal(cells[3], 'stored (encrypted)');
    assert.equal(cells[4], 'every 600 s');
    // What the server stored is what the form said.
    const stored = await api<Record<string, unknown>>(base, 'GET', `/v1/sources/${SOURCE}`, undefined, { authorization: `Bearer ${adminKey}` });
    assert.equal(stored.status, 200);
    assert.equal(stored.body.region, 'us-east-1');
    assert.equal(stored.body.forcePathStyle, true);
    assert.equal(stored.body.credentials, 'stored');
    // The form was emptied, and the credentials are nowhere in the page, then or after a reload.
    assert.equal(await form.getByLabel('Secret access key').inputValue(), '');
    assert.equal(await form.getByLabel(/^Access key id/).inputValue(), '');
    assert.ok(!(await page.content()).includes(S3RVER_CREDENTIALS.secretAccessKey), 'the secret is not in the page');
    await page.reload();
    await rows.first().waitFor();
    assert.ok(!(await page.content()).includes(S3RVER_CREDENTIALS.secretAccessKey), 'the secret is not in the reloaded page');

    // A refused name shows the server's own message: a duplicate (409), a reserved word (400).
    const duplicate = await errorOf('POST', '/v1/sources', { name: SOURCE, kind: 's3', bucket: BUCKET }, adminKey);
    assert.equal(duplicate.status, 409);
    const reserved = await errorOf('POST', '/v1/sources', { name: 'docs', kind: 's3', bucket: BUCKET }, adminKey);
    assert.equal(reserved.status, 400);
    for (const [name, refusal] of [
      [SOURCE, duplicate],
      ['docs', reserved],
    ] as const) {
      await form.getByLabel(/^Name/).fill(name);
      await form.getByLabel('Bucket', { exact: true }).fill(BUCKET);
      await form.getByRole('button', { name: 'Add bucket' }).click();
      await form.getByRole('alert').filter({ hasText: refusal.message }).waitFor();
      assert.equal(await rows.count(), 1, `nothing added for ${name}`);
    }

    // Its link opens its folder; a scan there counts the documents under the prefix.
    await rows.first().getByRole('link', { name: SOURCE }).click();
    await page.waitForURL(`${base}/folders/${SOURCE}`);
    await page.getByTestId('scan-button').click();
    await page.locator('[data-testid="job-progress"][data-status="completed"]').waitFor({ timeout: 60_000 });
    await waitFor(async () => (await page.getByTestId('stat-documents').first().textContent())?.trim(), {
      what: 'the folder page to count the bucket documents',
      until: (t) => t === '3',
    });
    // The tree lists the source beside the documents root's folders, with its count.
    await waitFor(async () => (await page.getByTestId(`tree-count-${SOURCE}`).first().textContent({ timeout: 1_000 }).catch(() => null))?.trim(), {
      what: 'the folder tree to count the source',
      until: (t) => t === '3',
    });

    // Removal asks first; dismissing keeps it, accepting removes it.
    await page.goto(`${base}/sources`);
    await rows.first().waitFor();
    page.once('dialog', (d) => void d.dismiss());
    await page.getByRole('button', { name: `Remove ${SOURCE}` }).click();
    assert.equal(await rows.count(), 1, 'a dismissed confirmation removes nothing');
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await page.getByRole('button', { name: `Remove ${SOURCE}` }).click();
    await page.getByText('No buckets yet.').waitFor();
    assert.match(asked, new RegExp(`Remove the source ${SOURCE}\\?`));
    await page.getByRole('status').filter({ hasText: `Removed ${SOURCE}.` }).waitFor();
    const gone = await api(base, 'GET', `/v1/sources/${SOURCE}`, undefined, { authorization: `Bearer ${adminKey}` });
    assert.equal(gone.status, 404);
    await page.close();
    assert.deepEqual(pageErrors, []);
  });

  it('refuses an editor key: the list and the form show the server\'s 403', async () => {
    const refusal = await errorOf('POST', '/v1/sources', { name: 'editor-added', kind: 's3', bucket: BUCKET }, editorKey);
    assert.equal(refusal.status, 403);
    const page = await pageWithKey(editorKey);
    await page.goto(`${base}/sources`);
    await page.getByRole('heading', { name: 'Sources', level: 1 }).waitFor();
    // The list is refused too, with the same message.
    await page.getByRole('alert').filter({ hasText: refusal.message }).first().waitFor();
    // A refused list is not an empty one.
    assert.equal(await page.getByText('No buckets yet.').count(), 0, 'a refused list does not claim there are no buckets');
    const form = page.getByRole('form', { name: 'Add a bucket' });
    await form.getByLabel(/^Name/).fill('editor-added');
    await form.getByLabel('Bucket', { exact: true }).fill(BUCKET);
    await form.getByLabel(/^Endpoint/).fill(s3.endpoint);
    await form.getByRole('button', { name: 'Add bucket' }).click();
    await form.getByRole('alert').filter({ hasText: refusal.message }).waitFor();
    assert.equal(await form.getByRole('status').count(), 0, 'no success notice');
    // The editor's navigation does not offer the page, and nothing was added.
    assert.equal(await page.getByRole('navigation').getByRole('link', { name: 'Sources' }).count(), 0);
    const list = await api<{ items: { name: string }[] }>(base, 'GET', '/v1/sources', undefined, { authorization: `Bearer ${adminKey}` });
    assert.ok(!list.body.items.some((s) => s.name === 'editor-added'), 'nothing added');
    await page.close();
    assert.deepEqual(pageErrors, []);
  });
});
