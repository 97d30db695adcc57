/**
 * `docsight keys` while the service runs in its default mode (embedded PostgreSQL): the first
 * admin key is made, listed and revoked without stopping the service, through the server it runs.
 * And how a failing command reports itself: one line with what to do, the stack trace only with
 * --debug or LOG_LEVEL=debug.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type EmbeddedService, runDocsight as docsight, showRun as show, startEmbeddedService } from '../support/docsight.ts';
import { api } from '../support/http.ts';
import { freePort, startDocsight, waitForHttp } from '../support/processes.ts';

/** A line of a JavaScript stack trace. */
const STACK_LINE = /^ {4}at /m;

interface KeyJson {
  id: string;
  role: string;
  name: string;
  revokedAt: string | null;
  key?: string;
}

describe('docsight keys while `docsight start` runs (embedded PostgreSQL)', () => {
  let service: EmbeddedService;
  let env: Record<string, string>;
  let base: string;
  let dir: string;

  before(async () => {
    // Keys are checked even on loopback, so a revoked key visibly stops working.
    service = await startEmbeddedService({ prefix: 'docsight-keys-', env: { AUTH_REQUIRED: 'true' } });
    ({ env, base, dir } = service);
  });

  after(async () => {
    await service?.proc.stop('SIGKILL');
    if (service) await rm(service.dir, { recursive: true, force: true });
  });

  it('creates an admin key that the running API accepts, lists it, and revokes it so the API refuses it', async () => {
    assert.equal((await api(base, 'GET', '/v1/me')).status, 401, 'the API needs a key');

    const created = await docsight(['keys', 'create', '--role', 'admin', '--name', 'first admin', '--json'], env, dir);
    assert.equal(created.code, 0, show(created));
    const key = JSON.parse(created.stdout) as KeyJson;
    assert.equal(key.role, 'admin');
    assert.match(key.key ?? '', /^dsk_/);
    const auth = { authorization: `Bearer ${key.key}` };

    const me = await api<{ keyId: string; role: string }>(base, 'GET', '/v1/me', undefined, auth);
    assert.equal(me.status, 200);
    assert.deepEqual({ keyId: me.body.keyId, role: me.body.role }, { keyId: key.id, role: 'admin' });

    const listed = await docsight(['keys', 'list', '--json'], env, dir);
    assert.equal(listed.code, 0, show(listed));
    const mine = (JSON.parse(listed.stdout) as KeyJson[]).find((k) => k.id === key.id);
    assert.deepEqual({ name: mine?.name, revokedAt: mine?.revokedAt }, { name: 'first admin', revokedAt: null });

    const human = await docsight(['keys', 'list'], env, dir);
    assert.equal(human.code, 0, show(human));
    assert.match(human.stdout, new RegExp(`${key.id}\\s+admin\\s+active\\s+first admin`));

    const revoked = await docsight(['keys', 'revoke', key.id], env, dir);
    assert.equal(revoked.code, 0, show(revoked));
    assert.match(revoked.stdout, new RegExp(`Revoked ${key.id} \\(first admin\\)`));

    assert.equal((await api(base, 'GET', '/v1/me', undefined, auth)).status, 401, 'a revoked key is refused at once');
    // The commands borrowed the service's database server and left it running.
    assert.equal(service.proc.child.exitCode, null, service.proc.output());
    assert.equal((await api(base, 'GET', '/ready')).status, 200);
  });

  it('a second `docsight start` on the same DATA_DIR says in one line that docsight runs, with the trace only under --debug', async () => {
    const second = { ...env, PORT: String(await freePort()) };
    const plain = await docsight(['start'], second, dir);
    assert.notEqual(plain.code, 0, show(plain));
    assert.match(plain.stderr, /^docsight: .*DATA_DIR.*already running/m, show(plain));
    assert.doesNotMatch(plain.stderr, STACK_LINE, show(plain));

    const debug = await docsight(['start', '--debug'], second, dir);
    assert.notEqual(debug.code, 0, show(debug));
    assert.match(debug.stderr, STACK_LINE, show(debug));
    assert.equal((await api(base, 'GET', '/ready')).status, 200, 'the running service is untouched');
  });

  it('after the service is killed (its PostgreSQL orphaned), keys stops the orphan and runs on its own server; start works again', async () => {
    await service.proc.stop('SIGKILL');
    const listed = await docsight(['keys', 'list', '--json'], env, dir);
    assert.equal(listed.code, 0, show(listed));
    assert.deepEqual(
      (JSON.parse(listed.stdout) as KeyJson[]).map((k) => k.name),
      ['first admin'],
      'the same database, with the key made while the service ran',
    );
    assert.ok(!existsSync(path.join(dir, 'data', 'pg', 'postmaster.pid')), 'the orphan was stopped, and so was the server keys started');

    service.proc = startDocsight(['start'], env, dir);
    await waitForHttp(`${base}/ready`, service.proc);
    assert.equal(await service.proc.stop('SIGTERM'), 0);
  });
});

describe('a failing command reports one line; the stack trace only with --debug or LOG_LEVEL=debug', () => {
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'docsight-errors-'));
    // Nothing listens on this port: the command cannot reach its database.
    env = { DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/docsight`, DOCS_ROOT: dir, DATA_DIR: path.join(dir, 'data') };
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('without --debug: one line naming the problem and what to check, no stack trace', async () => {
    const r = await docsight(['keys', 'list'], env, dir);
    assert.equal(r.code, 1, show(r));
    assert.equal(r.stderr.trim().split('\n').length, 1, show(r));
    assert.match(r.stderr, /^docsight: .*ECONNREFUSED.*DATABASE_URL/, show(r));
    assert.doesNotMatch(r.stderr, STACK_LINE, show(r));
  });

  it('with --debug, or LOG_LEVEL=debug, the stack trace follows', async () => {
    const flag = await docsight(['keys', 'list', '--debug'], env, dir);
    assert.equal(flag.code, 1, show(flag));
    assert.match(flag.stderr, /^docsight: .*ECONNREFUSED/, show(flag));
    assert.match(flag.stderr, STACK_LINE, show(flag));

    const level = await docsight(['keys', 'list'], { ...env, LOG_LEVEL: 'debug' }, dir);
    assert.equal(level.code, 1, show(level));
    assert.match(level.stderr, STACK_LINE, show(level));
  });

  it('an unknown option is bad usage (exit 2), not a crash', async () => {
    const r = await docsight(['keys', 'list', '--bogus'], env, dir);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /--bogus/);
    assert.doesNotMatch(r.stderr, STACK_LINE, show(r));
  });
});
