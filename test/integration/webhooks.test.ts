/**
 * Webhooks end to end: a real receiver on loopback (WEBHOOK_ALLOW_PRIVATE=true) gets signed
 * events after real scans and a classification; a failing receiver is retried with backoff and
 * the webhook disabled after repeated failures; a hanging one is cut off; a webhook on a folder
 * hears only that folder; the secret is shown once and stored sealed.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { sql } from 'kysely';
import { runClientCommand } from '../../src/cli/index.ts';
import { parseConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import type { CreatedWebhook, Webhook, WebhookAttempt } from '../../src/contract.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { buildDocx } from '../support/docx-fixtures.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.ts';
import { api, appOf, type ApiTarget, type JobBody, waitForJob } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  at: number;
}

interface EventBody {
  id: string;
  type: string;
  createdAt: string;
  data: Record<string, unknown>;
}

/** A receiver: /ok* answers 204, /fail 500, /hang never, /redirect 302; it keeps every request's raw body. */
async function startReceiver(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const p = req.url ?? '';
      received.push({ path: p, headers: req.headers, raw: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      if (p.startsWith('/ok')) res.writeHead(204).end();
      else if (p === '/fail') res.writeHead(500, { 'content-type': 'text/plain' }).end(`broken ${'x'.repeat(5000)}`);
      else if (p === '/redirect') res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      // /hang: never answers
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Check `docsight-signature` over the raw body as docs/webhooks.md tells receivers to. */
function verify(secret: string, r: Received): boolean {
  const header = String(r.headers['docsight-signature'] ?? '');
  const parts = Object.fromEntries(header.split(',').map((kv) => kv.split('=') as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300 || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${r.raw}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const body = (r: Received) => JSON.parse(r.raw) as EventBody;

describe('webhooks', () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime;
  let app: ApiTarget;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let llm: FakeOpenAI;

  const create = async (input: Record<string, unknown>) => {
    const r = await api<CreatedWebhook>(app, 'POST', '/v1/webhooks', input);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };
  const scan = async (folder: string) => {
    const r = await api<JobBody>(app, 'POST', '/v1/scans', { path: folder });
    assert.ok(r.status === 202 || r.status === 200, JSON.stringify(r.body));
    const job = await waitForJob(app, r.body.id, 60_000);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    return job;
  };
  const attempts = async (id: string) => (await api<{ items: WebhookAttempt[]; nextCursor: string | null }>(app, 'GET', `/v1/webhooks/${id}/deliveries?limit=200`)).body.items;
  const at = (p: string) => receiver.received.filter((r) => r.path === p);

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'docsight-webhooks-'));
    for (const folder of ['Company A', 'Company A/Sub', 'Company B', 'Fail', 'Hang', 'Redirect']) {
      await mkdir(path.join(root, folder), { recursive: true });
      await writeFile(path.join(root, folder, 'note.docx'), buildDocx({ title: `${folder} note`, creator: 'x', paragraphs: [`About ${folder}.`] }));
    }
    receiver = await startReceiver();
    llm = await startFakeOpenAI({ latencyMs: 0 });
    db = await createTestDatabase({ migrate: false });
    const config = parseConfig({
      DATABASE_URL: db.url,
      DOCS_ROOT: root,
      PORT: '0',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_POLL_MS: '50',
      WEBHOOK_BACKOFF_BASE_MS: '100',
      WEBHOOK_BACKOFF_MAX_MS: '400',
      WEBHOOK_TIMEOUT_MS: '500',
      WEBHOOK_RETRY_FOR_MS: '1500',
      WEBHOOK_DISABLE_AFTER: '2',
      SECRETS_KEY: randomBytes(32).toString('hex'),
      OPENAI_BASE_URL: llm.url,
      OPENAI_API_KEY: 'test-key',
      LLM_RPM: '0',
      LLM_TPM: '0',
      // Every tag the fake answers (confidence 0.5 to 0.95) is under it: every document needs review.
      REVIEW_CONFIDENCE_THRESHOLD: '0.99',
    });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'silent' }));
    app = appOf(runtime);
  });

  after(async () => {
    await runtime?.stop();
    await receiver?.close();
    await llm?.close();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('delivers a signed job.completed and documents.changed after a real scan, and never shows the secret again', async () => {
    const hook = await create({ url: `${receiver.url}/ok`, events: ['job.completed', 'documents.changed'] });
    assert.match(hook.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.equal(hook.folder, null);
    assert.equal(hook.enabled, true);

    const job = await scan('Company A');
    const got = await waitFor(() => at('/ok'), { what: 'job.completed and documents.changed at the receiver', until: (rs) => rs.length >= 2 });
    const completed = got.find((r) => body(r).type === 'job.completed');
    const changed = got.find((r) => body(r).type === 'documents.changed');
    assert.ok(completed && changed, got.map((r) => r.raw).join('\n'));
    for (const r of [completed, changed]) {
      assert.ok(verify(hook.secret, r), `signature checks over the raw body: ${String(r.headers['docsight-signature'])}`);
      assert.ok(!verify(`${hook.secret}x`, r), 'another secret does not verify');
      assert.equal(r.headers['docsight-event-id'], body(r).id);
      assert.equal(r.headers['content-type'], 'application/json');
    }
    assert.ok(!verify(hook.secret, { ...completed, raw: completed.raw.replace('completed', 'completeD') }), 'a changed body does not verify');
    assert.deepEqual(
      { type: body(completed).type, jobId: body(completed).data.jobId, status: body(completed).data.status, folder: body(completed).data.folder },
      { type: 'job.completed', jobId: job.id, status: 'completed', folder: 'Company A' },
    );
    assert.deepEqual(body(changed).data, { jobId: job.id, folder: 'Company A', added: 2, changed: 0, deleted: 0 });

    // The secret is in the creation answer only, and stored sealed, not as it is.
    const listed = await api<{ items: Webhook[] }>(app, 'GET', '/v1/webhooks');
    const one = await api<Webhook>(app, 'GET', `/v1/webhooks/${hook.id}`);
    const log = await api(app, 'GET', `/v1/webhooks/${hook.id}/deliveries`);
    for (const r of [listed, one, log]) {
      assert.equal(r.status, 200);
      assert.ok(!JSON.stringify(r.body).includes(hook.secret) && !JSON.stringify(r.body).includes('"secret"'), JSON.stringify(r.body));
    }
    const stored = await sql<{ secret: string }>`select secret from webhooks where id = ${hook.id}`.execute(db.db);
    assert.match(stored.rows[0]?.secret ?? '', /^v1:/);
    assert.ok(!stored.rows[0]?.secret.includes(hook.secret.slice(6)));

    const delivered = await attempts(hook.id);
    assert.ok(delivered.some((a) => a.event === 'job.completed' && a.statusCode === 204 && a.error === null && a.deliveryStatus === 'delivered'));

    // A rescan that finds nothing new still ends a job, but changes no documents.
    const before = at('/ok').length;
    const again = await scan('Company A');
    await waitFor(() => at('/ok').some((r) => body(r).data.jobId === again.id), { what: 'the rescan job.completed' });
    assert.equal(at('/ok').length, before + 1, 'no documents.changed for a scan that changed nothing');
    await api(app, 'DELETE', `/v1/webhooks/${hook.id}`);
  });

  it("sends a folder's events only to webhooks on that folder or above it", async () => {
    const onB = await create({ url: `${receiver.url}/ok-b`, events: ['job.completed'], folder: 'Company B' });
    const onA = await create({ url: `${receiver.url}/ok-a`, events: ['job.completed'], folder: 'Company A' });
    const jobSub = await scan('Company A/Sub');
    const jobB = await scan('Company B');
    await waitFor(() => at('/ok-b').length >= 1 && at('/ok-a').length >= 1, { what: 'both folder webhooks to hear their scans' });
    // Later deliveries would show up within a few polls; give them the time, then look.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(at('/ok-b').map((r) => body(r).data.jobId), [jobB.id]);
    assert.deepEqual(at('/ok-a').map((r) => body(r).data.jobId), [jobSub.id], 'a subfolder is under its folder');
    const bad = await api(app, 'POST', '/v1/webhooks', { url: `${receiver.url}/ok`, events: ['job.completed'], folder: '../etc' });
    assert.equal(bad.status, 400);
    for (const h of [onA, onB]) assert.equal((await api(app, 'DELETE', `/v1/webhooks/${h.id}`)).status, 200);
    assert.equal((await api(app, 'GET', `/v1/webhooks/${onA.id}`)).status, 404);
  });

  it('retries a failing receiver with backoff, logs every attempt, gives up, and disables the webhook after repeated failures', async () => {
    const hook = await create({ url: `${receiver.url}/fail`, events: ['job.completed'], folder: 'Fail' });
    const first = await scan('Fail');
    // WEBHOOK_RETRY_FOR_MS=1500: the event is retried, then given up.
    const log = await waitFor(() => attempts(hook.id), {
      what: 'the first event to be given up',
      timeoutMs: 20_000,
      until: (items) => items.length > 0 && items.every((a) => a.deliveryStatus === 'failed'),
    });
    const tries = log.filter((a) => a.event === 'job.completed').reverse();
    assert.ok(tries.length >= 3, `at least 3 attempts: ${JSON.stringify(tries)}`);
    assert.deepEqual(tries.map((a) => a.attempt), tries.map((_, i) => i + 1));
    for (const a of tries) {
      assert.equal(a.statusCode, 500);
      assert.match(a.error ?? '', /^HTTP 500: broken x+/);
      assert.ok((a.error ?? '').length < 300, 'only a small piece of the answer is kept');
    }
    // Every attempt carried the same event id; the waits grew (equal jitter: at least half of base × 2^n).
    const seen = at('/fail');
    assert.ok(seen.every((r) => body(r).id === tries[0]?.eventId && body(r).data.jobId === first.id));
    const times = tries.map((a) => Date.parse(a.at));
    for (let i = 1; i < times.length; i++) {
      const floor = Math.min(400, 100 * 2 ** (i - 1)) / 2;
      assert.ok((times[i] ?? 0) - (times[i - 1] ?? 0) >= floor - 5, `wait before attempt ${i + 1} is at least ${floor} ms: ${times.join(', ')}`);
    }
    let state = (await api<Webhook>(app, 'GET', `/v1/webhooks/${hook.id}`)).body;
    assert.deepEqual([state.enabled, state.consecutiveFailures], [true, 1]);

    // A second event given up in a row: WEBHOOK_DISABLE_AFTER=2 disables it, and GET says so.
    await writeFile(path.join(root, 'Fail', 'second.docx'), buildDocx({ title: 'Second', paragraphs: ['Second.'] }));
    await scan('Fail');
    state = await waitFor(async () => (await api<Webhook>(app, 'GET', `/v1/webhooks/${hook.id}`)).body, {
      what: 'the webhook to be disabled',
      timeoutMs: 20_000,
      until: (w) => !w.enabled,
    });
    assert.equal(state.consecutiveFailures, 2);
    assert.ok(state.disabledAt);
    assert.match(state.disabledReason ?? '', /2 events in a row/);
    const listed = (await api<{ items: Webhook[] }>(app, 'GET', '/v1/webhooks')).body.items.find((w) => w.id === hook.id);
    assert.equal(listed?.enabled, false);

    // Disabled: no more deliveries. Enabled again: counts from zero.
    const count = at('/fail').length;
    await scan('Fail');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(at('/fail').length, count);
    const resumed = await api<Webhook>(app, 'PATCH', `/v1/webhooks/${hook.id}`, { enabled: true });
    assert.deepEqual([resumed.body.enabled, resumed.body.consecutiveFailures, resumed.body.disabledReason], [true, 0, null]);

    // The log pages with a cursor, newest first, without repeats.
    const page1 = await api<{ items: WebhookAttempt[]; nextCursor: string | null }>(app, 'GET', `/v1/webhooks/${hook.id}/deliveries?limit=2`);
    assert.equal(page1.body.items.length, 2);
    assert.ok(page1.body.nextCursor);
    const page2 = await api<{ items: WebhookAttempt[] }>(app, 'GET', `/v1/webhooks/${hook.id}/deliveries?limit=2&cursor=${page1.body.nextCursor}`);
    assert.ok(page2.body.items.length > 0);
    assert.ok(Number(page2.body.items[0]?.id) < Number(page1.body.items[1]?.id));
    assert.equal((await api(app, 'GET', `/v1/webhooks/${hook.id}/deliveries?cursor=nonsense`)).status, 400);
    await api(app, 'DELETE', `/v1/webhooks/${hook.id}`);
  });

  it('cuts off a receiver that hangs, and does not follow redirects', async () => {
    const hang = await create({ url: `${receiver.url}/hang`, events: ['job.completed'], folder: 'Hang' });
    const redirect = await create({ url: `${receiver.url}/redirect`, events: ['job.completed'], folder: 'Redirect' });
    await scan('Hang');
    await scan('Redirect');
    const [cut] = await waitFor(() => attempts(hang.id), { what: 'an attempt at the hanging receiver', timeoutMs: 20_000, until: (items) => items.length > 0 });
    assert.equal(cut?.statusCode, null);
    assert.match(cut?.error ?? '', /No answer within 500 ms: cut off/);
    assert.ok((cut?.durationMs ?? 0) >= 450, `cut off at the timeout, not before: ${cut?.durationMs}`);
    const [moved] = await waitFor(() => attempts(redirect.id), { what: 'an attempt at the redirecting receiver', until: (items) => items.length > 0 });
    assert.equal(moved?.statusCode, 302);
    assert.match(moved?.error ?? '', /Redirects are not followed/);
    assert.equal(at('/redirect').length >= 1, true);
    for (const h of [hang, redirect]) await api(app, 'DELETE', `/v1/webhooks/${h.id}`);
  });

  it('says when a classification leaves documents to review', async () => {
    const hook = await create({ url: `${receiver.url}/ok-review`, events: ['classification.needs_review', 'job.failed'], folder: 'Company B' });
    const start = await api<JobBody>(app, 'POST', '/v1/classifications', { path: 'Company B' });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const job = await waitForJob(app, start.body.id, 60_000);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    const [r] = await waitFor(() => at('/ok-review'), { what: 'classification.needs_review', until: (rs) => rs.length > 0 });
    assert.ok(r && verify(hook.secret, r));
    const e = body(r);
    assert.equal(e.type, 'classification.needs_review');
    assert.equal(e.data.jobId, job.id);
    assert.equal(e.data.count, 1);
    assert.equal(e.data.threshold, 0.99);
    assert.deepEqual((e.data.documents as { path: string }[]).map((d) => d.path), ['Company B/note.docx']);
    await api(app, 'DELETE', `/v1/webhooks/${hook.id}`);
  });

  it("says nothing of review for an evaluation's run of another model: its results are kept beside the documents' own", async () => {
    // The run's job names its documents, not a folder: the hook takes every folder's events.
    const hook = await create({ url: `${receiver.url}/ok-eval`, events: ['classification.needs_review', 'job.completed'] });
    const labels = await api<{ imported: number }>(
      app,
      'POST',
      '/v1/evaluations/labels?taxonomy=internal-documents',
      JSON.stringify({ path: 'Company B/note.docx', tags: ['Meeting Notes'] }),
      { 'content-type': 'application/x-ndjson' },
    );
    assert.equal(labels.body.imported, 1, JSON.stringify(labels.body));
    const start = await api<{ id: string; jobId: string | null }>(app, 'POST', '/v1/evaluations', { path: 'Company B', model: 'another-model' });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    assert.ok(start.body.jobId);
    assert.equal((await waitForJob(app, start.body.jobId, 60_000)).status, 'completed');
    // Both events of a finished job are recorded together: once job.completed has come, a review event would have too.
    const ofRun = () => at('/ok-eval').filter((r) => body(r).data.jobId === start.body.jobId);
    await waitFor(async () => ofRun(), { what: 'job.completed of the evaluation', until: (rs) => rs.length > 0 });
    assert.deepEqual(ofRun().map((r) => body(r).type), ['job.completed']);
    await api(app, 'DELETE', `/v1/webhooks/${hook.id}`);
  });

  it('sends job.failed, with status cancelled, for a job cancelled on request', async () => {
    const hook = await create({ url: `${receiver.url}/ok-cancel`, events: ['job.failed', 'job.completed'], folder: 'Hang' });
    // The model answers slowly, so the classification is still running when it is cancelled.
    llm.set({ latencyMs: 5_000 });
    try {
      const start = await api<JobBody>(app, 'POST', '/v1/classifications', { path: 'Hang', force: true });
      assert.equal(start.status, 202, JSON.stringify(start.body));
      const cancel = await api(app, 'POST', `/v1/jobs/${start.body.id}/cancel`);
      assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
      const got = await waitFor(() => at('/ok-cancel').map(body).filter((e) => e.data.jobId === start.body.id), {
        what: 'job.failed for the cancelled job',
        until: (es) => es.length > 0,
      });
      assert.deepEqual(
        got.map((e) => [e.type, e.data.status, (e.data.error as { code: string } | null)?.code]),
        [['job.failed', 'cancelled', 'cancelled']],
      );
    } finally {
      llm.set({ latencyMs: 0 });
    }
    await api(app, 'DELETE', `/v1/webhooks/${hook.id}`);
  });

  it('refuses what is not an http(s) URL or an event, even with private addresses allowed', async () => {
    for (const url of ['ftp://127.0.0.1/x', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url', 'http://user:pw@127.0.0.1/x']) {
      const r = await api<{ error: { code: string } }>(app, 'POST', '/v1/webhooks', { url, events: ['job.completed'] });
      assert.equal(r.status, 400, url);
      assert.equal(r.body.error.code, 'url_not_allowed', url);
    }
    const r = await api<{ error: { code: string } }>(app, 'POST', '/v1/webhooks', { url: `${receiver.url}/ok`, events: ['job.exploded'] });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'bad_request');
    assert.equal((await api(app, 'POST', '/v1/webhooks', { url: `${receiver.url}/ok`, events: [] })).status, 400);
  });

  it('is managed from the CLI: add prints the secret once, list shows it without, remove removes it', async () => {
    const run = async (...args: string[]) => {
      let out = '';
      let err = '';
      const code = await runClientCommand('webhooks', [...args, '--server', runtime.url ?? ''], {}, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
      return { code, out, err };
    };
    const added = await run('add', `${receiver.url}/ok-cli`, '--events', 'job.completed,job.failed', '--folder', 'Company A');
    assert.equal(added.code, 0, added.err);
    const secret = /secret {2}(whsec_\S+)/.exec(added.out)?.[1];
    const id = /^Webhook (\S+):/.exec(added.out)?.[1];
    assert.ok(secret && id, added.out);
    const listed = await run('list');
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, new RegExp(`${id}.*ok-cli.*job.completed,job.failed.*Company A.*enabled`));
    assert.ok(!listed.out.includes(secret));
    const asJson = await run('list', '--json');
    assert.ok((JSON.parse(asJson.out) as { items: { id: string }[] }).items.some((w) => w.id === id));
    const wrong = await run('add', `${receiver.url}/ok-cli`, '--events', 'job.exploded');
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /unknown event job.exploded/);
    const refused = await run('add', 'ftp://127.0.0.1/', '--events', 'job.completed');
    assert.equal(refused.code, 2);
    assert.match(refused.err, /\[url_not_allowed\]/);
    const removed = await run('remove', id);
    assert.equal(removed.code, 0, removed.err);
    assert.match(removed.out, /Removed webhook/);
    assert.equal((await run('remove', id)).code, 2);
  });
});
