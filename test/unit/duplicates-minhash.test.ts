import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { versionHints } from '../../src/domain/versions.ts';
import { estimateSimilarity, minhashSignature, SIGNATURE_LENGTH } from '../../src/extract/minhash.ts';

const VOCABULARY = (
  'de het een offerte klant levering prijs project uren tarief week maand jaar contract afspraak werk ' +
  'bouw dak gevel kozijn schilder materiaal planning oplevering garantie factuur betaling termijn btw ' +
  'akkoord handtekening datum adres gemeente vergunning tekening ontwerp advies controle kwaliteit'
).split(' ');

/** Deterministic text: `paragraphs` paragraphs of `words` words drawn with a seeded generator. */
function text(seed: number, paragraphs = 10, words = 100): string[] {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % VOCABULARY.length;
  };
  return Array.from({ length: paragraphs }, () => Array.from({ length: words }, () => VOCABULARY[next()]!).join(' '));
}

describe('MinHash signatures', () => {
  const original = text(42);

  it('gives identical texts similarity 1, whatever the spacing and case', () => {
    const a = minhashSignature(original.join('\n\n'))!;
    const b = minhashSignature(original.join('\n').toUpperCase())!;
    assert.equal(a.length, SIGNATURE_LENGTH);
    assert.equal(estimateSimilarity(a, b), 1);
  });

  it('keeps a one-paragraph edit of a two-page text at 0.8 or more', () => {
    const edited = [...original];
    const words = edited[4]!.split(' ');
    words.splice(30, 4, 'na', 'overleg', 'aangepast', 'bedrag');
    words.splice(70, 0, 'inclusief', 'meerwerk', 'zoals', 'besproken', 'op', 'de', 'bouwplaats');
    edited[4] = words.join(' ');
    const s = estimateSimilarity(minhashSignature(original.join('\n'))!, minhashSignature(edited.join('\n'))!);
    assert.ok(s >= 0.8 && s < 1, `similarity ${s}`);
  });

  it('keeps unrelated texts under 0.3', () => {
    const s = estimateSimilarity(minhashSignature(original.join('\n'))!, minhashSignature(text(7).join('\n'))!);
    assert.ok(s < 0.3, `similarity ${s}`);
  });

  it('is deterministic: the same text gives the same values in every run', () => {
    const sig = minhashSignature('een twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien vijftien zestien zeventien achttien negentien twintig')!;
    assert.deepEqual(sig, minhashSignature('een twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien vijftien zestien zeventien achttien negentien twintig'));
    // Pinned values: a change of the hash family or the shingling must be deliberate (stored signatures then need re-extraction).
    assert.deepEqual(sig.slice(0, 4), PINNED);
  });

  it('skips texts too short to say anything', () => {
    assert.equal(minhashSignature('Offerte dakrenovatie'), undefined);
    assert.equal(minhashSignature(''), undefined);
  });
});

const PINNED = [4177538838, 3670586725, 3163634612, 2656682499];

describe('version words in file names', () => {
  const cases: [string, string[]][] = [
    ['Offerte.docx', []],
    ['Offerte v2.docx', ['v2']],
    ['Offerte_V3.docx', ['v3']],
    ['Offerte versie 4.pdf', ['v4']],
    ['Offerte final.docx', ['final']],
    ['Offerte definitief (kopie).docx', ['final', 'copy']],
    ['Offerte v3 definitief (kopie).docx', ['v3', 'final', 'copy']],
    ['Concept offerte.docx', ['draft']],
    ['Offerte - Kopie.docx', ['copy']],
    ['Copy of Offerte.docx', ['copy']],
    ['Offerte (1).docx', ['copy']],
    ['Offerte (2).docx', ['copy']],
    // Words that merely contain a version word are not one.
    ['Conceptueel ontwerpen.docx', []],
    ['Definities.docx', []],
    ['Kopieerapparaat.docx', []],
    ['Dev2 planning.docx', []],
  ];
  for (const [name, hints] of cases) {
    it(`${name} → ${hints.join(', ') || 'none'}`, () => assert.deepEqual(versionHints(name), hints));
  }
});
