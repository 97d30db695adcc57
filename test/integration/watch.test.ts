/**
 * Watching a folder of the local root with real filesystem events (chokidar): a file written under a
 * watched folder becomes an updated document without a manual scan; a change made while no watcher
 * ran is caught by the full check when watching starts again; the watchers run in one process only
 * (an advisory lock); watches are managed through the API.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { runClientCommand } from '../../src/cli/index.ts';
import { parseConfig } from '../../src/config.ts';
import type { Watch } from '../../src/contract.ts';
import { startRuntime, type Runtime } from '../../src/container.ts';
import { tryLeadership } from '../../src/store/leader-lock.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { api, appOf, enc } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';

interface DocItem {
  id: string;
  path: string;
  sha256: string | null;
  status: string;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('watching folders of the local root', () => {
  let db: TestDatabase;
  let root: string;
  let runtime: Runtime | undefined;
  const queue = `t${Date.now().toString(36)}watch`;
  const app = () => appOf(runtime as Runtime);
  const start = async () => {
    const config = parseConfig({
      DATABASE_URL: db.url,
      DOCS_ROOT: root,
      PORT: '0',
      QUEUE_NAME: queue,
      EXTRACT_THREADS: '1',
      WATCH_DEBOUNCE_MS: '100',
      WATCH_REFRESH_SECONDS: '1',
      WATCH_FULL_CHECK_SECONDS: '3600',
    });
    runtime = await startRuntime(config, { api: true, worker: true }, pino({ level: process.env.TEST_LOG ?? 'silent' }));
  };
  const docs = async (folder: string) => (await api<{ items: DocItem[] }>(app(), 'GET', `/v1/folders/${enc(folder)}/documents?limit=100`)).body.items;
  const documentWith = (folder: string, rel: string, content: string) =>
    waitFor(async () => (await docs(folder)).find((d) => d.path === rel && d.sha256 === sha(content) && d.status === 'extracted'), {
      what: `${rel} extracted with its new content`,
      timeoutMs: 30_000,
      intervalMs: 100,
    });

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'docsight-watch-'));
    await mkdir(path.join(root, 'W', 'deep'), { recursive: true });
    await mkdir(path.join(root, 'Other'), { recursive: true });
    await writeFile(path.join(root, 'W', 'existing.txt'), 'There before the watch.');
    db = await createTestDatabase({ migrate: false });
    await start();
  });

  after(async () => {
    await runtime?.stop();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('manages watches through the API', async () => {
    const created = await api<Watch>(app(), 'POST', '/v1/watches', { folder: 'W' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.folder, 'W');
    assert.equal(created.body.autoClassify, false);
    assert.equal((await api(app(), 'POST', '/v1/watches', { folder: 'W' })).status, 200, 'watching again is no new watch');
    assert.equal((await api(app(), 'POST', '/v1/watches', { folder: 'missing' })).status, 404);
    assert.equal((await api(app(), 'POST', '/v1/watches', { folder: '../etc' })).status, 400);
    const other = await api<Watch>(app(), 'POST', '/v1/watches', { folder: 'Other' });
    const list = await api<{ items: Watch[] }>(app(), 'GET', '/v1/watches');
    assert.deepEqual(list.body.items.map((w) => w.folder), ['Other', 'W']);
    assert.equal((await api(app(), 'DELETE', `/v1/watches/${other.body.id}`)).status, 204);
    assert.equal((await api(app(), 'DELETE', `/v1/watches/${other.body.id}`)).status, 404);
    assert.deepEqual((await api<{ items: Watch[] }>(app(), 'GET', '/v1/watches')).body.items.map((w) => w.folder), ['W']);
  });

  it('scans what was there when the watch started, and a file written under it becomes an updated document without a manual scan', async () => {
    await documentWith('W', 'W/existing.txt', 'There before the watch.');
    await writeFile(path.join(root, 'W', 'deep', 'new.txt'), 'Written while watched.');
    await documentWith('W', 'W/deep/new.txt', 'Written while watched.');
    await writeFile(path.join(root, 'W', 'deep', 'new.txt'), 'Written while watched, and edited.');
    const edited = await documentWith('W', 'W/deep/new.txt', 'Written while watched, and edited.');
    const changes = await api<{ items: { kind: string; path: string; documentId: string }[] }>(app(), 'GET', '/v1/folders/W/changes');
    assert.deepEqual(
      changes.body.items.filter((c) => c.path === 'W/deep/new.txt').map((c) => [c.kind, c.documentId]),
      [['added', edited.id], ['changed', edited.id]],
    );
    // Outside every watch: nothing happens by itself.
    await writeFile(path.join(root, 'Other', 'unwatched.txt'), 'Nobody looks here.');
    await writeFile(path.join(root, 'W', 'marker.txt'), 'A later change under the watch.');
    await documentWith('W', 'W/marker.txt', 'A later change under the watch.');
    assert.deepEqual(await docs('Other'), []);
  });

  it('is managed from the CLI: docsight watch, watch list, unwatch', async () => {
    const cli = async (command: 'watch' | 'unwatch', args: string[]) => {
      let out = '';
      let err = '';
      const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } };
      const code = await runClientCommand(command, [...args, '--server', (runtime as Runtime).url as string], {}, io);
      return { code, out, err };
    };
    const added = await cli('watch', ['Other', '--classify']);
    assert.equal(added.code, 0, added.err);
    assert.match(added.out, /Watching Other \(classifying/);
    const list = await cli('watch', ['list']);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /Other\s+yes/);
    assert.match(list.out, /W\s+no/);
    const removed = await cli('unwatch', ['Other']);
    assert.equal(removed.code, 0, removed.err);
    const again = await cli('unwatch', ['Other']);
    assert.equal(again.code, 2);
    assert.match(again.err, /not watched/);
    assert.deepEqual((await api<{ items: Watch[] }>(app(), 'GET', '/v1/watches')).body.items.map((w) => w.folder), ['W']);
  });

  it('runs the watchers in one process only', async () => {
    const other = await tryLeadership(db.db, `docsight:${queue}:watchers`);
    assert.equal(other, undefined, 'the running service holds the watchers role');
  });

  it('catches a change made while no watcher ran with the full check when watching starts', async () => {
    await runtime?.stop();
    runtime = undefined;
    await writeFile(path.join(root, 'W', 'existing.txt'), 'Changed while the service was down.');
    const free = await tryLeadership(db.db, `docsight:${queue}:watchers`);
    assert.ok(free, 'the role is free once the process has stopped');
    await free.release();
    await start();
    await documentWith('W', 'W/existing.txt', 'Changed while the service was down.');
  });
});
