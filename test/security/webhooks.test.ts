/**
 * Webhooks under attack, with auth required and WEBHOOK_ALLOW_PRIVATE unset: URLs that reach
 * inside (loopback, private, link-local, cloud metadata, IPv6 and IPv4-mapped forms, names that
 * resolve to loopback) are refused at creation with a coded 400, and refused again at connect
 * time when a stored URL points inside; only admins manage webhooks, scoped admins only on their
 * folders; the signing secret reaches neither later answers nor the logs.
 * Prints how many cases were tried and passed.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { createKeysService } from '../../src/services/keys.service.ts';
import { createSecretBox } from '../../src/services/secrets.ts';
import { createKeysRepository } from '../../src/store/keys.repository.ts';
import { createWebhooksRepository } from '../../src/store/webhooks.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { buildDocx } from '../support/docx-fixtures.ts';
import { waitFor } from '../support/wait.ts';
import { callerAs, caseTally } from '../support/attack.ts';

type Identity = 'none' | 'viewer' | 'editor' | 'admin' | 'scopedAdmin';

const tally = caseTally();
const check = tally.check;

describe('webhooks attack suite (auth required, private addresses refused)', () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime;
  let base: string;
  let receiver: Server;
  let receiverPort: number;
  let hits = 0;
  const logs: string[] = [];
  const keys = {} as Record<Identity, string | undefined>;

  const call = callerAs<Identity>(() => base, keys);
  const codeOf = (r: { json: Record<string, unknown> }) => (r.json.error as { code?: string } | undefined)?.code;

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'docsight-sec-webhooks-'));
    for (const folder of ['Company A', 'Company B', 'Inside']) {
      await mkdir(path.join(root, folder), { recursive: true });
      await writeFile(path.join(root, folder, 'a.docx'), buildDocx({ title: folder, paragraphs: [folder] }));
    }
    receiver = createServer((_req, res) => {
      hits++;
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverPort = (receiver.address() as AddressInfo).port;

    db = await createTestDatabase();
    const svc = createKeysService(createKeysRepository(db.db));
    keys.viewer = (await svc.create({ name: 'viewer', role: 'viewer' })).key;
    keys.editor = (await svc.create({ name: 'editor', role: 'editor' })).key;
    keys.admin = (await svc.create({ name: 'admin', role: 'admin' })).key;
    keys.scopedAdmin = (await svc.create({ name: 'admin of A', role: 'admin', scopes: ['Company A'] })).key;

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
      RATE_LIMIT_PER_MINUTE: '100000',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '100000',
      LOG_LEVEL: 'debug',
      WEBHOOK_POLL_MS: '50',
      WEBHOOK_BACKOFF_BASE_MS: '60000',
    });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: 'debug' }, sink));
    base = runtime.url ?? '';
  });

  after(async () => {
    await runtime?.stop();
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
    await db?.drop();
    await rm(root, { recursive: true, force: true });
    process.stdout.write(tally.summary('webhook security cases'));
  });

  it('refuses URLs that reach loopback, private, link-local or other non-public addresses with a coded 400', async () => {
    const inside = [
      'http://127.0.0.1/hook',
      'http://127.1.2.3:8080/hook',
      'https://127.0.0.1/hook',
      'http://10.0.0.1/hook',
      'http://172.16.5.4/hook',
      'http://192.168.1.1/hook',
      'http://100.64.0.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://0.0.0.0/hook',
      'http://224.0.0.1/hook',
      'http://255.255.255.255/hook',
      'http://2130706433/hook',
      'http://0x7f.0.0.1/hook',
      'http://[::1]/hook',
      'http://[::]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://[::ffff:7f00:1]/hook',
      'http://[::ffff:169.254.169.254]/hook',
      'http://[::ffff:10.1.2.3]/hook',
      'http://[64:ff9b::7f00:1]/hook',
      'http://[2002:7f00:1::]/hook',
      'http://[fd00::1]/hook',
      'http://[fc00::abcd]/hook',
      'http://[fe80::1]/hook',
      'http://[ff02::1]/hook',
      `http://localhost:${receiverPort}/hook`,
      'http://localhost./hook',
      'http://does-not-resolve.invalid/hook',
    ];
    for (const url of inside) {
      const r = await call('admin', 'POST', '/v1/webhooks', { url, events: ['job.completed'] });
      check(r.status === 400, `${url}: got ${r.status} ${r.text.slice(0, 200)}`);
      check(codeOf(r) === 'url_not_allowed', `${url}: code ${codeOf(r)}`);
    }
    for (const url of ['gopher://93.184.216.34/', 'file:///etc/passwd', 'ftp://93.184.216.34/', 'http://u:p@93.184.216.34/']) {
      const r = await call('admin', 'POST', '/v1/webhooks', { url, events: ['job.completed'] });
      check(r.status === 400 && codeOf(r) === 'url_not_allowed', `${url}: ${r.status} ${codeOf(r)}`);
    }
  });

  it('lets only admins manage webhooks, scoped admins only on their folders, and never shows the secret again', async () => {
    // A public address literal: no DNS needed; on a folder never scanned, so nothing is ever sent to it.
    const created = await call('admin', 'POST', '/v1/webhooks', { url: 'http://93.184.216.34/hook', events: ['job.completed'], folder: 'Nowhere' });
    check(created.status === 201, `admin creates: ${created.status} ${created.text}`);
    const id = created.json.id as string;
    const secret = created.json.secret as string;
    check(/^whsec_/.test(secret), 'secret in the creation answer');

    const routes: [string, string, unknown?][] = [
      ['POST', '/v1/webhooks', { url: 'http://93.184.216.34/x', events: ['job.completed'], folder: 'Nowhere' }],
      ['GET', '/v1/webhooks'],
      ['GET', `/v1/webhooks/${id}`],
      ['PATCH', `/v1/webhooks/${id}`, { events: ['job.failed'] }],
      ['GET', `/v1/webhooks/${id}/deliveries`],
      ['DELETE', `/v1/webhooks/${id}`],
    ];
    for (const [method, url, body] of routes) {
      for (const who of ['none', 'viewer', 'editor'] as const) {
        const r = await call(who, method, url, body);
        const expected = who === 'none' ? 401 : 403;
        check(r.status === expected, `${who} ${method} ${url}: ${r.status}, expected ${expected}`);
        check(typeof codeOf(r) === 'string', `${who} ${method} ${url}: coded JSON error`);
      }
    }
    // The webhook is still there, untouched by the refused calls.
    const one = await call('admin', 'GET', `/v1/webhooks/${id}`);
    check(one.status === 200 && JSON.stringify(one.json.events) === '["job.completed"]', 'refused calls changed nothing');
    const answers = [one, await call('admin', 'GET', '/v1/webhooks'), await call('admin', 'GET', `/v1/webhooks/${id}/deliveries`)];
    for (const r of answers) check(!r.text.includes(secret) && !r.text.includes('"secret"'), 'no secret after creation');
    check((await call('admin', 'PATCH', `/v1/webhooks/${id}`, { url: 'http://169.254.169.254/' })).status === 400, 'PATCH to a private URL refused');
    check((await call('admin', 'PATCH', `/v1/webhooks/${id}`, { secret: 'mine' })).status === 400, 'the secret cannot be set');

    // A key scoped to Company A: only webhooks on its folders.
    check((await call('scopedAdmin', 'POST', '/v1/webhooks', { url: 'http://93.184.216.34/a', events: ['job.completed'] })).status === 400, 'scoped: no folder refused');
    check(
      (await call('scopedAdmin', 'POST', '/v1/webhooks', { url: 'http://93.184.216.34/a', events: ['job.completed'], folder: 'Company B' })).status === 400,
      'scoped: another folder refused',
    );
    const own = await call('scopedAdmin', 'POST', '/v1/webhooks', { url: 'http://93.184.216.34/a', events: ['job.completed'], folder: 'Company A/Nowhere' });
    check(own.status === 201, `scoped: own folder allowed (${own.status})`);
    const scopedList = await call('scopedAdmin', 'GET', '/v1/webhooks');
    check(JSON.stringify((scopedList.json.items as { id: string }[]).map((w) => w.id)) === JSON.stringify([own.json.id]), 'scoped list holds only its own');
    check((await call('scopedAdmin', 'GET', `/v1/webhooks/${id}`)).status === 404, 'scoped: another webhook is not found');
    check((await call('scopedAdmin', 'DELETE', `/v1/webhooks/${id}`)).status === 404, 'scoped: cannot delete another');
    check((await call('scopedAdmin', 'PATCH', `/v1/webhooks/${own.json.id as string}`, { folder: 'Company B' })).status === 400, 'scoped: cannot move out');

    check((await call('admin', 'DELETE', `/v1/webhooks/${id}`)).status === 200, 'admin deletes');
    check((await call('admin', 'DELETE', `/v1/webhooks/${own.json.id as string}`)).status === 200, 'admin deletes the scoped one');
    check(!logs.join('').includes(secret), 'the secret is not in the logs');
    const spec = await call('none', 'GET', '/openapi.json');
    const paths = Object.keys(spec.json.paths as Record<string, unknown>);
    for (const p of ['/v1/webhooks', '/v1/webhooks/{id}', '/v1/webhooks/{id}/deliveries']) check(paths.includes(p), `OpenAPI documents ${p}`);
  });

  it('refuses a stored URL that points inside again at connect time (an address that changed after creation)', async () => {
    // As if DNS had answered with a public address when the webhooks were made: stored directly.
    const repo = createWebhooksRepository(db.db);
    const sealed = createSecretBox(undefined).seal('whsec_test');
    const literal = await repo.create({ url: `http://127.0.0.1:${receiverPort}/in`, events: ['job.completed'], folderPath: 'Inside', sealedSecret: sealed, createdBy: null });
    const named = await repo.create({ url: `http://localhost:${receiverPort}/in`, events: ['job.completed'], folderPath: 'Inside', sealedSecret: sealed, createdBy: null });
    const scan = await call('admin', 'POST', '/v1/scans', { path: 'Inside' });
    check(scan.status === 202, `scan starts: ${scan.status}`);
    for (const hook of [literal, named]) {
      const log = await waitFor(async () => (await call('admin', 'GET', `/v1/webhooks/${hook.id}/deliveries`)).json.items as { statusCode: number | null; error: string | null }[], {
        what: `an attempt for ${hook.url}`,
        timeoutMs: 30_000,
        until: (items) => items.length > 0,
      });
      check(log[0]?.statusCode === null && /^Refused: .*loopback/.test(log[0]?.error ?? ''), `${hook.url} refused at connect time: ${JSON.stringify(log[0])}`);
    }
    check(hits === 0, `the receiver inside was never reached (${hits} requests)`);
  });
});
