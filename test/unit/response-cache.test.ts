/**
 * The API's response cache (api/plugins/response-cache.ts) on a small Fastify app whose handler
 * counts its runs and whose data version the test moves: what is served again and what is
 * computed, by version (the race of a read with a commit), caller access, age, memory, the
 * answers a handler did not mark, the version being unknown, writes of the process itself, and
 * ETag / If-None-Match.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Principal } from '../../src/domain/access.ts';
import { cacheAnswer, registerResponseCache } from '../../src/api/plugins/response-cache.ts';

interface Fixture {
  app: FastifyInstance;
  runs: () => number;
  setVersion: (v: number | null) => void;
  version: () => number | null;
  advance: (ms: number) => void;
  get: (url: string, headers?: Record<string, string>) => Promise<{ status: number; body: string; etag: string | undefined }>;
}

const KEYS: Record<string, Principal> = {
  open: { keyId: null, role: 'admin', scopes: [] },
  a: { keyId: 'a', role: 'viewer', scopes: ['A'] },
  b: { keyId: 'b', role: 'viewer', scopes: ['B'] },
  ab: { keyId: 'ab', role: 'viewer', scopes: ['B', 'A'] },
  ba: { keyId: 'ba', role: 'viewer', scopes: ['A', 'B'] },
};

async function fixture(
  opts: { maxBytes?: number; maxAgeMs?: number; during?: (f: { bump: () => void }) => void | Promise<void> } = {},
): Promise<Fixture> {
  let version: number | null = 1;
  let clock = 1_000_000;
  let runs = 0;
  const app = Fastify();
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (req) => {
    req.principal = KEYS[String(req.headers['x-key'] ?? 'open')] ?? KEYS.open!;
  });
  const bump = () => {
    if (version !== null) version++;
  };
  registerResponseCache(app, {
    version: { current: () => version, bump },
    maxBytes: opts.maxBytes ?? 1024 * 1024,
    maxAgeMs: opts.maxAgeMs ?? 10_000,
    now: () => clock,
  });
  app.get('/things/:name', { config: { responseCache: true } }, async (req) => {
    runs++;
    const { name } = req.params as { name: string };
    const q = req.query as Record<string, string>;
    await opts.during?.({ bump });
    if (q.keep !== 'no') cacheAnswer(req);
    if (q.fail) throw new Error('failed');
    return { name, run: runs, who: req.principal.scopes, pad: 'x'.repeat(Number(q.pad ?? 0)) };
  });
  app.get('/plain', async () => ({ run: ++runs }));
  app.get('/some/:name', { config: { responseCache: (req) => (req.params as { name: string }).name === 'yes' } }, async (req) => {
    runs++;
    cacheAnswer(req);
    return { run: runs };
  });
  app.post('/things', async () => ({ ok: true }));
  await app.ready();
  return {
    app,
    runs: () => runs,
    setVersion: (v) => {
      version = v;
    },
    version: () => version,
    advance: (ms) => {
      clock += ms;
    },
    async get(url, headers = {}) {
      const r = await app.inject({ method: 'GET', url, headers });
      const etag = r.headers.etag;
      return { status: r.statusCode, body: r.body, etag: typeof etag === 'string' ? etag : undefined };
    },
  };
}

describe('response cache', () => {
  it('serves an answer again under the same version, and computes it again once the version moves', async () => {
    const f = await fixture();
    const first = await f.get('/things/x');
    const again = await f.get('/things/x');
    assert.equal(f.runs(), 1);
    assert.equal(again.body, first.body);
    assert.equal(JSON.parse(again.body).run, 1);
    f.setVersion(2);
    assert.equal(JSON.parse((await f.get('/things/x')).body).run, 2);
    assert.equal(f.runs(), 2);
    // Another name, another query: other answers.
    await f.get('/things/y');
    await f.get('/things/x?pad=1');
    assert.equal(f.runs(), 4);
    // The same query in another order is the same answer.
    await f.get('/things/z?a=1&b=2');
    await f.get('/things/z?b=2&a=1');
    assert.equal(f.runs(), 5);
  });

  it('never keeps an answer under a version that moved while it was computed (a commit racing the read)', async () => {
    let bumpOnce = true;
    const f = await fixture({
      during: ({ bump }) => {
        if (bumpOnce) bump();
        bumpOnce = false;
      },
    });
    const raced = await f.get('/things/x');
    assert.equal(JSON.parse(raced.body).run, 1);
    const next = await f.get('/things/x');
    assert.equal(JSON.parse(next.body).run, 2, 'the answer read before the commit was heard of is not served after it');
    assert.equal(JSON.parse((await f.get('/things/x')).body).run, 2, 'the one read after it is');
  });

  it('computes an answer asked for by many at once once, unless it is not kept', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const f = await fixture({ during: () => gate });
    const asked = Array.from({ length: 5 }, () => f.get('/things/x'));
    const unkept = Array.from({ length: 3 }, () => f.get('/things/y?keep=no'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    const bodies = (await Promise.all(asked)).map((r) => JSON.parse(r.body).run);
    assert.equal(new Set(bodies).size, 1, 'one answer for all five');
    await Promise.all(unkept);
    assert.equal(f.runs(), 1 + 3);
  });

  it('never serves an answer to a caller of other scopes or role; the same scopes in any order share', async () => {
    const f = await fixture();
    const open = JSON.parse((await f.get('/things/x')).body);
    const a = JSON.parse((await f.get('/things/x', { 'x-key': 'a' })).body);
    const b = JSON.parse((await f.get('/things/x', { 'x-key': 'b' })).body);
    assert.deepEqual([open.who, a.who, b.who], [[], ['A'], ['B']]);
    assert.equal(f.runs(), 3);
    assert.deepEqual(JSON.parse((await f.get('/things/x', { 'x-key': 'a' })).body).who, ['A']);
    assert.deepEqual(JSON.parse((await f.get('/things/x', { 'x-key': 'b' })).body).who, ['B']);
    assert.equal(f.runs(), 3);
    await f.get('/things/x', { 'x-key': 'ab' });
    await f.get('/things/x', { 'x-key': 'ba' });
    assert.equal(f.runs(), 4);
  });

  it('keeps nothing and serves nothing kept while the version is unknown', async () => {
    const f = await fixture();
    await f.get('/things/x');
    f.setVersion(null);
    await f.get('/things/x');
    await f.get('/things/x');
    assert.equal(f.runs(), 3);
    f.setVersion(7);
    await f.get('/things/x');
    await f.get('/things/x');
    assert.equal(f.runs(), 4);
  });

  it('keeps only answers the handler marked, with status 200, of requests whose route opted in', async () => {
    const f = await fixture();
    await f.get('/things/x?keep=no');
    await f.get('/things/x?keep=no');
    assert.equal(f.runs(), 2);
    assert.equal((await f.get('/things/x?fail=1')).status, 500);
    assert.equal((await f.get('/things/x?fail=1')).status, 500);
    assert.equal(f.runs(), 4);
    await f.get('/plain');
    await f.get('/plain');
    assert.equal(f.runs(), 6);
    // A route may opt in for some of its requests only.
    await f.get('/some/no');
    await f.get('/some/no');
    await f.get('/some/yes');
    await f.get('/some/yes');
    assert.equal(f.runs(), 9);
  });

  it('serves an answer no longer than its maximum age', async () => {
    const f = await fixture({ maxAgeMs: 1000 });
    await f.get('/things/x');
    f.advance(1000);
    await f.get('/things/x');
    assert.equal(f.runs(), 1);
    f.advance(1);
    await f.get('/things/x');
    assert.equal(f.runs(), 2);
  });

  it('past its age, serves the old answer while one request computes it again, and never after a write', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const f = await fixture({ maxAgeMs: 1000, during: () => (++calls === 2 ? gate : undefined) });
    assert.equal(JSON.parse((await f.get('/things/x')).body).run, 1);
    f.advance(1001);
    const again = f.get('/things/x');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const meanwhile = await Promise.race([f.get('/things/x'), new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), 1000))]);
    assert.notEqual(meanwhile, 'waited', 'served at once');
    assert.equal(meanwhile !== 'waited' && JSON.parse(meanwhile.body).run, 1, 'the old answer, while the new one is computed');
    release();
    assert.equal(JSON.parse((await again).body).run, 2);
    assert.equal(JSON.parse((await f.get('/things/x')).body).run, 2);
    // Once a write is heard, the old answer is never served, computing or not.
    f.advance(1001);
    let release2 = () => {};
    const gate2 = new Promise<void>((resolve) => {
      release2 = resolve;
    });
    const f2 = await fixture({ maxAgeMs: 1000, during: () => (++calls === 4 ? gate2 : undefined) });
    await f2.get('/things/x'); // call 3
    f2.setVersion(9);
    const computing = f2.get('/things/x'); // call 4, waits
    await new Promise((resolve) => setTimeout(resolve, 20));
    const waiting = f2.get('/things/x'); // waits for it
    await new Promise((resolve) => setTimeout(resolve, 20));
    release2();
    assert.deepEqual([JSON.parse((await computing).body).run, JSON.parse((await waiting).body).run], [2, 2]);
  });

  it('holds at most its memory, dropping the least recently used, and keeps no answer over an eighth of it', async () => {
    // About 3 KB per answer, under an eighth of 24 KB: eight fit.
    const f = await fixture({ maxBytes: 24 * 1024 });
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    for (const n of names) await f.get(`/things/${n}?pad=1300`);
    await f.get('/things/a?pad=1300'); // a is now the most recently used
    assert.equal(f.runs(), 8);
    await f.get('/things/i?pad=1300'); // b goes
    assert.equal(f.runs(), 9);
    for (const n of ['a', 'c', 'd', 'e', 'f', 'g', 'h', 'i']) await f.get(`/things/${n}?pad=1300`);
    assert.equal(f.runs(), 9);
    await f.get('/things/b?pad=1300');
    assert.equal(f.runs(), 10);
    await f.get('/things/big?pad=2000');
    await f.get('/things/big?pad=2000');
    assert.equal(f.runs(), 12);
  });

  it('moves the version when the process itself writes, before it answers', async () => {
    const f = await fixture();
    const before = f.version();
    await f.app.inject({ method: 'POST', url: '/things' });
    assert.equal(f.version(), (before ?? 0) + 1);
    await f.get('/things/x');
    assert.equal(f.version(), (before ?? 0) + 1, 'reads move nothing');
  });

  it('tags kept answers with an ETag and answers 304 to If-None-Match with it', async () => {
    const f = await fixture();
    const first = await f.get('/things/x');
    assert.ok(first.etag);
    const hit = await f.get('/things/x', { 'if-none-match': first.etag });
    assert.equal(hit.status, 304);
    assert.equal(hit.body, '');
    assert.equal((await f.get('/things/x', { 'if-none-match': '"other"' })).status, 200);
    f.setVersion(5);
    // Computed again, the same bytes: the same tag, still 304.
    assert.equal((await f.get('/things/y')).status, 200);
    const y = await f.get('/things/y');
    f.setVersion(6);
    const fresh = await f.get('/things/y', { 'if-none-match': y.etag ?? '' });
    assert.equal(fresh.status, 200, 'the run number changed, so did the bytes');
    assert.notEqual(fresh.etag, y.etag);
  });
});
