/**
 * A listing cut into folder parts (src/services/folder-parts.ts): a folder is handed over once the
 * listing has left its subtree, in both orders the sources list in (the walk's depth-first order,
 * files before subfolders; a bucket's key order, subfolders among the files); a folder with many
 * files in parts whose ranges tile its recorded paths; empty folders too; nothing is lost.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFolderParts, type FolderPart } from '../../src/services/folder-parts.ts';
import { parentOf } from '../../src/domain/paths.ts';
import type { SourceEntry } from '../../src/services/source-reader.ts';

const entry = (rel: string): SourceEntry => ({ rel, name: rel.slice(rel.lastIndexOf('/') + 1), size: 1, mtime: new Date(0), etag: null });

/** Feed a listing (folders told as a source tells them) and collect every part in the order handed over. */
function cut(root: string, listing: string[], partSize: number, folders: 'walk' | 'keys'): FolderPart[] {
  const parts = createFolderParts(partSize);
  const out: FolderPart[] = [];
  const told = new Set<string>();
  const tell = (f: string) => {
    if (told.has(f)) return;
    if (f !== root) tell(parentOf(f));
    told.add(f);
    parts.folder(f);
  };
  tell(root);
  for (const item of listing) {
    if (item.endsWith('/')) {
      // The walk tells a folder it enters, with or without files.
      tell(item.slice(0, -1));
      continue;
    }
    if (folders === 'keys') tell(parentOf(item));
    parts.file(entry(item));
    out.push(...parts.take());
  }
  parts.end();
  out.push(...parts.take());
  return out;
}

const view = (parts: FolderPart[]) => parts.map((p) => [p.folder, p.after, p.upTo, p.entries.map((e) => e.rel)]);

describe('folder parts', () => {
  it('hands a folder over once a bucket listing (key order) has left its subtree, subfolders among its files', () => {
    const parts = cut('b', ['b/A/1.txt', 'b/A/B/2.txt', 'b/A/B/3.txt', 'b/A/C/4.txt', 'b/A/x.txt', 'b/D/5.txt', 'b/z.txt'], 100, 'keys');
    assert.deepEqual(view(parts), [
      ['b/A/B', null, null, ['b/A/B/2.txt', 'b/A/B/3.txt']],
      ['b/A/C', null, null, ['b/A/C/4.txt']],
      ['b/A', null, null, ['b/A/1.txt', 'b/A/x.txt']],
      ['b/D', null, null, ['b/D/5.txt']],
      ['b', null, null, ['b/z.txt']],
    ]);
  });

  it('hands folders over in the walk order, empty ones included (left together, in the order entered), what is open at the end', () => {
    const parts = cut('', ['a.txt', 'A/', 'A/1.txt', 'A/empty/', 'B/', 'B/2.txt'], 100, 'walk');
    assert.deepEqual(view(parts), [
      ['A', null, null, ['A/1.txt']],
      ['A/empty', null, null, []],
      ['', null, null, ['a.txt']],
      ['B', null, null, ['B/2.txt']],
    ]);
  });

  it('cuts a large folder into parts whose ranges follow each other, the last one open-ended', () => {
    const names = Array.from({ length: 7 }, (_, i) => `f/n${i}.txt`);
    const parts = cut('f', names, 3, 'keys');
    assert.deepEqual(view(parts), [
      ['f', null, 'f/n2.txt', ['f/n0.txt', 'f/n1.txt', 'f/n2.txt']],
      ['f', 'f/n2.txt', 'f/n5.txt', ['f/n3.txt', 'f/n4.txt', 'f/n5.txt']],
      ['f', 'f/n5.txt', null, ['f/n6.txt']],
    ]);
  });

  it('loses no file and hands every folder over exactly once', () => {
    const listing: string[] = [];
    for (let a = 0; a < 4; a++) for (let b = 0; b < 3; b++) for (let n = 0; n < 5; n++) listing.push(`r/${a}/${b}/${n}.txt`);
    listing.sort();
    const parts = cut('r', listing, 2, 'keys');
    assert.deepEqual(parts.flatMap((p) => p.entries.map((e) => e.rel)).sort(), listing);
    const complete = parts.filter((p) => p.upTo === null).map((p) => p.folder);
    assert.equal(new Set(complete).size, complete.length);
    assert.equal(complete.length, 1 + 4 + 12);
  });
});
