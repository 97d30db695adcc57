/**
 * The personal-data patterns are tried only where one look over the text says a value can start
 * (src/pii/detectors.ts). That must find exactly what a scan of every offset finds: the same
 * values at the same places, for every kind, in texts dense with look-alikes, separators and
 * case mappings that change a string's length.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FINDERS, lookOver } from '../../src/pii/detectors.ts';

const PIECES = [
  'NL91ABNA0417164300', 'NL91 ABNA 0417 1643 00', 'DE89370400440532013000', 'NL91ABNA0417164301', 'xNL91ABNA0417164300',
  '4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111', '3782 822463 10005', '5555555555554444',
  '111222333', '123456782', '123.456.782', '123 456 782', '1234.56.782', '0612345678', '06-12345678', '+31 6 12345678',
  '0031 20 123 4567', '(020) 123 4567', '+44 20 7946 0958', 'jan@example.nl', 'x..y@z.nl', 'geboren op 12 maart 1980',
  'Geboortedatum: 01-02-1975', 'date of birth 1990-05-17', 'DOB: March 12, 1980', 'd.o.b. 3/4/1966', 'born on 31-12-1999',
  'geb. datum 29-02-2001', 'İstanbul', 'gebruik', 'date', 'klant', '2024', '12', '0', '00', '+', '(', '(0', 'NL', '€ 1.234,56',
  '31-12-2024', '1', '99', '123', '1234', '12345678901234',
  // Addresses that share characters, start with a dot, run on into a second @, or have a local part too long.
  'a@b.com@c.nl', '.jan@x.nl', 'jan.@x.nl', 'x@y', '@', 'p%q+r@s-t.example.com', `${'k'.repeat(64)}@x.nl`, `${'k'.repeat(65)}@x.nl`,
  // Birth keywords overlapping each other or a word.
  'gebirth date 01-02-1975', 'd.o.born on 12-1-1980', 'GEBOREN 1-1-1950', 'dateofbirth 1-1-1950',
];
const SEPARATORS = [' ', ' ', '', '\n', '. ', ', ', '-', '\f', '+', '(', ')', ':', '0'];

describe('personal data: trying patterns only where a value can start', () => {
  it('finds what a scan of every offset finds, for every kind', () => {
    let s = 11;
    const next = (n: number) => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) % n;
    };
    const found: Record<string, number> = {};
    for (let t = 0; t < 3000; t++) {
      let text = '';
      for (let i = 1 + next(30); i > 0; i--) text += PIECES[next(PIECES.length)]! + SEPARATORS[next(SEPARATORS.length)]!;
      const look = lookOver(text);
      for (const f of FINDERS) {
        const everywhere = f.find(text, undefined);
        assert.deepEqual(f.find(text, f.starts(text, look)), everywhere, `${f.kind} in ${JSON.stringify(text)}`);
        found[f.kind] = (found[f.kind] ?? 0) + everywhere.length;
      }
    }
    for (const f of FINDERS) assert.ok((found[f.kind] ?? 0) > 100, `the texts hold values of kind ${f.kind}`);
  });

  it('finds every digit run, wherever the first digit is and whichever digits the text holds', () => {
    const runsByPattern = (text: string) => [...text.matchAll(/\d+/g)].flatMap((m) => [m.index, m.index + m[0].length]);
    const texts = ['', 'geen cijfers', '7', 'a9', '9a', 'x 0 y', 'één ٣٤٥ ２０２４', `${'woord '.repeat(500)}1999`, '5 then 0 then 5', '12a34 56'];
    for (let d = 0; d < 10; d++) texts.push(`only ${String(d).repeat(d + 1)} and ${d}`, `${d}${'x'.repeat(d)}${(d + 5) % 10}`);
    for (const text of texts) assert.deepEqual(lookOver(text).runs, runsByPattern(text), JSON.stringify(text));
  });
});
