import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvePartName } from '../../src/extract/opc.ts';
import { attrOf, attrsOf } from '../../src/extract/xml-scan.ts';

/** resolvePartName before its fast path for plain names, kept as the reference. */
function referenceResolve(baseDir: string, target: string): string {
  let t = target;
  try {
    t = decodeURIComponent(target);
  } catch {
    t = target;
  }
  const segments = t.startsWith('/') ? [] : baseDir.split('/').filter(Boolean);
  for (const seg of t.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  return segments.join('/');
}

describe('relationship targets', () => {
  it('resolve exactly as before, plain names or not', () => {
    const dirs = ['', 'word', 'word/sub', 'a//b', '/word', 'word/', '..', 'x/.'];
    const pieces = ['document.xml', 'media', '.', '..', '', 'a%20b.xml', '%E0%A4%A', 'x.', '.hidden', 'a..b'];
    for (const dir of dirs) {
      for (const a of pieces) {
        for (const b of pieces) {
          for (const target of [a, `${a}/${b}`, `/${a}/${b}`, `${a}/${b}/`, `${a}//${b}`]) {
            assert.equal(resolvePartName(dir, target), referenceResolve(dir, target), JSON.stringify([dir, target]));
          }
        }
      }
    }
  });
});

describe('attrsOf', () => {
  it('gives what attrOf gives for each name, first occurrence first', () => {
    const tags = [
      '<Relationship Id="rId1" Type="http://x/officeDocument" Target="word/document.xml"/>',
      "<Relationship Target='t&amp;1' Id=\"a\" TargetMode=\"External\" r:Id=\"b\"/>",
      '<x:Rel x:Id = "1" Id="2" Type="a>b" Target="" />',
      '<Relationship/>',
    ];
    const names = ['Id', 'Type', 'Target', 'TargetMode'];
    for (const tag of tags) assert.deepEqual(attrsOf(tag, names), names.map((n) => attrOf(tag, n)), tag);
  });
});
