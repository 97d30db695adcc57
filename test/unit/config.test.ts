import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config.ts';

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
