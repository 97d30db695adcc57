/**
 * The attack suite: real HTTP against a running server with auth required. Every route ×
 * {no key, wrong key, revoked key, viewer, editor, admin, a key scoped to another client} gets the
 * expected status; path attacks are refused or confined; secrets never reach the logs.
 * Prints how many cases were tried and passed.
 */
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createKeysService } from '../../src/services/keys.service.ts';
import { createKeysRepository } from '../../src/store/keys.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { buildDocx } from '../support/docx-fixtures.ts';
import { buildDocx as buildExtractDocx } from '../support/extract-fixtures.ts';
import { type JobBody, waitForJob } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';
import { callerAs, caseTally } from '../support/attack.ts';

type Identity = 'none' | 'wrong' | 'revoked' | 'viewer' | 'editor' | 'admin' | 'otherClient';
const IDENTITIES: Identity[] = ['none', 'wrong', 'revoked', 'viewer', 'editor', 'admin', 'otherClient'];
const OPENAI_SECRET = 'sk-test-do-not-log-0123456789abcdef';

const tally = caseTally();
const check = tally.check;

describe('attack suite (auth required)', () => {
  let db: TestDatabase;
  let root: string;
  let outside: string;
  let runtime: Runtime;
  let base: string;
  const logs: string[] = [];
  const keys = {} as Record<Identity, string | undefined>;
  const ids = {} as { docA: string; docB: string; jobA: string; jobB: string; keyToRevoke: string };

  const call = callerAs<Identity>(() => base, keys);

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'docsight-sec-'));
    outside = await mkdtemp(path.join(tmpdir(), 'docsight-outside-'));
    const files: [string, string][] = [
      ['Company A/a1.docx', 'A one'],
      ['Company A/a2.docx', 'A two'],
      ['Company AB/ab.docx', 'AB secret'],
      ['Company B/b1.docx', 'B secret'],
    ];
    for (const [rel, title] of files) {
      await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await writeFile(path.join(root, rel), buildDocx({ title, creator: 'x', paragraphs: [title] }));
    }
    await symlink('/etc', path.join(root, 'escape'));
    await symlink(outside, path.join(root, 'Company A', 'linked-out'));
    await writeFile(path.join(outside, 'secret.docx'), buildDocx({ title: 'Outside secret', paragraphs: ['outside'] }));
    await link(path.join(outside, 'secret.docx'), path.join(root, 'Company A', 'hardlink.docx'));

    db = await createTestDatabase();
    const svc = createKeysService(createKeysRepository(db.db));
    keys.none = undefined;
    keys.wrong = `dsk_AAAAAAAA_${'B'.repeat(43)}`;
    keys.viewer = (await svc.create({ name: 'viewer', role: 'viewer' })).key;
    keys.editor = (await svc.create({ name: 'editor', role: 'editor' })).key;
    keys.admin = (await svc.create({ name: 'admin', role: 'admin' })).key;
    keys.otherClient = (await svc.create({ name: 'client A', role: 'editor', scopes: ['Company A'] })).key;
    const revoked = await svc.create({ name: 'gone', role: 'admin' });
    await svc.revoke(revoked.record.id);
    keys.revoked = revoked.key;
    ids.keyToRevoke = (await svc.create({ name: 'to revoke', role: 'viewer' })).record.id;

    const sink = new Writable({
      write(chunk, _enc, cb) {
        logs.push(String(chunk));
        cb();
      },
    });
    const config = parseConfig({
      DATABASE_URL: db.url,
      DOCS_ROOT: root,
      PORT: '0',
      AUTH_REQUIRED: 'true',
      OPENAI_API_KEY: OPENAI_SECRET,
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      RATE_LIMIT_PER_MINUTE: '100000',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '100000',
      LOG_LEVEL: 'debug',
    });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'debug' }, sink));
    base = runtime.url ?? '';

    for (const folder of ['Company A', 'Company B']) {
      const r = await call('admin', 'POST', '/v1/scans', { path: folder });
      const job = await waitForJob(base, (r.json as { id: string }).id, 30_000).catch(async () => {
        // waitForJob has no key; poll with one
        for (;;) {
          const j = await call('admin', 'GET', `/v1/jobs/${(r.json as { id: string }).id}`);
          if (j.json.status !== 'queued' && j.json.status !== 'running') return j.json as unknown as JobBody;
          await new Promise((res) => setTimeout(res, 100));
        }
      });
      if (folder === 'Company A') ids.jobA = job.id;
      else ids.jobB = job.id;
    }
    await call('admin', 'POST', '/v1/scans', { path: 'Company AB' });
    await new Promise((r) => setTimeout(r, 1500));
    const docsA = await call('admin', 'GET', '/v1/folders/Company%20A/documents');
    const docsB = await call('admin', 'GET', '/v1/folders/Company%20B/documents');
    ids.docA = ((docsA.json.items as { id: string }[])[0] as { id: string }).id;
    ids.docB = ((docsB.json.items as { id: string }[])[0] as { id: string }).id;
  });

  after(async () => {
    await runtime?.stop();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
    process.stdout.write(tally.summary('security cases'));
  });

  /** The least role a route needs, whether it targets Company B (out of the scoped key's reach), and the status a permitted caller gets. */
  interface RouteCase {
    method: string;
    url: () => string;
    body?: () => unknown;
    need: 'viewer' | 'editor' | 'admin';
    targetsB: boolean;
    ok: number[];
    /** The scoped key reaches this route but sees only its own folders (lists). */
    filtered?: boolean;
  }
  const B = 'Company%20B';
  const routes: RouteCase[] = [
    { method: 'GET', url: () => `/v1/folders/${B}/insights`, need: 'viewer', targetsB: true, ok: [200] },
    { method: 'GET', url: () => `/v1/folders/${B}/documents`, need: 'viewer', targetsB: true, ok: [200] },
    { method: 'GET', url: () => '/v1/folders/Company%20B/documents', need: 'viewer', targetsB: true, ok: [200] },
    { method: 'GET', url: () => '/v1/folders/./insights', need: 'viewer', targetsB: true, ok: [200] },
    { method: 'GET', url: () => `/v1/documents/${ids.docB}`, need: 'viewer', targetsB: true, ok: [200] },
    { method: 'GET', url: () => `/v1/jobs/${ids.jobB}`, need: 'viewer', targetsB: true, ok: [200] },
    { method: 'GET', url: () => `/v1/jobs/${ids.jobB}/events`, need: 'viewer', targetsB: true, ok: [200] },
    { method: 'GET', url: () => '/v1/jobs', need: 'viewer', targetsB: false, ok: [200], filtered: true },
    { method: 'POST', url: () => '/v1/scans', body: () => ({ path: 'Company B' }), need: 'editor', targetsB: true, ok: [200, 202] },
    { method: 'POST', url: () => `/v1/jobs/${ids.jobB}/cancel`, need: 'editor', targetsB: true, ok: [200, 409] },
    { method: 'POST', url: () => `/v1/jobs/${ids.jobB}/retry`, need: 'editor', targetsB: true, ok: [409] },
    { method: 'POST', url: () => '/v1/classifications', body: () => ({ path: 'Company B', dryRun: true }), need: 'editor', targetsB: true, ok: [200] },
    { method: 'GET', url: () => '/v1/taxonomies', need: 'viewer', targetsB: false, ok: [200] },
    { method: 'POST', url: () => '/v1/taxonomies', body: () => ({ name: 'sec', labels: [{ name: 'X' }] }), need: 'editor', targetsB: false, ok: [201, 409] },
    { method: 'GET', url: () => '/v1/me', need: 'viewer', targetsB: false, ok: [200] },
    { method: 'GET', url: () => '/v1/keys', need: 'admin', targetsB: false, ok: [200] },
    { method: 'POST', url: () => '/v1/keys', body: () => ({ name: 'made', role: 'viewer' }), need: 'admin', targetsB: false, ok: [201] },
    { method: 'DELETE', url: () => `/v1/keys/${ids.keyToRevoke}`, need: 'admin', targetsB: false, ok: [200] },
    { method: 'GET', url: () => '/v1/audit', need: 'admin', targetsB: false, ok: [200] },
    { method: 'GET', url: () => '/v1/sources', need: 'admin', targetsB: false, ok: [200] },
    { method: 'GET', url: () => `/folder-insights/${B}/count_files`, need: 'viewer', targetsB: true, ok: [200] },
    { method: 'GET', url: () => `/folder-insights/${B}/get_folder_files_metadata`, need: 'viewer', targetsB: true, ok: [200] },
    { method: 'GET', url: () => `/document-classification/${B}/tag_documents`, need: 'editor', targetsB: true, ok: [202] },
    { method: 'GET', url: () => `/document-classification/${B}/summarize_documents`, need: 'editor', targetsB: true, ok: [202] },
  ];
  const rank = { viewer: 0, editor: 1, admin: 2 } as const;
  const roleOf: Partial<Record<Identity, keyof typeof rank>> = { viewer: 'viewer', editor: 'editor', admin: 'admin', otherClient: 'editor' };

  it('answers every route × identity with the expected status', async () => {
    for (const r of routes) {
      for (const who of IDENTITIES) {
        const res = await call(who, r.method, r.url(), r.body?.());
        const role = roleOf[who];
        let expected: number[];
        if (!role) expected = [401];
        else if (rank[role] < rank[r.need]) expected = [403];
        else if (who === 'otherClient' && r.targetsB) expected = [404];
        else expected = r.ok;
        check(expected.includes(res.status), `${who} ${r.method} ${r.url()}: got ${res.status}, expected ${expected.join('|')} ${res.text.slice(0, 200)}`);
        if (res.status >= 400) check(typeof (res.json.error as { code?: string } | undefined)?.code === 'string', `${who} ${r.url()} has a JSON error`);
        if (who === 'otherClient' && r.filtered && res.status === 200) {
          const items = res.json.items as { folder: string | null }[];
          check(items.every((j) => j.folder === null || j.folder === 'Company A' || j.folder.startsWith('Company A/')), 'scoped job list holds only its folders');
        }
      }
    }
  });

  it('lets a scoped key see its own folder and nothing of the sibling whose name extends it', async () => {
    const mine = await call('otherClient', 'GET', '/v1/folders/Company%20A/insights');
    check(mine.status === 200, 'own folder visible');
    check(mine.json.documentCount === 2, `own folder counts only its documents (got ${mine.json.documentCount})`);
    check((await call('otherClient', 'GET', '/v1/folders/Company%20AB/insights')).status === 404, '"Company AB" is not "Company A"');
    check((await call('otherClient', 'GET', `/v1/documents/${ids.docA}`)).status === 200, 'own document visible');
    const list = await call('otherClient', 'GET', '/v1/folders/Company%20A/documents');
    check((list.json.items as { path: string }[]).every((d) => d.path.startsWith('Company A/')), 'listing confined');
    const me = await call('otherClient', 'GET', '/v1/me');
    check(JSON.stringify(me.json.scopes) === JSON.stringify(['Company A']), 'me shows scopes');
    check((await call('otherClient', 'POST', '/v1/classifications', { documentIds: [ids.docB], dryRun: true })).status === 404, 'document ids out of scope are not found');
  });

  it('refuses or confines every path attack', async () => {
    const attacks = ['..', '%2e%2e', '..%2F..%2Fetc', '%2e%2e%2f%2e%2e%2fetc', 'Company%20A%2F..%2F..%2Fetc', 'a%5C..%5Cb', '%2Fetc', 'a%00b', 'escape', `${'x'.repeat(300)}`, 'Company%20A%2F%2E%2E'];
    for (const a of attacks) {
      const r = await call('admin', 'GET', `/v1/folders/${a}/insights`);
      check(r.status === 400 || r.status === 404, `GET ${a}: ${r.status}`);
      check(!r.text.includes(root) && !r.text.includes('/etc/passwd'), `GET ${a} leaks no internal path`);
    }
    // Double-encoded traversal is decoded once: a folder literally named "%2e%2e", which does not exist.
    check((await call('admin', 'GET', '/v1/folders/%252e%252e/insights')).status === 404, 'double-encoded');
    for (const p of ['..', '../..', '/etc', 'C:\\Windows', 'a\\..\\..', 'escape', 'Company A/linked-out', 'Company A/../..', 'a\u0000b', 'x'.repeat(5000)]) {
      const r = await call('admin', 'POST', '/v1/scans', { path: p });
      check(r.status === 400 || r.status === 404, `POST scan ${p.slice(0, 30)}: ${r.status}`);
    }
    const docs = await call('admin', 'GET', '/v1/folders/./documents?limit=500');
    const paths = (docs.json.items as { path: string }[]).map((d) => d.path);
    check(!paths.some((p) => p.includes('hardlink') || p.includes('linked-out') || p.includes('escape')), `no document through links: ${paths.join(', ')}`);
    check(!JSON.stringify(docs.json).includes('Outside secret'), 'nothing from outside the root');
  });

  it('rejects oversized bodies, unknown fields and malformed JSON with JSON errors, without stack traces', async () => {
    const big = await call('admin', 'POST', '/v1/scans', { path: 'x'.repeat(2 * 1024 * 1024) });
    check(big.status === 413, `2 MB body: ${big.status}`);
    check((await call('admin', 'POST', '/v1/scans', { path: 'Company A', extra: true })).status === 400, 'unknown field');
    const bad = await fetch(`${base}/v1/scans`, { method: 'POST', headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' }, body: '{"path":' });
    const text = await bad.text();
    check(bad.status === 400, 'malformed JSON');
    check(!/at \w+ \(|node_modules|\.ts:\d+/.test(text), 'no stack trace');
    check((await call('admin', 'GET', '/v1/jobs?limit=100000')).status === 400, 'limit out of range');
    const header = await fetch(`${base}/v1/me`, { headers: { authorization: 'Basic abc' } });
    check(header.status === 401, 'non-bearer authorization');
  });

  it('sends security headers, no CORS for unknown origins, and keeps /health public', async () => {
    const r = await call('viewer', 'GET', '/v1/me', undefined, { origin: 'https://evil.example' });
    check(r.headers.get('x-content-type-options') === 'nosniff', 'nosniff');
    check(r.headers.get('x-frame-options') === 'DENY', 'frame deny');
    check((r.headers.get('content-security-policy') ?? '').includes("default-src 'none'"), 'CSP on JSON');
    check(r.headers.get('access-control-allow-origin') === null, 'no CORS');
    check((await call('none', 'GET', '/health')).status === 200, 'health public');
    check((await call('none', 'GET', '/openapi.json')).status === 200, 'openapi public');
    const health = await call('none', 'GET', '/health');
    check(health.json.auth === 'required', 'health says auth is required');
  });

  it('records who did what in the audit log', async () => {
    const log = await call('admin', 'GET', '/v1/audit?limit=500');
    const actions = new Set((log.json.items as { action: string }[]).map((e) => e.action));
    for (const a of ['scan.start', 'key.create', 'key.revoke', 'taxonomy.create', 'classification.start']) check(actions.has(a), `audit has ${a}`);
    check((log.json.items as { keyId: string | null }[]).every((e) => e.keyId !== null), 'every audited action has a key');
  });

  it('never writes a key or the OpenAI key to the logs', () => {
    const all = logs.join('');
    check(all.length > 1000, 'logs were written');
    for (const [who, key] of Object.entries(keys)) {
      if (key && who !== 'wrong') check(!all.includes(key), `${who} key not in logs`);
    }
    check(!all.includes(OPENAI_SECRET), 'OpenAI key not in logs');
  });

  it('rate-limits per key with 429 and Retry-After', async () => {
    const limited = await startRuntime(
      parseConfig({ DATABASE_URL: db.url, DOCS_ROOT: root, PORT: '0', AUTH_REQUIRED: 'true', RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_ANONYMOUS_PER_MINUTE: '3', QUEUE_NAME: 'sec-rl' }),
      { api: true, worker: false },
      pino({ level: 'silent' }),
    );
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 8; i++) {
        const r = await fetch(`${limited.url}/v1/me`, { headers: { authorization: `Bearer ${keys.viewer}` } });
        statuses.push(r.status);
        if (r.status === 429) retryAfter = r.headers.get('retry-after');
        await r.text();
      }
      check(statuses.slice(0, 5).every((s) => s === 200), `first 5 allowed: ${statuses.join(',')}`);
      check(statuses.slice(5).every((s) => s === 429), `then 429: ${statuses.join(',')}`);
      check(Number(retryAfter) > 0, 'Retry-After given');
      const other = await fetch(`${limited.url}/v1/me`, { headers: { authorization: `Bearer ${keys.admin}` } });
      check(other.status === 200, 'another key has its own budget');
      await other.text();
      const anon: number[] = [];
      for (let i = 0; i < 5; i++) anon.push((await fetch(`${limited.url}/v1/me`)).status);
      check(anon.join(',') === '401,401,401,429,429', `keyless attempts limited per IP: ${anon.join(',')}`);
      const guesses: number[] = [];
      for (let i = 0; i < 2; i++) guesses.push((await fetch(`${limited.url}/v1/me`, { headers: { authorization: `Bearer dsk_${String(i).padStart(8, 'x')}_${'z'.repeat(43)}` } })).status);
      check(guesses.every((s) => s === 429), `wrong keys count against the same IP budget: ${guesses.join(',')}`);
    } finally {
      await limited.stop();
    }
  });

  it('reads documents whose XML declares a DTD without expanding an entity or reading a file it names', async () => {
    await mkdir(path.join(root, 'Hostile'), { recursive: true });
    await writeFile(path.join(outside, 'xxe-secret.txt'), 'XXE-SECRET-4b1e');
    const text = (t: string) => `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>${t}</w:t></w:r></w:p></w:body></w:document>`;
    const xxe = `<!DOCTYPE d [<!ENTITY f SYSTEM "file://${path.join(outside, 'xxe-secret.txt')}"><!ENTITY p SYSTEM "file:///etc/passwd"><!ENTITY w SYSTEM "http://127.0.0.1:9/x">]>`;
    let lol = '<!ENTITY l0 "lol">';
    for (let i = 1; i <= 9; i++) lol += `<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">`;
    await writeFile(path.join(root, 'Hostile', 'xxe.docx'), buildExtractDocx({ rawMainXml: `<?xml version="1.0"?>${xxe}${text('xxe [&f;&p;&w;]')}`, core: { creator: 'Mallory' } }));
    await writeFile(path.join(root, 'Hostile', 'lol.docx'), buildExtractDocx({ rawMainXml: `<?xml version="1.0"?><!DOCTYPE lolz [${lol}]>${text('lol [&l9;]')}` }));
    const started = await call('admin', 'POST', '/v1/scans', { path: 'Hostile' });
    const jobId = (started.json as { id: string }).id;
    const job = await waitFor(async () => (await call('admin', 'GET', `/v1/jobs/${jobId}`)).json, {
      what: 'the scan of Hostile to end',
      timeoutMs: 60_000,
      until: (j) => j.status !== 'queued' && j.status !== 'running',
    });
    check(job.status === 'completed', `scan ended ${String(job.status)}`);
    const list = await call('admin', 'GET', '/v1/folders/Hostile/documents');
    const items = list.json.items as { id: string; name: string }[];
    check(items.length === 2, `two hostile documents listed (got ${items.length})`);
    for (const item of items) {
      const doc = await call('admin', 'GET', `/v1/documents/${item.id}`);
      check(doc.json.status === 'extracted', `${item.name} extracted (got ${String(doc.json.status)})`);
      check(!/XXE-SECRET|root:|lollol/.test(doc.text), `${item.name}: nothing expanded or read`);
      check(doc.json.textPreview === (item.name === 'xxe.docx' ? 'xxe []' : 'lol []'), `${item.name} text: ${String(doc.json.textPreview)}`);
      const warnings = (doc.json.metadata as { warnings?: string[] }).warnings ?? [];
      check(warnings.some((w) => w.startsWith('DTD in word/document.xml ignored')), `${item.name} warns of the DTD: ${warnings.join('; ')}`);
      if (item.name === 'xxe.docx') check(doc.json.author === 'Mallory', 'the other parts are read');
    }
  });
});
