/**
 * The whole service (API and worker in one runtime) on a fresh test database, classifying the
 * files under `root` through a fake OpenAI-compatible server: the setup the classification tests
 * through HTTP share.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { pino } from 'pino';
import type { Evaluation } from '../../src/contract.ts';
import { parseConfig } from '../../src/config.ts';
import { startRuntime } from '../../src/container.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { writeTree } from './documents-root.ts';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai.ts';
import { api, appOf, type ApiTarget, type JobBody, waitForJob } from './http.ts';
import { waitFor } from './wait.ts';

export interface ClassifyRuntime {
  app: ApiTarget;
  stop(): Promise<void>;
}

/**
 * `env` adds to or overrides the settings (no client-side LLM rate limit by default). `db`: run on
 * this database and leave it to the caller (a restart on the same data); else a fresh one, dropped
 * at stop.
 */
export async function startClassifyRuntime(root: string, llmUrl: string, env: Record<string, string> = {}, opts: { db?: TestDatabase } = {}): Promise<ClassifyRuntime> {
  const db = opts.db ?? (await createTestDatabase({ migrate: false }));
  const settings = { DATABASE_URL: db.url, DOCS_ROOT: root, PORT: '0', OPENAI_BASE_URL: llmUrl, OPENAI_API_KEY: 'test-key', LLM_MODEL: 'gpt-4o-mini', LLM_RPM: '0', LLM_TPM: '0' };
  const runtime = await startRuntime(parseConfig({ ...settings, ...env }), { api: true, worker: true }, pino({ level: 'silent' }));
  return {
    app: appOf(runtime),
    async stop() {
      await runtime.stop();
      if (!opts.db) await db.drop();
    },
  };
}

export interface ClassifyFixture {
  app: ApiTarget;
  fake: FakeOpenAI;
  /** The service's address, for a browser or the CLI. */
  base: string;
  root: string;
  /** Document ids of `folder` by file name. */
  ids: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * `files` written under a fresh root, the fake OpenAI server, the whole service, a taxonomy
 * (`taxonomy`, the body of POST /v1/taxonomies) and `folder` scanned: the start most tests of
 * classification, review and evaluation through HTTP share.
 */
export async function startClassifyFixture(opts: {
  prefix: string;
  files: Record<string, string>;
  folder: string;
  taxonomy: Record<string, unknown>;
  env?: Record<string, string>;
}): Promise<ClassifyFixture> {
  const root = await writeTree(opts.prefix, opts.files);
  const fake = await startFakeOpenAI({});
  const service = await startClassifyRuntime(root, fake.url, opts.env);
  const stop = async () => {
    await service.stop();
    await fake.close();
    await rm(root, { recursive: true, force: true });
  };
  try {
    const app = service.app;
    const fastify = app as unknown as { server: { address(): { port: number } } };
    const created = await api(app, 'POST', '/v1/taxonomies', opts.taxonomy);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const scan = await api<JobBody>(app, 'POST', '/v1/scans', { path: opts.folder });
    assert.equal((await waitForJob(app, scan.body.id)).status, 'completed');
    const list = await api<{ items: { id: string; name: string }[] }>(app, 'GET', `/v1/folders/${opts.folder}/documents`);
    const ids = Object.fromEntries(list.body.items.map((d) => [d.name, d.id]));
    return { app, fake, base: `http://127.0.0.1:${fastify.server.address().port}`, root, ids, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** POST /v1/evaluations with `body` (202 expected), then the run once it is no longer running. */
export async function runEvaluation(app: ApiTarget, body: Record<string, unknown>): Promise<Evaluation> {
  const start = await api<Evaluation>(app, 'POST', '/v1/evaluations', body);
  assert.equal(start.status, 202, JSON.stringify(start.body));
  return finishedEvaluation(app, start.body.id);
}

/** Evaluation `id` once it has stopped running. */
export function finishedEvaluation(app: ApiTarget, id: string): Promise<Evaluation> {
  return waitFor(async () => (await api<Evaluation>(app, 'GET', `/v1/evaluations/${id}`)).body, {
    what: `evaluation ${id} to finish`,
    timeoutMs: 60_000,
    until: (e) => e.status !== 'running',
  });
}
