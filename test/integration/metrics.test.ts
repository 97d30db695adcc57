/**
 * Operations, end to end in one process on the machine's PostgreSQL (and Redis for the queue
 * dashboard): a scan moves the Prometheus counters an operator watches, the request id of the
 * POST that started it shows up in the worker's log lines, a classification (against the fake
 * OpenAI server, one 429 on the way) moves the LLM counters, the key-less METRICS_PORT listener
 * answers, and bull-board answers on /admin/queues to loopback callers only.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { makeTestRoot, type TestRoot } from '../support/documents-root.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.ts';
import { createKeysRepository } from '../../src/store/keys.repository.ts';
import { createKeysService } from '../../src/services/keys.service.ts';
import { api, appOf, type ApiTarget, waitForJob } from '../support/http.ts';
import { sample } from '../support/prometheus.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A pino logger whose JSON lines the test can read. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

describe('metrics, request ids and the metrics listener', () => {
  let db: TestDatabase;
  let tree: TestRoot;
  let runtime: Runtime;
  let app: ApiTarget;
  let fake: FakeOpenAI;
  const logs = capturingLogger();
  const metricsPort = 20_000 + Math.floor(Math.random() * 20_000);

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    tree = await makeTestRoot(12);
    fake = await startFakeOpenAI({ latencyMs: 5, script: ['rate-limit'], retryAfterSeconds: 0 });
    const config = parseConfig({
      OPENAI_BASE_URL: fake.url,
      DATABASE_URL: db.url,
      QUEUE_NAME: `m${Date.now().toString(36)}`,
      DOCS_ROOT: tree.root,
      PORT: '0',
      METRICS_PORT: String(metricsPort),
      WORKER_CONCURRENCY: '2',
      EXTRACT_THREADS: '2',
      SCAN_BATCH_SIZE: '5',
      LLM_RPM: '60',
    });
    runtime = await startRuntime(config, { api: true, worker: true }, logs.log);
    app = appOf(runtime);
  });

  after(async () => {
    await runtime?.stop();
    await fake?.close();
    await db?.drop();
    if (tree) await rm(tree.root, { recursive: true, force: true });
  });

  it('counts requests by route pattern, documents by outcome and job runs by kind after a scan', async () => {
    const requestId = `test-${Date.now()}`;
    const start = await api<{ id: string }>(app, 'POST', '/v1/scans', { path: '.' }, { 'x-request-id': requestId });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const job = await waitForJob(app, start.body.id);
    assert.equal(job.status, 'completed');
    assert.ok(job.progress.done > 0 && job.progress.failed > 0, JSON.stringify(job.progress));

    const r = await api<string>(app, 'GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = r.body;

    assert.equal(sample(text, 'docsight_documents_extracted_total'), job.progress.done);
    assert.equal(sample(text, 'docsight_document_failures_total', { stage: 'extract' }), job.progress.failed);
    for (const f of job.failures ?? []) assert.ok(sample(text, 'docsight_document_failures_total', { reason: f.code }) >= 1, f.code);
    assert.equal(sample(text, 'docsight_http_requests_total', { method: 'POST', route: '/v1/scans', status: '202' }), 1);
    assert.ok(sample(text, 'docsight_http_requests_total', { method: 'GET', route: '/v1/jobs/:id', status: '200' }) >= 1);
    assert.ok(sample(text, 'docsight_http_request_duration_seconds_count', { route: '/v1/jobs/:id' }) >= 1);
    // Route patterns, never raw URLs: the job id must not become a label value.
    assert.ok(!text.includes(start.body.id), 'a job id leaked into a label');
    assert.equal(sample(text, 'docsight_job_duration_seconds_count', { kind: 'scan', outcome: 'completed' }), 1);
    assert.ok(sample(text, 'docsight_job_duration_seconds_count', { kind: 'extract', outcome: 'completed' }) >= Math.ceil(job.progress.total / 5));
    // Read at scrape time from the queue: the scan is over, nothing waits.
    assert.equal(sample(text, 'docsight_queue_jobs', { state: 'waiting' }), 0);
    // prom-client's process metrics are registered: this process has spent CPU time by now.
    assert.ok(sample(text, 'process_cpu_seconds_total') > 0);

    const unmatched = await api(app, 'GET', `/v1/no-such-route/${start.body.id}`);
    assert.equal(unmatched.status, 404);
    const after404 = (await api<string>(app, 'GET', '/metrics')).body;
    assert.equal(sample(after404, 'docsight_http_requests_total', { route: 'unmatched', status: '404' }), 1);

    // The POST's request id is on the job and on the worker's log lines for it.
    const row = await db.db.selectFrom('jobs').select('request_id').where('id', '=', start.body.id).executeTakeFirstOrThrow();
    assert.equal(row.request_id, requestId);
    const workerLines = logs.lines.filter((l) => l.jobId === start.body.id && l.role === 'worker');
    assert.ok(workerLines.length > 0, 'no worker log line carries the jobId');
    assert.ok(workerLines.every((l) => l.requestId === requestId), JSON.stringify(workerLines.slice(0, 2)));
    assert.ok(workerLines.some((l) => l.msg === 'extract batch done'));
  });

  it('counts LLM requests by status, SDK retries, 429s, tokens, cost and classified documents', async () => {
    const start = await api<{ id: string }>(app, 'POST', '/v1/classifications', { path: 'Company A' });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const job = await waitForJob(app, start.body.id);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.ok(job.progress.done > 0);
    const text = (await api<string>(app, 'GET', '/metrics')).body;
    assert.equal(sample(text, 'docsight_documents_classified_total'), job.progress.done);
    // The script's one 429 was retried by the SDK: every request reached the fake and was counted.
    assert.equal(sample(text, 'docsight_llm_requests_total', { status: '429' }), 1);
    assert.equal(sample(text, 'docsight_llm_rate_limited_total'), 1);
    assert.equal(sample(text, 'docsight_llm_retries_total'), 1);
    assert.equal(sample(text, 'docsight_llm_requests_total'), fake.stats.requests);
    assert.ok(sample(text, 'docsight_llm_tokens_total', { direction: 'input' }) > 0);
    assert.ok(sample(text, 'docsight_llm_tokens_total', { direction: 'output' }) > 0);
    assert.ok(sample(text, 'docsight_llm_cost_usd_total') > 0);
    // LLM_RPM=60 lets a burst of 6 requests through, then one a second: the rest of the folder waited.
    assert.ok(sample(text, 'docsight_llm_rate_limit_wait_seconds_total') > 0.5, text.match(/^docsight_llm_rate_limit_wait.*$/m)?.[0]);
    assert.ok(sample(text, 'docsight_job_duration_seconds_count', { kind: 'classify', outcome: 'completed' }) >= 1);
  });

  it('serves the same registry on METRICS_PORT without a key, and nothing else there', async () => {
    const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.ok(sample(text, 'docsight_documents_extracted_total') > 0);
    const other = await fetch(`http://127.0.0.1:${metricsPort}/v1/jobs`);
    assert.equal(other.status, 404);
  });
});

/**
 * An API on PostgreSQL and Redis with the queue dashboard, on its own database and queue name;
 * `before` runs `prepare` on the migrated database first (to create keys).
 */
function queueDashboardServer(env: Record<string, string>, prepare?: (db: TestDatabase) => Promise<void>) {
  let tree: TestRoot | undefined;
  let runtime: Runtime | undefined;
  const s = {
    get app(): ApiTarget {
      return appOf(runtime ?? {});
    },
    db: undefined as TestDatabase | undefined,
    queueName: `qd${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
  };
  before(async () => {
    s.db = await createTestDatabase();
    await prepare?.(s.db);
    tree = await makeTestRoot(2);
    const config = parseConfig({ DATABASE_URL: s.db.url, REDIS_URL, QUEUE_NAME: s.queueName, DOCS_ROOT: tree.root, PORT: '0', EXTRACT_THREADS: '1', ...env });
    runtime = await startRuntime(config, { api: true, worker: false }, pino({ level: 'silent' }));
  });
  after(async () => {
    await runtime?.stop();
    await s.db?.drop();
    if (tree) await rm(tree.root, { recursive: true, force: true });
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`*${s.queueName}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });
  return s;
}

describe('queue dashboard (Redis mode)', () => {
  const server = queueDashboardServer({});

  it('shows bull-board with our queue to a direct loopback caller', async () => {
    const page = await api<string>(server.app, 'GET', '/admin/queues');
    assert.equal(page.status, 200);
    assert.match(page.body, /<html/i);
    const queues = await api<{ queues: { name: string }[] }>(server.app, 'GET', '/admin/queues/api/queues');
    assert.equal(queues.status, 200, JSON.stringify(queues.body).slice(0, 300));
    assert.deepEqual(queues.body.queues.map((q) => q.name), [server.queueName]);
  });

  it('refuses a request that came through a proxy, with a JSON 403', async () => {
    const r = await api<{ error: { code: string } }>(server.app, 'GET', '/admin/queues', undefined, { 'x-forwarded-for': '203.0.113.7' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'forbidden');
  });
});

describe('queue dashboard with keys required: the browser session cookie', () => {
  const keys: Record<'admin' | 'viewer' | 'scopedAdmin' | 'revoked', string> = { admin: '', viewer: '', scopedAdmin: '', revoked: '' };
  let revokedId = '';
  const server = queueDashboardServer({ AUTH_REQUIRED: 'true' }, async (db) => {
    const svc = createKeysService(createKeysRepository(db.db));
    keys.admin = (await svc.create({ name: 'admin', role: 'admin' })).key;
    keys.viewer = (await svc.create({ name: 'viewer', role: 'viewer' })).key;
    keys.scopedAdmin = (await svc.create({ name: 'scoped admin', role: 'admin', scopes: ['a'] })).key;
    const r = await svc.create({ name: 'to revoke', role: 'admin' });
    keys.revoked = r.key;
    revokedId = r.record.id;
  });
  const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
  const cookieOf = (setCookie: string | null) => (setCookie ?? '').split(';')[0] ?? '';

  it('asks for a key, takes an admin key as a header, and refuses viewers and scoped admins', async () => {
    assert.equal((await api(server.app, 'GET', '/admin/queues')).status, 401);
    assert.equal((await api(server.app, 'GET', '/admin/queues/api/queues', undefined, bearer(keys.admin))).status, 200);
    assert.equal((await api(server.app, 'GET', '/admin/queues/api/queues', undefined, bearer(keys.viewer))).status, 403);
    assert.equal((await api(server.app, 'GET', '/admin/queues/api/queues', undefined, bearer(keys.scopedAdmin))).status, 403);
    const viewer = await api<{ error: { code: string } }>(server.app, 'POST', '/v1/admin/queue-session', {}, bearer(keys.viewer));
    assert.equal(viewer.status, 403);
    const scoped = await api<{ error: { code: string } }>(server.app, 'POST', '/v1/admin/queue-session', {}, bearer(keys.scopedAdmin));
    assert.equal(scoped.status, 403);
  });

  it('opens bull-board in a browser through a cookie limited to /admin/queues, and nowhere else', async () => {
    const res = await api(server.app, 'POST', '/v1/admin/queue-session', {}, bearer(keys.admin));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { url: '/admin/queues' });
    const setCookie = res.headers.get('set-cookie') ?? '';
    for (const attr of ['Path=/admin/queues', 'HttpOnly', 'SameSite=Strict']) assert.ok(setCookie.includes(attr), `${attr} in ${setCookie}`);
    assert.doesNotMatch(setCookie, /Expires|Max-Age/i, 'a browser-session cookie');
    const cookie = cookieOf(setCookie);

    const page = await api<string>(server.app, 'GET', '/admin/queues', undefined, { cookie });
    assert.equal(page.status, 200);
    assert.match(page.body, /<html/i);
    const queues = await api<{ queues: { name: string }[] }>(server.app, 'GET', '/admin/queues/api/queues', undefined, { cookie });
    assert.equal(queues.status, 200);
    assert.deepEqual(queues.body.queues.map((q) => q.name), [server.queueName]);

    // The cookie is not a key for the API.
    assert.equal((await api(server.app, 'GET', '/v1/jobs', undefined, { cookie })).status, 401);
    // Another site cannot drive bull-board's actions with it (browsers send Origin on a PUT).
    const pause = await api(server.app, 'PUT', `/admin/queues/api/queues/${server.queueName}/pause`, undefined, { cookie, origin: 'https://evil.example' });
    assert.equal(pause.status, 403);
    const paused = await api<{ queues: { name: string; isPaused: boolean }[] }>(server.app, 'GET', '/admin/queues/api/queues', undefined, { cookie });
    assert.equal(paused.body.queues[0]?.isPaused, false);
  });

  it('ends the session when the key is revoked', async () => {
    const res = await api(server.app, 'POST', '/v1/admin/queue-session', {}, bearer(keys.revoked));
    const cookie = cookieOf(res.headers.get('set-cookie'));
    assert.equal((await api(server.app, 'GET', '/admin/queues/api/queues', undefined, { cookie })).status, 200);
    await createKeysService(createKeysRepository((server.db as TestDatabase).db)).revoke(revokedId);
    assert.equal((await api(server.app, 'GET', '/admin/queues/api/queues', undefined, { cookie })).status, 401);
    assert.equal((await api(server.app, 'GET', '/admin/queues', undefined, { cookie: 'docsight_queues=dsk_AAAAAAAA_nope' })).status, 401);
  });
});
