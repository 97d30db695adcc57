/** The pure parts of bucket sources: sealed secrets, the byte budget, failure codes, the CLI's s3:// URL. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseS3Url } from '../../src/cli/commands.ts';
import { unchangedSinceExtraction } from '../../src/domain/documents.ts';
import { SOURCE_NAME_PATTERN } from '../../src/domain/vocabulary.ts';
import { createByteBudget } from '../../src/services/byte-budget.ts';
import { s3Failure } from '../../src/services/s3-source.ts';
import { createSecretBox } from '../../src/services/secrets.ts';

describe('secret box', () => {
  it('seals with a fresh nonce and opens only under the same key', () => {
    const key = randomBytes(32);
    const box = createSecretBox(key);
    const a = box.seal('wJalrXUtnFEMI/K7MDENG');
    const b = box.seal('wJalrXUtnFEMI/K7MDENG');
    assert.notEqual(a, b, 'two seals of one value differ');
    assert.ok(!a.includes('wJalrXUtnFEMI'));
    assert.equal(box.open(a), 'wJalrXUtnFEMI/K7MDENG');
    assert.throws(() => createSecretBox(randomBytes(32)).open(a), /another SECRETS_KEY/);
    const [v, n, t, body] = a.split('.');
    const flipped = `${v}.${n}.${t}.${(body ?? '').slice(0, -2)}AA`;
    assert.throws(() => box.open(flipped));
  });

  it('without SECRETS_KEY a box does not encrypt, so the sources service refuses credentials (tested there)', () => {
    const box = createSecretBox(undefined);
    assert.equal(box.encrypting, false);
    assert.equal(createSecretBox(randomBytes(32)).encrypting, true);
  });
});

describe('byte budget', () => {
  it('admits holders up to its capacity, first come first served, and one oversize holder alone', async () => {
    const budget = createByteBudget(10);
    await budget.acquire(6);
    let second = false;
    let third = false;
    const p2 = budget.acquire(6).then(() => (second = true));
    const p3 = budget.acquire(1).then(() => (third = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(second, false, 'over capacity: waits');
    assert.equal(third, false, 'behind the waiting one: waits too (FIFO)');
    budget.release(6);
    await Promise.all([p2, p3]);
    assert.equal(budget.used, 7);
    budget.release(7);
    await budget.acquire(25);
    assert.equal(budget.used, 25, 'alone, a holder larger than the budget goes through');
  });
});

describe('bucket failures', () => {
  const code = (err: unknown) => s3Failure('b', err).code;
  it('maps the SDK’s errors to the vocabulary’s codes', () => {
    assert.equal(code(Object.assign(new Error('x'), { name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } })), 'source_denied');
    assert.equal(code(Object.assign(new Error('x'), { name: 'ExpiredToken', $metadata: { httpStatusCode: 400 } })), 'source_denied');
    assert.equal(code(Object.assign(new Error('x'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } })), 'source_throttled');
    assert.equal(code(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), 'source_unreachable');
    assert.equal(code(Object.assign(new Error('x'), { name: 'TimeoutError' })), 'source_unreachable');
    assert.equal(code(Object.assign(new Error('x'), { name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } })), 'folder_unavailable');
    assert.equal(s3Failure('b', new Error('x')).permanent, true, 'unreachable: the SDK retried already');
    assert.equal(s3Failure('b', Object.assign(new Error('x'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } })).permanent, false);
  });
});

describe('source names and s3:// URLs', () => {
  it('accepts slugs only', () => {
    for (const ok of ['minio-clients', 'ab', 'a1-b2-c3']) assert.ok(SOURCE_NAME_PATTERN.test(ok), ok);
    for (const bad of ['a', 'A-b', 'a--b', '-ab', 'ab-', 'a_b', 'a/b', 'a b', '..', 'x'.repeat(64)]) assert.ok(!SOURCE_NAME_PATTERN.test(bad), bad);
  });
  it('splits s3://bucket/prefix', () => {
    assert.deepEqual(parseS3Url('s3://clients'), { bucket: 'clients', prefix: '' });
    assert.deepEqual(parseS3Url('s3://clients/in/2024/'), { bucket: 'clients', prefix: 'in/2024' });
    assert.throws(() => parseS3Url('https://clients/x'));
  });
});

describe('the skip rule with ETags', () => {
  it('an object rewritten within the same second at the same size is changed when its ETag is', () => {
    const mtime = new Date('2026-12-06T07:00:00Z');
    const row = { size: '12', mtime, status: 'extracted' as const, etag: '"aaa"' };
    assert.equal(unchangedSinceExtraction(row, { size: 12, mtime, etag: '"aaa"' }), true);
    assert.equal(unchangedSinceExtraction(row, { size: 12, mtime, etag: '"bbb"' }), false);
    // Files on disk have no ETag on either side: size and mtime decide, as before.
    assert.equal(unchangedSinceExtraction({ ...row, etag: null }, { size: 12, mtime }), true);
  });
});
