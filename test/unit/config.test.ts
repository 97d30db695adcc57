import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, defaultClassifyBatchSize, parseConfig } from '../../src/config.ts';

describe('config', () => {
  it('has working defaults: loopback, port 8000, embedded database, Postgres queue, open auth', () => {
    const c = parseConfig({});
    assert.equal(c.port, 8000);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.redisUrl, undefined);
    assert.equal(c.authRequired, false);
    assert.ok(c.docsRoot.endsWith('/documents'));
    assert.ok(c.dataDir.endsWith('/data'));
  });

  it('requires auth when listening beyond loopback', () => {
    assert.equal(parseConfig({ HOST: '0.0.0.0' }).authRequired, true);
    assert.equal(parseConfig({ HOST: '0.0.0.0', AUTH_REQUIRED: 'false' }).authRequired, false);
  });

  it('treats empty strings as unset', () => {
    assert.equal(parseConfig({ DATABASE_URL: '', REDIS_URL: '' }).databaseUrl, undefined);
  });

  it('names the variable and never echoes the value in errors', () => {
    const secret = 'postgres-but-not-a-url-s3cr3t';
    assert.throws(
      () => parseConfig({ PORT: 'eighty', DATABASE_URL: secret, WORKER_CONCURRENCY: '0' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /PORT/);
        assert.match(err.message, /DATABASE_URL/);
        assert.match(err.message, /WORKER_CONCURRENCY/);
        assert.doesNotMatch(err.message, /s3cr3t/);
        return true;
      },
    );
  });

  it('rejects a Redis URL that is not redis:// and a malformed price table', () => {
    assert.throws(() => parseConfig({ REDIS_URL: 'http://127.0.0.1:6379' }), /REDIS_URL/);
    assert.throws(() => parseConfig({ LLM_PRICES: '{not json' }), /LLM_PRICES/);
    assert.throws(() => parseConfig({ LLM_PRICES: '{"m": {"input": "x"}}' }), /LLM_PRICES/);
    assert.deepEqual(parseConfig({ LLM_PRICES: '{"m": {"input": 1, "output": 2}}' }).llm.prices, { m: { input: 1, output: 2 } });
  });
});

describe('config: classification admission and the Batch API', () => {
  it('derives the classification batch size from LLM_CONCURRENCY: a worker admits four times as many documents', () => {
    assert.equal(defaultClassifyBatchSize(64, 4), 64);
    assert.equal(defaultClassifyBatchSize(10, 4), 10);
    assert.equal(defaultClassifyBatchSize(1, 256), 1);
    assert.equal(defaultClassifyBatchSize(1000, 1), 1000, 'capped at the largest batch');
    const untuned = parseConfig({});
    assert.equal(untuned.worker.classifyBatchSize, 64);
    assert.ok(untuned.worker.concurrency * untuned.worker.classifyBatchSize >= 4 * untuned.llm.concurrency);
    const raised = parseConfig({ LLM_CONCURRENCY: '200' });
    assert.equal(raised.worker.concurrency * raised.worker.classifyBatchSize, 800, 'follows LLM_CONCURRENCY without touching anything else');
    assert.equal(parseConfig({ LLM_CONCURRENCY: '200', WORKER_CONCURRENCY: '8' }).worker.classifyBatchSize, 100);
    assert.equal(parseConfig({ CLASSIFY_BATCH_SIZE: '25' }).worker.classifyBatchSize, 25, 'a set value wins');
    assert.throws(() => parseConfig({ CLASSIFY_BATCH_SIZE: '0' }), ConfigError);
  });

  it('offers the Batch API for the OpenAI API only, unless told', () => {
    assert.equal(parseConfig({}).llm.batchApi.supported, true);
    assert.equal(parseConfig({ OPENAI_BASE_URL: 'https://api.openai.com/v1' }).llm.batchApi.supported, true);
    assert.equal(parseConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }).llm.batchApi.supported, false);
    assert.equal(parseConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', LLM_BATCH_API: 'true' }).llm.batchApi.supported, true);
    assert.equal(parseConfig({ LLM_BATCH_API: 'false' }).llm.batchApi.supported, false);
    const b = parseConfig({}).llm.batchApi;
    assert.deepEqual([b.minDocuments, b.priceFactor, b.pollMs], [5000, 0.5, 60_000]);
  });
});
