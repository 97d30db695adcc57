/**
 * Defect: /health and /ready shared the anonymous per-address limit, so anyone guessing keys
 * (behind a proxy without TRUST_PROXY every caller has the proxy's address) made the
 * orchestrator's probes fail. Probes are never rate limited, and an address's failed attempts
 * lock out neither valid keys nor other addresses. Once with the in-process store, once with the
 * Redis store (the API replicas' shared one).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createKeysService } from '../../src/services/keys.service.ts';
import { createKeysRepository } from '../../src/store/keys.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
const GUESSER = '203.0.113.7';
const ANONYMOUS_PER_MINUTE = 3;
const GUESSES = 20;

for (const mode of ['memory', 'redis'] as const) {
  describe(`probes and valid keys under a flood of failed attempts (${mode} store)`, () => {
    let db: TestDatabase;
    let root: string;
    let runtime: Runtime;
    let key: string;
    const queueName = `probes-${randomUUID()}`;

    before(async () => {
      root = await mkdtemp(path.join(tmpdir(), 'docsight-probes-'));
      db = await createTestDatabase();
      key = (await createKeysService(createKeysRepository(db.db)).create({ name: 'monitor', role: 'viewer' })).key;
      runtime = await startRuntime(
        parseConfig({
          DATABASE_URL: db.url,
          DOCS_ROOT: root,
          PORT: '0',
          AUTH_REQUIRED: 'true',
          RATE_LIMIT_ANONYMOUS_PER_MINUTE: String(ANONYMOUS_PER_MINUTE),
          RATE_LIMIT_PER_MINUTE: '100',
          QUEUE_NAME: queueName,
          ...(mode === 'redis' ? { REDIS_URL } : {}),
        }),
        { api: true, worker: false },
        pino({ level: 'silent' }),
      );
    });

    after(async () => {
      await runtime?.stop();
      await db?.drop();
      await rm(root, { recursive: true, force: true });
      if (mode === 'redis') {
        const redis = new Redis(REDIS_URL);
        const keys = await redis.keys(`docsight:${queueName}:*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
    });

    const request = (url: string, opts: { ip?: string; key?: string } = {}) => {
      const app = runtime.app;
      if (!app) throw new Error('the runtime serves no API');
      return app.inject({
        method: 'GET',
        url,
        remoteAddress: opts.ip ?? GUESSER,
        headers: opts.key === undefined ? {} : { authorization: `Bearer ${opts.key}` },
      });
    };

    it('keeps answering probes and valid keys after many failed attempts from one address', async () => {
      const guesses: number[] = [];
      for (let i = 0; i < GUESSES; i++) {
        guesses.push((await request('/v1/me', { key: `dsk_${String(i).padStart(8, 'x')}_${'z'.repeat(43)}` })).statusCode);
      }
      // The guessing itself is limited: the first attempts are refused, the rest rate limited.
      assert.deepEqual(guesses.slice(0, ANONYMOUS_PER_MINUTE), Array(ANONYMOUS_PER_MINUTE).fill(401));
      assert.deepEqual(guesses.slice(ANONYMOUS_PER_MINUTE), Array(GUESSES - ANONYMOUS_PER_MINUTE).fill(429));

      for (let i = 0; i < GUESSES; i++) {
        const health = await request('/health');
        assert.equal(health.statusCode, 200, `/health #${i}: ${health.body}`);
        assert.equal(health.headers['x-ratelimit-limit'], undefined, 'probes are not counted');
        const ready = await request('/ready');
        assert.equal(ready.statusCode, 200, `/ready #${i}: ${ready.body}`);
      }
      // A probe reads no key, so it can neither be locked out by one nor be used to test one.
      assert.equal((await request('/health', { key: 'dsk_wrong' })).statusCode, 200);

      const valid = await request('/v1/me', { key });
      assert.equal(valid.statusCode, 200, valid.body);
      assert.equal(valid.headers['x-ratelimit-limit'], '100', 'a valid key is counted against its own budget');

      const elsewhere = await request('/v1/me', { ip: '198.51.100.20' });
      assert.equal(elsewhere.statusCode, 401, 'another address still has its own budget');

      const stillLimited = await request('/v1/me');
      assert.equal(stillLimited.statusCode, 429);
      assert.ok(Number(stillLimited.headers['retry-after']) > 0, 'Retry-After given');
    });
  });
}
