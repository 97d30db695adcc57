/**
 * The whole service (API and worker in one runtime) on a fresh test database, classifying the
 * files under `root` through a fake OpenAI-compatible server: the setup the classification tests
 * through HTTP share.
 */
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import { startRuntime } from '../../src/container.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { appOf, type ApiTarget } from './http.ts';

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
