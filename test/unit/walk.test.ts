/**
 * The walk of the documents root (src/services/walk.ts) stats files inline while that is fast and
 * on the thread pool otherwise: both ways find the same files with the same sizes and mtimes and
 * pass over the same entries for the same reasons, and an inline walk of a large folder still
 * lets the event loop run between its slices.
 */
import assert from 'node:assert/strict';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { walkFiles, type WalkEvents } from '../../src/services/walk.ts';

const FILES = 300;

describe('walking the documents root', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'docsight-walk-'));
    await mkdir(path.join(dir, 'big'));
    for (let i = 0; i < FILES; i++) await writeFile(path.join(dir, 'big', `f${String(i).padStart(4, '0')}.txt`), 'x'.repeat(i));
    await mkdir(path.join(dir, 'small', 'sub'), { recursive: true });
    await writeFile(path.join(dir, 'small', 'a.txt'), 'alpha');
    await writeFile(path.join(dir, 'small', 'sub', 'b.txt'), 'beta');
    await writeFile(path.join(dir, 'small', '~$lock.docx'), 'lock');
    await mkdir(path.join(dir, 'small', '.hidden'));
    await writeFile(path.join(dir, 'small', '.hidden', 'c.txt'), 'hidden');
    await symlink(path.join(dir, 'small', 'a.txt'), path.join(dir, 'small', 'link.txt'));
    await writeFile(path.join(dir, 'small', 'twice.txt'), 'two names');
    await link(path.join(dir, 'small', 'twice.txt'), path.join(dir, 'small', 'twice-again.txt'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const walk = async (opts: Pick<WalkEvents, 'statOnThreadPool' | 'allowHardlinks'>) => {
    const files: string[] = [];
    const ignored: string[] = [];
    const folders: string[] = [];
    const events: WalkEvents = { ...opts, onFolder: (f) => folders.push(f), onIgnored: (rel, why) => ignored.push(`${rel} ${why}`) };
    for await (const f of walkFiles(dir, 'root', (name) => name.startsWith('~$'), events)) files.push(`${f.rel} ${f.size} ${f.mtime.getTime()}`);
    return { files, ignored, folders };
  };

  it('finds the same files, folders and passed-over entries inline as on the thread pool', async () => {
    for (const allowHardlinks of [false, true]) {
      const inline = await walk({ allowHardlinks });
      const pooled = await walk({ allowHardlinks, statOnThreadPool: true });
      assert.deepEqual(inline, pooled);
      assert.equal(inline.files.length, FILES + 2 + (allowHardlinks ? 2 : 0));
      assert.ok(inline.files.includes(`root/big/f0299.txt 299 ${inline.files.find((f) => f.startsWith('root/big/f0299.txt'))?.split(' ')[2]}`));
      assert.deepEqual(inline.folders, ['root', 'root/big', 'root/small', 'root/small/sub']);
      const expectIgnored = ['root/small/.hidden ignored_name', 'root/small/link.txt symlink', 'root/small/~$lock.docx ignored_name'];
      if (!allowHardlinks) expectIgnored.push('root/small/twice-again.txt hardlink', 'root/small/twice.txt hardlink');
      assert.deepEqual([...inline.ignored].sort(), expectIgnored.sort());
    }
  });

  it('lets the event loop run while it walks a large folder inline', async () => {
    let turns = 0;
    let walking = true;
    const spin = () => {
      turns++;
      if (walking) setImmediate(spin);
    };
    setImmediate(spin);
    // The turns of the event loop seen by each file of the large folder: inline stats and yields
    // alone are microtasks, so without a pause between slices they would all see the same one.
    const seen = new Set<number>();
    for await (const f of walkFiles(dir, 'root', () => false, {})) if (f.rel.startsWith('root/big/')) seen.add(turns);
    walking = false;
    assert.ok(seen.size >= Math.floor(FILES / 64), `the event loop turned ${seen.size - 1} times within the folder`);
  });
});
