import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { AppError } from '../../src/domain/errors.ts';
import { descendantRange, fileMtime, isWithin, normalizeRelativePath, parentOf } from '../../src/domain/paths.ts';
import { walkFiles } from '../../src/services/walk.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.code : 'other';
  }
  return 'accepted';
};

describe('normalizeRelativePath', () => {
  it('keeps ordinary folder paths, with spaces, unicode and nested folders', () => {
    assert.equal(normalizeRelativePath('Company A/Project 1'), 'Company A/Project 1');
    assert.equal(normalizeRelativePath('Gemeente Düsseldorf/Bestuur – 2024'), 'Gemeente Düsseldorf/Bestuur – 2024');
    assert.equal(normalizeRelativePath('Company A/'), 'Company A');
  });

  it('treats "", "." and "/" as the root', () => {
    for (const root of ['', '.', '/']) assert.equal(normalizeRelativePath(root), '');
  });

  it('refuses traversal, absolute paths, backslashes and NUL bytes', () => {
    for (const bad of ['..', '../etc', 'a/../../etc', 'a/..', '/etc/passwd', '//etc', 'C:/Windows', 'a\\..\\b', '..\\x', 'a\0b']) {
      assert.equal(code(() => normalizeRelativePath(bad)), 'path_outside_root', bad);
    }
  });

  it('refuses empty and "." segments, control characters and overlong names', () => {
    for (const bad of ['a//b', './a', 'a/./b', 'a\nb', 'x'.repeat(256), `${'a/'.repeat(2100)}b`]) {
      assert.equal(code(() => normalizeRelativePath(bad)), 'bad_request', bad.slice(0, 20));
    }
  });

  it('does not decode percent-escapes a second time', () => {
    // The router decodes once; "%2e%2e" arriving here is a literal folder name, not "..".
    assert.equal(normalizeRelativePath('%2e%2e'), '%2e%2e');
  });
});

describe('descendantRange', () => {
  it('selects exactly the paths under a folder, never a sibling whose name extends it', () => {
    const range = descendantRange('Company A');
    assert.ok(range);
    const inside = (p: string) => p >= range.lower && p < range.upper;
    assert.ok(inside('Company A/x.docx'));
    assert.ok(inside('Company A/Project 1/y.docx'));
    for (const outside of ['Company A2/x.docx', 'Company AB/x.docx', 'Company A', 'Company B/x.docx', 'Company A.docx', 'Company A-old/x']) {
      assert.ok(!inside(outside), outside);
      assert.ok(!isWithin('Company A', outside) || outside === 'Company A', outside);
    }
  });

  it('has no range for the root', () => {
    assert.equal(descendantRange(''), null);
    assert.ok(isWithin('', 'anything/at/all'));
  });

  it('parentOf gives the folder of a path', () => {
    assert.equal(parentOf('a/b/c.docx'), 'a/b');
    assert.equal(parentOf('c.docx'), '');
  });
});

describe('fileMtime', () => {
  it('truncates to the millisecond, where Stats.mtime rounds: the walk and the extraction agree', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'docsight-mtime-'));
    try {
      const file = path.join(dir, 'a.txt');
      await writeFile(file, 'x');
      await utimes(file, 1_700_000_000.0007, 1_700_000_000.0007);
      const st = await stat(file);
      assert.equal(st.mtime.getTime(), 1_700_000_000_001, 'Node rounds .7 ms up (the reason for one rule)');
      assert.equal(fileMtime(st).getTime(), 1_700_000_000_000);
      const walked = [];
      for await (const f of walkFiles(dir, '', () => false, {})) walked.push(f);
      assert.equal(walked[0]?.mtime.getTime(), fileMtime(st).getTime());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
